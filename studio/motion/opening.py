"""Who "auto" follows: the person most prominent over the clip's first second, not in its first frame (issue 19).

Someone walking past close to the camera fills the first frame and is gone a few frames later; the dancer the
clip is about is there the whole time. So the people found in a few frames spread over the first second are
linked from sample to sample by their boxes. Those seen in at least half the samples are the clip's people;
among them the one whose prominence (box area × mean keypoint confidence) summed over the samples is highest is
followed: size counts, but only for someone who stays (a passer-by ten times the dancer's size in one frame
would otherwise win).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Samples (frames) taken from the first second, evenly spread, the first frame included.
SAMPLES = 4
#: Two boxes in consecutive samples are one person when their centres are closer than this share of the
#: larger box's size per second between them, plus SAME_PLACE (a brisk walk, and the model's jitter).
REACH_PER_SECOND = 1.5
SAME_PLACE = 0.3

Box = tuple[float, float, float, float]


def sample_frames(fps: float, count: int | None = None) -> list[int]:
    """Frame numbers (0-based, of the selected frames) of the samples over the first second at ``fps``."""
    last = max(0, int(round(fps)) - 1)
    if count is not None:
        last = min(last, count - 1)
    return sorted({int(round(v)) for v in np.linspace(0, last, SAMPLES)})


@dataclass
class Candidate:
    """One person seen over the opening samples: (frame number, box) where seen, and the summed prominence."""

    seen: list[tuple[int, Box]] = field(default_factory=list)
    score: float = 0.0

    def box_near(self, frame: int) -> Box:
        """Their box in the sample nearest to ``frame``."""
        return min(self.seen, key=lambda s: abs(s[0] - frame))[1]


def box_centre(box: Box) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])


def box_size(box: Box) -> float:
    """The box's longer side (at least one pixel): the scale a person's steps are measured in."""
    return max(box[2] - box[0], box[3] - box[1], 1.0)


def link(samples: list[tuple[int, list[tuple[Box, float]]]], fps: float) -> list[Candidate]:
    """People across the samples: per sample (frame number, [(box, prominence)]) -> candidates, best first."""
    candidates: list[Candidate] = []
    for frame, people in samples:
        taken: set[int] = set()
        for box, prominence in sorted(people, key=lambda p: -p[1]):
            best, best_step = None, np.inf
            for k, candidate in enumerate(candidates):
                last_frame, last_box = candidate.seen[-1]
                if k in taken or last_frame == frame:
                    continue
                reach = box_size(last_box) * (SAME_PLACE + REACH_PER_SECOND * (frame - last_frame) / max(fps, 1.0))
                step = float(np.linalg.norm(box_centre(box) - box_centre(last_box)))
                if step <= reach and step < best_step:
                    best, best_step = k, step
            if best is None:
                candidates.append(Candidate())
                best = len(candidates) - 1
            taken.add(best)
            candidates[best].seen.append((frame, box))
            candidates[best].score += prominence
    staying = [c for c in candidates if 2 * len(c.seen) >= len(samples)]
    # the ones who stay first (by prominence), then the rest
    return sorted(staying, key=lambda c: -c.score) + sorted((c for c in candidates if c not in staying),
                                                             key=lambda c: -c.score)
