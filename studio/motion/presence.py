"""Which frames really show a person: plausibility, scene cuts, and short/long gaps (issue 12).

A pose model in video mode keeps "tracking" whatever it last saw: after a cut to a wall or a street it goes on
reporting a person that is not there. So a candidate counts as a person only with enough confident, plausibly
sized keypoints; the tracker is reset at every scene cut (a large change of the frame's colour layout) so it
re-acquires the main person instead of dragging the last one across the cut; and every frame ends up
``detected``, ``held`` (a short gap, ≤ ``hold_seconds``, filled with the nearest real pose) or ``none`` (a
longer stretch without anyone, reported with its frame ranges; the nearest real pose is kept there too so the
clip stays renderable, but nothing downstream treats it as a detection).
"""

from __future__ import annotations

import numpy as np

from studio.motion.types import PoseFrame

DETECTED, HELD, NONE = "detected", "held", "none"
STATUSES = (DETECTED, HELD, NONE)
HOLD_SECONDS = 0.5

#: A confident keypoint for presence: above the drawing threshold by a margin (phantoms score low on most).
CONFIDENT = 0.5
#: Head and upper-body points (nose, neck, shoulders, elbows, hips, eyes, ears); a person shows several.
UPPER_BODY = (0, 1, 2, 3, 5, 6, 8, 11, 14, 15, 16, 17)
MIN_CONFIDENT = 4
#: The person's head-and-shoulders span must be at least this fraction of the frame's short side (a person
#: 150 px tall in a 1768×994 wide shot spans about 60 px).
MIN_SPAN = 0.03


#: Mean person probability of the segmenter along the bones (``segmentation.body_support``) a person needs:
#: real people measured 0.88–1.0 on the montage, blurred-face and back views alike; phantoms on walls and
#: animals 0.0.
MIN_SUPPORT = 0.5


def is_real_person(pose: PoseFrame | None, width: int, height: int, support: float | None = None) -> bool:
    """Enough confident, plausibly placed and sized keypoints, lying on a person's silhouette.

    ``support``: how much the person segmenter agrees (``segmentation.body_support``), None where it was not
    asked. A face found by the face model is evidence enough of a person; no face is no evidence against one
    (blurred, masked, turned away or tiny faces are faces the face model misses).
    """
    if pose is None:
        return False
    body = pose.body
    confident = [i for i in UPPER_BODY if body[i, 2] > CONFIDENT]
    if len(confident) < MIN_CONFIDENT:
        return False
    xy = body[confident, :2]
    inside = (xy[:, 0] >= 0) & (xy[:, 0] <= width) & (xy[:, 1] >= 0) & (xy[:, 1] <= height)
    if inside.sum() < MIN_CONFIDENT:
        return False
    span = float(np.ptp(xy[inside], axis=0).max())
    if span < MIN_SPAN * min(width, height):
        return False
    from studio.motion.head import has_face

    return support is None or support >= MIN_SUPPORT or has_face(pose)


class SceneCuts:
    """Flags a hard cut: the frame's coarse colour layout (16×16 thumbnail) changes far more than motion does."""

    #: Mean absolute difference (0–255) between consecutive thumbnails that counts as a cut. A person moving
    #: in a steady shot changes a 16×16 thumbnail by a few levels; a cut to another scene by tens.
    THRESHOLD = 28.0

    def __init__(self) -> None:
        self._last: np.ndarray | None = None

    def __call__(self, frame_rgb: np.ndarray) -> bool:
        import cv2

        # every 4th pixel first: the 16×16 average barely changes and this costs a sixteenth
        thumb = cv2.resize(frame_rgb[::4, ::4], (16, 16), interpolation=cv2.INTER_AREA).astype(np.float32)
        last, self._last = self._last, thumb
        return last is not None and float(np.abs(thumb - last).mean()) > self.THRESHOLD


def hold_frames(fps: float, stride: int = 1, seconds: float = HOLD_SECONDS) -> int:
    """How many consecutive selected frames a short gap may span (≥ 1 frame)."""
    return max(1, int(round(seconds * fps / max(1, stride))))


def drop_flickers(found: list[PoseFrame | None], max_hold: int) -> list[PoseFrame | None]:
    """Single-frame detections with no other detection within ``max_hold`` frames either side, removed.

    One frame of "person" inside a stretch of nobody is a phantom (nobody walks in and out within a frame);
    a clip whose only detection is that frame keeps it.
    """
    real = [i for i, p in enumerate(found) if p is not None]
    if len(real) < 2:
        return list(found)
    out = list(found)
    for k, i in enumerate(real):
        before = i - real[k - 1] if k > 0 else None
        after = real[k + 1] - i if k + 1 < len(real) else None
        gaps = [g for g in (before, after) if g is not None]
        if all(g > max_hold + 1 for g in gaps):
            out[i] = None
    return out


def fill_gaps(found: list[PoseFrame | None], max_hold: int) -> tuple[list[PoseFrame], list[str]]:
    """Dense poses and a status per frame: gaps of ≤ ``max_hold`` frames ``held``, longer ones ``none``.

    Every gap frame takes the nearest real pose in time (the earlier one on ties). Needs one real pose at least.
    """
    real = [i for i, p in enumerate(found) if p is not None]
    if not real:
        raise ValueError("no real pose to fill the gaps with")
    status = [DETECTED if p is not None else NONE for p in found]
    i = 0
    while i < len(found):
        if found[i] is not None:
            i += 1
            continue
        j = i
        while j < len(found) and found[j] is None:
            j += 1
        if j - i <= max_hold:
            status[i:j] = [HELD] * (j - i)
        i = j
    real_arr = np.asarray(real)
    poses = []
    for k, pose in enumerate(found):
        if pose is None:
            pose = found[int(real_arr[np.abs(real_arr - k).argmin()])]
            assert pose is not None  # (``real`` indexes the frames that have a pose)
        poses.append(pose.copy())
    return poses, status


def frame_ranges(indices: list[int], status: list[str], which: str = NONE) -> list[tuple[int, int]]:
    """(first, last) source frame numbers of each run of ``which`` frames."""
    runs: list[tuple[int, int]] = []
    start = None
    for k, state in enumerate(status + [None]):
        if state == which and start is None:
            start = k
        elif state != which and start is not None:
            runs.append((indices[start], indices[k - 1]))
            start = None
    return runs


def gap_report(indices: list[int], status: list[str]) -> str | None:
    """The long-gap warning ("no person in frames 0–29, 56–75 …"), or None when every gap was short."""
    runs = frame_ranges(indices, status, NONE)
    if not runs:
        return None
    text = ", ".join(f"{a}–{b}" if a != b else f"{a}" for a, b in runs)
    count = status.count(NONE)
    return (f"no person in frames {text} ({count} of {len(status)} frames); the nearest pose is held there: "
            f"trim the clip to the person's shots or continue")
