"""A person seen from behind keeps their own left and right (issue 19).

``pose2sim_static_back_cam02_544x960.mp4`` (tests/data/README.md: BSD-3-Clause, pose2sim's static trial, a view
from behind that is not in the benchmark corpus): the man stands in a T-pose with his back to the camera and his
face unseen. From behind, a person's own right arm, hip and ankle are on the right of the image, so in every frame
each of his right joints must lie right of its left twin; a model that reads the back as a front (or flips a
limb) puts them the other way round. The margins are far from zero (his arms span 310 px, his hips 40 px), so
the test does not hinge on a pixel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from studio.motion import extract_poses

BACK = Path(__file__).resolve().parents[2] / "data" / "pose2sim_static_back_cam02_544x960.mp4"
#: OpenPose-18 (right, left) pairs: shoulders, elbows, wrists, hips, knees, ankles.
PAIRS = {"shoulders": (2, 5), "elbows": (3, 6), "wrists": (4, 7), "hips": (8, 11), "knees": (9, 12), "ankles": (10, 13)}


def test_a_back_view_keeps_the_persons_own_left_and_right():
    clip = extract_poses(BACK, use_cache=False)
    detected = [p for p, s in zip(clip.poses, clip.status, strict=True) if s == "detected"]
    assert len(detected) >= 0.9 * len(clip.poses), clip.status
    for name, (right, left) in PAIRS.items():
        gaps = [float(p.body[right, 0] - p.body[left, 0]) for p in detected]
        assert all(g > 0 for g in gaps), (name, np.round(gaps))
