"""Plain data types for poses and motion, shared by extraction, alignment, rendering and the warp engine.

Coordinates are pixels (x, y) in the frame they belong to, each point with a confidence score in [0, 1];
a missing point has score 0. Body points follow the OpenPose-18 order used by StableAnimator's DWPose
(0 nose, 1 neck, 2 R-shoulder, 3 R-elbow, 4 R-wrist, 5 L-shoulder, 6 L-elbow, 7 L-wrist, 8 R-hip,
9 R-knee, 10 R-ankle, 11 L-hip, 12 L-knee, 13 L-ankle, 14 R-eye, 15 L-eye, 16 R-ear, 17 L-ear), where
"R" is the person's right side. Face: 68 points (iBUG-68 order). Hands: 21 points each (wrist first).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

NUM_BODY = 18
NUM_FACE = 68
NUM_HAND = 21

#: A visible body point has a score above this (StableAnimator's DWPose convention).
VISIBLE = 0.3


def _empty(n: int) -> np.ndarray:
    return np.zeros((n, 3), dtype=np.float32)


@dataclass
class PoseFrame:
    """One person's keypoints in one frame: arrays of shape [N, 3] holding (x, y, score)."""

    body: np.ndarray = field(default_factory=lambda: _empty(NUM_BODY))
    face: np.ndarray = field(default_factory=lambda: _empty(NUM_FACE))
    left_hand: np.ndarray = field(default_factory=lambda: _empty(NUM_HAND))
    right_hand: np.ndarray = field(default_factory=lambda: _empty(NUM_HAND))
    #: (x0, y0, x1, y1) in pixels, inclusive, or None when no face was found.
    face_box: tuple[float, float, float, float] | None = None
    #: The body model's own nose, eyes and ears ([5, 3]) where ``head.head_from_face`` moved them onto the face,
    #: so a face found to be someone else's can be taken off again (``head.without_face``); not written out.
    own_head: np.ndarray | None = field(default=None, repr=False, compare=False)

    def copy(self) -> PoseFrame:
        return PoseFrame(
            self.body.copy(), self.face.copy(), self.left_hand.copy(), self.right_hand.copy(),
            self.face_box,  # (a tuple: immutable, shared safely)
            None if self.own_head is None else self.own_head.copy(),
        )

    @property
    def has_person(self) -> bool:
        return bool((self.body[:, 2] > VISIBLE).any())

    def to_json(self) -> dict:
        def pts(a: np.ndarray) -> list[list[float]]:
            return [[round(float(x), 3), round(float(y), 3), round(float(s), 4)] for x, y, s in a]

        return {
            "body": pts(self.body),
            "face": pts(self.face),
            "left_hand": pts(self.left_hand),
            "right_hand": pts(self.right_hand),
            "face_box": None if self.face_box is None else [round(float(v), 2) for v in self.face_box],
        }

    @classmethod
    def from_json(cls, data: dict) -> PoseFrame:
        def arr(key: str, n: int) -> np.ndarray:
            a = np.asarray(data.get(key) or np.zeros((n, 3)), dtype=np.float32)
            if a.shape != (n, 3):
                raise ValueError(f"pose field {key!r} must have shape [{n}, 3], got {list(a.shape)}")
            return a

        box = data.get("face_box")
        if box is not None and len(box) != 4:
            raise ValueError(f"pose field 'face_box' must hold 4 numbers (x0, y0, x1, y1), got {len(box)}")
        return cls(
            arr("body", NUM_BODY), arr("face", NUM_FACE), arr("left_hand", NUM_HAND),
            arr("right_hand", NUM_HAND),
            None if box is None else (float(box[0]), float(box[1]), float(box[2]), float(box[3])),
        )
