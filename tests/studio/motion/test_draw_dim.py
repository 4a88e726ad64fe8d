"""The limbs' dimming (DWPose's ``(canvas * 0.6).astype(uint8)``) done on the limbs' box only gives the same image."""

from __future__ import annotations

import cv2
import numpy as np

from studio.motion.draw import LIMB_DIM, dim_limbs


def test_dimming_the_limbs_box_equals_dimming_the_whole_canvas():
    rng = np.random.default_rng(0)
    for _ in range(50):
        canvas = np.zeros((300, 200, 3), np.uint8)
        polygons = []
        for _ in range(rng.integers(0, 6)):
            # limbs anywhere, some reaching past the canvas's edges
            centre = (int(rng.integers(-40, 240)), int(rng.integers(-40, 340)))
            axes = (int(rng.integers(0, 120)), 4)
            polygon = cv2.ellipse2Poly(centre, axes, int(rng.integers(0, 360)), 0, 360, 1)
            cv2.fillConvexPoly(canvas, polygon, [int(v) for v in rng.integers(0, 256, 3)])
            polygons.append(polygon)
        expected = (canvas * LIMB_DIM).astype(np.uint8)
        dim_limbs(canvas, polygons)
        np.testing.assert_array_equal(canvas, expected)
