"""Background modes and the frame finishing chain every engine's frames go through before export.

    engine frames → person matte (``frame_matte``) → colour match (``colour``) → background mode → exporter

- ``generated``: the engine's frames as they are (with the colour match off, the chain is not even entered,
  so the output is bit-exact with a render that has no such chain);
- ``photo``: each frame's person, cut out by its matte, over the photo's clean plate (the photo with its own
  person removed and the hole filled, as the warp engine builds it): outside the person the output *is* the
  photo and does not move;
- ``transparent``: the frame with its matte as an alpha channel (RGBA, straight alpha) for an editor.

The chain is a generator over any frame sequence, so it runs after an engine's tiles are joined and after
frames are interpolated; it holds a handful of frames (the matte's and the colour match's look-ahead).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator, Iterable, Iterator, Sequence

import numpy as np

from studio.compose.colour import ColourMatcher, ColourView
from studio.compose.frame_matte import FrameMatter
from studio.motion.types import PoseFrame
from studio.request.settings import BACKGROUND_MODES, COLOR_MATCH_MODES


def composite(frame: np.ndarray, matte: np.ndarray, plate: np.ndarray) -> np.ndarray:
    """``frame``'s person (``matte`` float [H, W] in [0, 1]) over ``plate``; RGB uint8. Where the matte is
    exactly 0 the result is exactly ``plate``."""
    a = np.clip(matte, 0.0, 1.0).astype(np.float32)[..., None]
    out = frame.astype(np.float32) * a + plate.astype(np.float32) * (1.0 - a)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def with_alpha(frame: np.ndarray, matte: np.ndarray) -> np.ndarray:
    """RGBA uint8: ``frame``'s colours and ``matte`` (rounded to 0…255) as straight alpha."""
    alpha = np.clip(matte * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(np.dstack([frame, alpha]))


def photo_layers(reference: np.ndarray, pose: PoseFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """The reference photo's person matte and clean plate, built as the warp engine builds them (the same
    segmentation, skeleton fallback and fill), so a warp render's background and the plate agree."""
    from studio.warp.matte import fill_background, person_matte
    from studio.warp.warper import WarpReference

    if pose is not None and pose.has_person:
        ref = WarpReference.prepare(reference, pose)
        return ref.matte, ref.background
    matte = person_matte(reference)
    return matte, fill_background(reference, matte)


def _pair(stage: Iterator, pending: deque) -> Iterator[tuple]:
    """Pairs each output of a stage that yields one result per input, in order, with the input it came from."""
    for result in stage:
        yield pending.popleft(), result


def finish_frames(frames: Iterable[np.ndarray], poses: Sequence[PoseFrame | None], *, reference: np.ndarray,
                  reference_pose: PoseFrame | None, background: str = "generated", color_match: str = "off",
                  box: tuple[int, int, int, int] | None = None) -> Generator[np.ndarray, None, None]:
    """The finished frames: RGB uint8, or RGBA for ``transparent``. ``poses[i]`` is frame i's skeleton (None
    or missing for a frame without one, such as an interpolated frame); ``box`` is the photo's part of a
    padded frame (the colour statistics look only there)."""
    if background not in BACKGROUND_MODES:
        raise ValueError(f"background {background!r} is unknown; choose one of {', '.join(BACKGROUND_MODES)}")
    if color_match not in COLOR_MATCH_MODES:
        raise ValueError(f"color match {color_match!r} is unknown; choose one of {', '.join(COLOR_MATCH_MODES)}")
    if background == "generated" and color_match == "off":
        yield from frames
        return
    ref_matte, plate = photo_layers(reference, reference_pose)

    pending: deque = deque()

    def with_poses() -> Iterator[tuple[np.ndarray, PoseFrame | None]]:
        for index, frame in enumerate(frames):
            pose = poses[index] if index < len(poses) else None
            pending.append((frame, pose))
            yield frame, pose

    matted = ((frame, matte, pose) for (frame, pose), matte in _pair(FrameMatter().run(with_poses()), pending))
    if color_match != "off":
        target = (ColourView.of(reference, ref_matte, reference_pose, box) if color_match == "reference"
                  else None)
        held: deque = deque()

        def remember(items):
            for item in items:
                held.append(item[1])
                yield item

        matched = ColourMatcher(target, box=box).run(remember(matted))
        matted = ((frame, matte, None) for matte, frame in _pair(matched, held))
    for frame, matte, _pose in matted:
        if background == "photo":
            yield composite(frame, matte, plate)
        elif background == "transparent":
            yield with_alpha(frame, matte)
        else:
            yield frame
