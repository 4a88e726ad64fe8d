"""Limbs drawn in their dimmed colours give DWPose's image: limbs drawn at full colour, then the whole canvas
dimmed with ``(canvas * 0.6).astype(uint8)`` (the original's way, too slow for every frame of a clip)."""

from __future__ import annotations

import math

import cv2
import numpy as np

from studio.motion.draw import COLORS, DRAW_THRESHOLD, LIMB_DIM, LIMB_HALF_WIDTH, LIMBS, _draw_body


def _dwpose_limbs(canvas: np.ndarray, body: np.ndarray) -> None:
    """The original's order: every limb at full colour, then the whole canvas dimmed (joints left out)."""
    for i, (a, b) in enumerate(LIMBS):
        if body[a, 2] < DRAW_THRESHOLD or body[b, 2] < DRAW_THRESHOLD:
            continue
        (xa, ya), (xb, yb) = body[a, :2], body[b, :2]
        polygon = cv2.ellipse2Poly((int((xa + xb) / 2), int((ya + yb) / 2)),
                                   (int(math.hypot(xa - xb, ya - yb) / 2), LIMB_HALF_WIDTH),
                                   int(math.degrees(math.atan2(ya - yb, xa - xb))), 0, 360, 1)
        cv2.fillConvexPoly(canvas, polygon, [int(float(c) * body[a, 2] * body[b, 2]) for c in COLORS[i]])
    canvas[:] = (canvas * LIMB_DIM).astype(np.uint8)


def test_limbs_in_dimmed_colours_equal_the_dimmed_canvas():
    rng = np.random.default_rng(0)
    size = 400  # canvas pixels = pose pixels: no scaling between them
    for _ in range(40):
        body = np.zeros((18, 3), np.float32)
        body[:, :2] = rng.uniform(-60, size + 60, (18, 2))  # limbs crossing each other and the canvas's edges
        body[:, 2] = rng.choice([0.1, 0.5, 0.8, 1.0, 1.3], 18)  # hidden, partly sure, sure, above 1
        expected = np.zeros((size, size, 3), np.uint8)
        _dwpose_limbs(expected, body)
        drawn = np.zeros((size, size, 3), np.uint8)
        _draw_body(drawn, body, size, size)
        # the joints' dots are drawn after the dimming, at full colour: compare away from them
        away = np.ones((size, size), bool)
        for x, y, score in body:
            if score >= DRAW_THRESHOLD:
                cv2.circle(away.view(np.uint8), (int(x), int(y)), 6, 0, thickness=-1)
        np.testing.assert_array_equal(drawn[away], expected[away])
