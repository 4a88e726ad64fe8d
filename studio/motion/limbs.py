"""Bone lengths over time: a person's limbs keep their length from frame to frame, a phantom's do not.

Pose models hallucinating a person on a wall or in foliage produce skeletons whose bones stretch and shrink
from one frame to the next; a real person's upper arms, forearms, thighs and shins keep their length (within
foreshortening). The followed person's recent lengths are remembered and a new pose is compared with them.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from studio.motion.types import PoseFrame

#: Bones (OpenPose-18): upper arms, forearms, thighs, shins, torso sides, shoulders and hips.
BONES = ((2, 3), (3, 4), (5, 6), (6, 7), (8, 9), (9, 10), (11, 12), (12, 13), (2, 8), (5, 11), (2, 5), (8, 11))
SCORE = 0.5
#: How far the median bone may be from its remembered length (foreshortening moves single bones more, the
#: median of all visible bones little), and how many bones must be visible to judge.
TOLERANCE = 0.3
MIN_BONES = 4
MEMORY = 15


def bone_lengths(pose: PoseFrame) -> np.ndarray:
    """Length of each bone in pixels, NaN where one of its ends is not confidently seen."""
    body = pose.body
    out = np.full(len(BONES), np.nan)
    for k, (a, b) in enumerate(BONES):
        if body[a, 2] > SCORE and body[b, 2] > SCORE:
            out[k] = float(np.linalg.norm(body[a, :2] - body[b, :2]))
    return out


def median_of_seen(lengths: np.ndarray) -> np.ndarray:
    """Per bone (column) the median of its non-NaN lengths, NaN where it was never seen: ``np.nanmedian``'s
    values without its masked-array machinery (a millisecond a frame, more than the rest of this module)."""
    ordered = np.sort(lengths, axis=0)  # NaN sorts last
    seen = np.count_nonzero(~np.isnan(lengths), axis=0)
    columns = np.arange(lengths.shape[1])
    low, high = ordered[np.maximum(seen - 1, 0) // 2, columns], ordered[seen // 2, columns]
    return np.where(seen > 0, (low + high) / 2, np.nan)


class LimbMemory:
    """The followed person's bone lengths over their last ``MEMORY`` accepted frames."""

    def __init__(self) -> None:
        self._recent: deque[np.ndarray] = deque(maxlen=MEMORY)

    def clear(self) -> None:
        self._recent.clear()

    def remember(self, pose: PoseFrame) -> None:
        self._recent.append(bone_lengths(pose))

    def consistent(self, pose: PoseFrame) -> bool:
        """The pose's bones have the person's lengths (False with nothing remembered or too little seen)."""
        if not self._recent:
            return False
        with np.errstate(all="ignore"):  # a bone never seen: its median is NaN, skipped below
            ratio = bone_lengths(pose) / median_of_seen(np.stack(self._recent))
        ratio = ratio[np.isfinite(ratio) & (ratio > 0)]
        return len(ratio) >= MIN_BONES and abs(float(np.median(ratio)) - 1.0) <= TOLERANCE
