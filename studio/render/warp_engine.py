"""The ``warp`` render engine: the instant preview that needs no weights, no GPU and no torch.

It moves the reference photo's person along the aligned driving skeleton (``studio.warp``) and yields the
frames to the same exporter as the diffusion engine. The renderer records the engine name ("warp") in the
sidecar and the mp4 metadata, so a warp preview is never mistaken for the model's output.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np

from studio.errors import InputError
from studio.motion.types import PoseFrame
from studio.render.engine import RenderInputs
from studio.system.progress import CancelToken, Progress, ProgressCallback
from studio.warp.warper import PersonWarper, WarpReference, WarpSettings

#: The per-frame phase: the warp's counterpart of the diffusion engine's denoising.
PHASE = "denoise"
#: The frame rate the temporal smoothing assumes when the renderer does not say (``inputs.motion_fps``).
NOMINAL_FPS = 25.0


def _digest(image: np.ndarray, pose: PoseFrame) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(str(image.shape).encode())
    h.update(np.ascontiguousarray(image).tobytes())
    h.update(np.ascontiguousarray(pose.body, np.float32).tobytes())
    h.update(np.ascontiguousarray(pose.face, np.float32).tobytes())
    return h.hexdigest()


class WarpEngine:
    """``RenderEngine`` "warp". Keeps the last few prepared references, so re-rendering a preview after a
    nudge or a trim change skips the matte and the background fill."""

    name = "warp"

    def __init__(self, settings: WarpSettings | None = None, cache_size: int = 4) -> None:
        self.settings = settings or WarpSettings()
        self._cache: OrderedDict[str, WarpReference] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()  # the window's preview worker and the queue may share one engine

    def prepare(self, image: np.ndarray, pose: PoseFrame | None) -> WarpReference:
        """The matte and filled background for this photo and pose (cached)."""
        if pose is None or not pose.has_person:
            return WarpReference.prepare(image, pose)  # raises the user-facing InputError
        key = _digest(image, pose)
        with self._lock:
            ref = self._cache.get(key)
            if ref is not None:
                self._cache.move_to_end(key)
                return ref
        ref = WarpReference.prepare(image, pose)
        ref.layers(self.settings.layers)  # built once here, so cached with the reference
        with self._lock:
            self._cache[key] = ref
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return ref

    def render(self, inputs: RenderInputs, report: ProgressCallback, cancel: CancelToken) -> Iterator[np.ndarray]:
        """Yield one RGB uint8 [height, width, 3] frame per pose in ``inputs.poses``."""
        image = np.asarray(inputs.reference)
        if image.dtype != np.uint8 or image.shape != (inputs.height, inputs.width, 3):
            raise InputError(
                f"the warp engine needs the reference photo as RGB uint8 {inputs.width}×{inputs.height}; "
                f"got shape {image.shape} dtype {image.dtype}"
            )
        total = inputs.num_frames
        if total and not any(p is not None and p.has_person for p in inputs.poses):
            raise InputError(
                "the driving motion has no body keypoints in any frame (for example a folder of skeleton "
                "images), so the warp engine cannot move the person; use a video or an extract-motion folder"
            )
        cancel.raise_if_cancelled()
        report(Progress("load", 0, 1, "person matte and background"))
        pose = inputs.reference_pose
        if pose is None:
            pose = _detect_reference_pose(image)
        reference = self.prepare(image, pose)
        # the renderer's list: shown to the user and saved in the sidecar
        inputs.warnings.extend(n for n in reference.notes if n not in inputs.warnings)
        report(Progress("load", 1, 1, "person matte and background"))

        settings = self.settings
        overrides: dict[str, Any] = inputs.warp_overrides  # (each to its setting's own type)
        if overrides:
            try:
                settings = replace(settings, **overrides)
            except TypeError:
                known = sorted(WarpSettings.__dataclass_fields__)
                raise InputError(f"unknown warp setting in {sorted(overrides)}; known: {known}") from None
        # The smoothing is tuned per driving frame. ``inputs.fps`` is the diffusion model's micro-conditioning
        # (7 by default), not the motion's frame rate, so it is not used; a renderer may pass the real one.
        fps = float(inputs.motion_fps or NOMINAL_FPS)
        warper = PersonWarper(reference, fps=fps, settings=settings)
        report(Progress(PHASE, 0, total, "warping"))
        for i, driving in enumerate(inputs.poses):
            cancel.raise_if_cancelled()
            frame = warper.warp(driving)
            report(Progress(PHASE, i + 1, total, "warping"))
            yield frame


def _detect_reference_pose(image: np.ndarray) -> PoseFrame | None:
    """The reference's pose when the renderer did not provide one (motion given as skeleton images)."""
    from studio.motion import detect_pose

    return detect_pose(image, backend="mediapipe")
