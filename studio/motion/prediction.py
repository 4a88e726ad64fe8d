"""Where the followed person's body can be in the next frame: a torso does not jump (issue 19).

A single-person pose model shown two people who overlap (one walking past close in front of or behind the
other) returns one skeleton, and sometimes a chimera: a shoulder and an arm on one person, the hips between
them. It still lies near the followed person's box, its clothes mix both people's and its bones keep their
lengths, so box continuity, appearance and limb lengths all let it through. What it cannot fake is motion: the
centre of a real torso moves on from where it was at the speed it had, give or take what muscles can
accelerate it by in a frame and the pose model's jitter. A pose whose torso lands further from that prediction
is not the followed person's body.

Measured on the corpus (``bench/motion_real.py``, deviation from the constant-velocity prediction in torso
lengths, one frame): a person alone 0.01 (median) to 0.035 (largest) at 60 fps; a chimera of two crossing
people 0.2–0.6.
"""

from __future__ import annotations

import numpy as np

from studio.motion.types import PoseFrame

#: Shoulders and hips (OpenPose-18): the torso whose centre is predicted; nose, eyes and ears: the head.
TORSO = (2, 5, 8, 11)
HEAD = (0, 14, 15, 16, 17)
SCORE = 0.3
#: The pose model's jitter of the torso centre: this share of the torso plus JITTER_PX pixels (a small figure's
#: keypoints wobble by a few pixels whatever its size; a big one's by a few per cent of its torso).
JITTER = 0.1
JITTER_PX = 10.0
#: How fast a torso can change speed, in torso lengths per second² (~25 m/s², a landing or a sharp dance move
#: for a 0.5 m torso); over a gap of t seconds the prediction widens by ACCELERATION·t²/2 torsos.
ACCELERATION = 50.0
#: Kept poses further back than this say nothing about the speed now.
MAX_AGE_SECONDS = 0.5


def torso_centre(pose: PoseFrame) -> np.ndarray | None:
    """Mean of the confidently seen shoulders and hips (None with fewer than two)."""
    points = pose.body[list(TORSO)]
    seen = points[:, 2] > SCORE
    return points[seen, :2].mean(0) if seen.sum() >= 2 else None


def head_centre(pose: PoseFrame) -> np.ndarray | None:
    """Mean of the confidently seen nose, eyes and ears (None when none is)."""
    points = pose.body[list(HEAD)]
    seen = points[:, 2] > SCORE
    return points[seen, :2].mean(0) if seen.any() else None


def torso_length(pose: PoseFrame) -> float | None:
    """Mid-shoulders to mid-hips in pixels, None unless all four are confidently seen."""
    points = pose.body[list(TORSO)]
    if (points[:, 2] <= SCORE).any():
        return None
    return float(np.linalg.norm(points[:2, :2].mean(0) - points[2:, :2].mean(0)))


class TorsoMotion:
    """The followed person's recent torso centres (frame number, centre) and the torso's size in pixels."""

    def __init__(self, fps: float) -> None:
        self.fps = max(1.0, float(fps))
        self._track: list[tuple[int, np.ndarray]] = []
        self._torso: float | None = None

    @property
    def torso(self) -> float | None:
        """The followed person's torso length in pixels (smoothed), None before it was seen whole."""
        return self._torso

    def clear(self) -> None:
        self._track, self._torso = [], None

    def remember(self, frame: int, pose: PoseFrame) -> None:
        centre = torso_centre(pose)
        if centre is None:
            return
        self._track = (self._track + [(frame, centre)])[-2:]
        length = torso_length(pose)
        if length is not None:
            self._torso = length if self._torso is None else 0.8 * self._torso + 0.2 * length

    def predicted(self, frame: int) -> np.ndarray | None:
        """Where the torso centre should be at ``frame`` (constant velocity), None when nothing recent is known."""
        if not self._track or (frame - self._track[-1][0]) / self.fps > MAX_AGE_SECONDS:
            return None
        last_frame, last = self._track[-1]
        if len(self._track) == 1:
            return last
        first_frame, first = self._track[0]
        velocity = (last - first) / max(1, last_frame - first_frame)
        return last + velocity * (frame - last_frame)

    def shift(self, frame: int) -> tuple[float, float]:
        """How far the torso centre should have moved since it was last seen (0, 0 when unknown)."""
        expected = self.predicted(frame)
        if expected is None:
            return 0.0, 0.0
        dx, dy = expected - self._track[-1][1]
        return float(dx), float(dy)

    def plausible(self, frame: int, pose: PoseFrame) -> bool:
        """The pose's torso lies where the followed person's can be by ``frame`` (True when nothing says not)."""
        expected, centre = self.predicted(frame), torso_centre(pose)
        if expected is None or centre is None or self._torso is None:
            return True
        seconds = (frame - self._track[-1][0]) / self.fps
        reach = self._torso * (JITTER + ACCELERATION * seconds ** 2 / 2) + JITTER_PX
        return float(np.linalg.norm(centre - expected)) <= reach
