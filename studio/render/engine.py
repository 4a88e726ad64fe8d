"""The interface every render engine implements, and the registry that finds them by name.

An engine turns prepared inputs into output frames. It does not read files or write the video: the
renderer (``studio.render``) prepares ``RenderInputs`` from a ``RenderRequest`` (load, orient, crop/pad to
the model size, extract and align motion, embed the face) and streams the frames an engine yields into
the exporter. Two engines exist: ``diffusion`` (StableAnimator, needs the weights) and ``warp`` (moves the
photo's person along the skeleton; no weights, CPU, seconds).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from studio.motion.types import PoseFrame
from studio.request.render_request import RenderRequest
from studio.system.progress import CancelToken, ProgressCallback

#: ``preview(rgb_uint8, step, total_steps)``: a live preview image during denoising.
PreviewCallback = Callable[[np.ndarray, int, int], None]
#: (x0, y0, x1, y1) in output pixels.
Box = tuple[float, float, float, float]


@dataclass
class RenderInputs:
    """Everything an engine needs, already at the output size (``width`` × ``height`` pixels)."""

    #: The resolved request (seed, tile size) the engine renders; engines read their settings from it.
    request: RenderRequest
    width: int
    height: int
    #: The reference photo, RGB uint8 [height, width, 3], after the shared crop/pad transform.
    reference: np.ndarray
    #: The reference person's pose in output pixels (None when no person was found in the photo).
    reference_pose: PoseFrame | None
    #: The aligned driving poses, one per output frame, in output pixels.
    poses: list[PoseFrame]
    #: The DWPose-style skeleton images of ``poses``, RGB uint8 [height, width, 3] each.
    pose_images: list[np.ndarray]
    #: The reference's 512-d identity embedding (raw insightface ``embedding``), or None.
    face_embedding: np.ndarray | None = None
    #: The reference photo at its original size (RGB uint8), for engines that need it (CLIP path).
    reference_original: np.ndarray | None = None
    seed: int = 0
    #: The fps micro-conditioning the model is told (not the motion's frame rate: see ``motion_fps``).
    fps: float = 7.0
    #: The driving motion's frame rate after the stride (None when the motion carries none).
    motion_fps: float | None = None
    #: One face box per driving frame in output pixels (None: no face in that frame); HJB needs them.
    face_boxes: list[Box | None] = field(default_factory=list)
    #: The reference face's box in output pixels, or None when no face was found in the photo.
    reference_face_box: Box | None = None
    #: Where the photo lies in the frame (the exporter keeps only this; it undoes a pad).
    content_box: tuple[int, int, int, int] | None = None
    #: Notes for the person, shown and written to the sidecar; an engine may append its own.
    warnings: list[str] = field(default_factory=list)
    #: Warp-engine settings to change for this render (``studio.warp.warper.WarpSettings`` field → value).
    warp_overrides: dict[str, float] = field(default_factory=dict)
    #: Live previews during denoising, and whether they decode the VAE (slow, exact) or approximate.
    preview: PreviewCallback | None = None
    true_decode_preview: bool = False
    #: ``time.perf_counter()`` when the Render began (the renderer sets it), for the engine's timing lines.
    render_started: float | None = None

    @property
    def num_frames(self) -> int:
        return len(self.poses)


class RenderEngine(Protocol):
    #: The name recorded in the sidecar and the mp4 metadata ("diffusion" or "warp").
    name: str

    def render(
        self, inputs: RenderInputs, report: ProgressCallback, cancel: CancelToken
    ) -> Iterator[np.ndarray]:
        """Yield the output frames in order, RGB uint8 [height, width, 3].

        Call ``cancel.raise_if_cancelled()`` between units of work; report phases with ``report``.
        """
        ...


#: Held while a thread imports the heavy model libraries (torch, diffusers, transformers, ``pipelines``).
#: When two threads import these packages' interdependent submodules at once, Python breaks the cross-thread
#: cycle by handing one of them a partially initialised module (an ImportError). The window warms these
#: imports up in the background while a person may already start a render, so the two take turns here.
HEAVY_IMPORT_LOCK = threading.RLock()

#: Engine name → "module:Class". Imported lazily so the warp engine never loads torch.
ENGINE_CLASSES: dict[str, str] = {
    "diffusion": "studio.render.diffusion_engine:DiffusionEngine",
    "warp": "studio.render.warp_engine:WarpEngine",
}


def engine_class(name: str) -> type:
    try:
        target = ENGINE_CLASSES[name]
    except KeyError:
        raise ValueError(f"unknown render engine {name!r}; choose one of {sorted(ENGINE_CLASSES)}") from None
    module_name, class_name = target.split(":")
    with HEAVY_IMPORT_LOCK:
        return getattr(importlib.import_module(module_name), class_name)
