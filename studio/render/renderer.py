"""The renderer: request → prepared inputs → engine → frames streamed into the exporter → mp4 + sidecar.

Engines are created once per name and kept, so the diffusion engine's loaded pipeline is reused for the
next render while weights, device and dtype stay the same. Frames go straight from the engine to ffmpeg
(and to the identity scorer), one at a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from studio.compose.background import finish_frames
from studio.errors import ExportError, StudioError
from studio.export.exporter import ExportResult, VideoExporter, check_outputs, check_writable, now_iso
from studio.export.formats import export_format
from studio.faces.identity import IdentityScorer, IdentityScores
from studio.interpolation.methods import make_interpolator
from studio.interpolation.timing import Moment
from studio.render.engine import PreviewCallback, RenderEngine, engine_class
from studio.render.interpolated import (
    ADAPTIVE_THRESHOLD,
    engine_inputs,
    fill_in,
    frames_to_render,
    nearest_frames,
)
from studio.render.model_imports import import_model_code_soon
from studio.render.prepare import PreparedRender, prepare
from studio.request.render_request import RenderRequest
from studio.system.progress import CancelToken, Progress, ProgressCallback, ignore_progress

if TYPE_CHECKING:  # (insightface loads only when a render needs a face)
    from studio.faces.reference_face import FaceAnalyzer

SIDECAR_VERSION = 1


@dataclass
class RenderResult:
    request: RenderRequest
    export: ExportResult
    identity: IdentityScores
    engine: str
    seconds: float
    #: Mean seconds per denoising progress unit (UNet call or step), for ETAs; None when the engine reported none.
    step_seconds: float | None
    warnings: list[str] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.export.path


class _StepTimer:
    """Wraps a progress callback and measures the time between consecutive ``denoise`` reports."""

    def __init__(self, report: ProgressCallback):
        self.report = report
        self.durations: list[float] = []
        self._last: float | None = None

    def __call__(self, progress: Progress) -> None:
        if progress.phase == "denoise":
            now = time.perf_counter()
            if self._last is not None and progress.current > 0:
                self.durations.append(now - self._last)
            self._last = now
        self.report(progress)

    @property
    def mean(self) -> float | None:
        return float(np.mean(self.durations)) if self.durations else None


class _Counted:
    """Counts the frames an engine yields (to say how many when they do not match the poses)."""

    def __init__(self) -> None:
        self.seen = 0

    def count(self, frames):
        try:
            for frame in frames:
                self.seen += 1
                yield frame
        finally:  # closing the count closes the engine's generator (its own clean-up runs now, not at collection)
            close = getattr(frames, "close", None)
            if close is not None:
                close()


def _is_rendered(moments: list[Moment] | None, index: int, keys: set[int]) -> bool:
    """Whether output frame ``index`` is a frame the engine rendered (not one the interpolator made)."""
    if moments is None:
        return index in keys
    return moments[index].is_source and moments[index].index in keys


def key_settings(request: RenderRequest) -> dict[str, Any]:
    """What goes into the mp4's comment metadata (the sidecar has everything)."""
    settings = {
        "engine": request.engine, "seed": request.seed, "steps": request.steps,
        "guidance": [request.min_guidance, request.max_guidance], "size": [request.width, request.height],
        "fps_cond": request.fps, "motion_bucket": request.motion_bucket, "noise_aug": request.noise_aug,
        "tile": [request.tile_size, request.tile_overlap], "hjb": request.hjb.enabled,
        # short hashes: ffmpeg shows at most ~255 characters of a comment; the sidecar has the full ones
        "ref": (request.reference_hash or "")[7:19], "motion": (request.motion_hash or "")[7:19],
    }
    # only when asked for: a render with the defaults keeps exactly the metadata it always had
    if request.background != "generated":
        settings["background"] = request.background
    if request.color_match != "off":
        settings["color_match"] = request.color_match
    return settings


class Renderer:
    def __init__(self, engine_factory: Callable[[str], RenderEngine] | None = None):
        self._factory = engine_factory or (lambda name: engine_class(name)())
        self._engines: dict[str, RenderEngine] = {}
        #: Loaded face analysers by folder, reused by the next render (loading takes seconds).
        self.analysers: dict[str, FaceAnalyzer] = {}
        self._interpolators: dict[tuple, Any] = {}

    def engine(self, name: str) -> RenderEngine:
        if name not in self._engines:
            self._engines[name] = self._factory(name)
        return self._engines[name]

    def interpolator(self, request: RenderRequest):
        """The request's frame interpolator, kept for the next render (RIFE's weights load once)."""
        device = None if request.device == "auto" else request.device
        key = (request.interpolate_method, request.models, device)
        if key not in self._interpolators:
            self._interpolators[key] = make_interpolator(request.interpolate_method, request.models, device)
        return self._interpolators[key]

    def prepare(self, request: RenderRequest, report: ProgressCallback = ignore_progress,
                cancel: CancelToken | None = None) -> PreparedRender:
        return prepare(request, report, cancel or CancelToken(), self.analysers)

    def render(self, request: RenderRequest, out: str | Path, report: ProgressCallback = ignore_progress,
               cancel: CancelToken | None = None, preview: PreviewCallback | None = None,
               true_decode_preview: bool = False, prepared: PreparedRender | None = None,
               overwrite: bool = False, inputs: tuple = ()) -> RenderResult:
        """Render ``request`` into ``out`` (its suffix that of ``request.export.format``). Raises ``StudioError``
        subclasses or ``Cancelled``; on any failure no output file is left behind. An existing output is replaced
        only with ``overwrite``; an output that is an input (the photo, the motion, ``inputs`` such as the request
        file) is refused."""
        started = time.perf_counter()
        cancel = cancel or CancelToken()
        out = Path(out)
        expected = export_format(request.export.format).extension
        if out.suffix.lower() != expected:
            raise ExportError(f"the output must end in {expected or 'no extension (a PNG folder)'} for the "
                              f"{request.export.format} format, got {out.name}")
        check_writable(out)  # fail before any heavy work
        sources = (request.reference, request.motion, Path(request.motion) / "motion.json", *inputs)
        check_outputs(out, request.export, sources, overwrite)
        # the interpolator before any heavy work: RIFE without its weights is refused now, not after the render
        interpolator: Any = self.interpolator(request) if request.interpolates else None
        timer = _StepTimer(report)
        if request.engine == "diffusion" and prepared is None:
            import_model_code_soon()  # (imports while the photo and poses are prepared; the window did it at start-up)
        prepared = prepared or prepare(request, timer, cancel, self.analysers)
        render_inputs, req = prepared.inputs, prepared.request
        render_inputs.render_started = started
        if preview is not None:
            render_inputs.preview, render_inputs.true_decode_preview = preview, true_decode_preview
        engine = self.engine(req.engine)
        scorer = (IdentityScorer.from_backend(prepared.identity) if prepared.identity is not None else
                  IdentityScorer(prepared.face_embedding, prepared.face_embedder, backend=prepared.face_source,
                                 reason=prepared.face_embedder_reason))
        x0, y0, x1, y1 = prepared.content_box
        transparent = req.background == "transparent"
        exporter = VideoExporter(out, prepared.export_fps, req.width, req.height, req.export, audio=prepared.audio,
                                 metadata=key_settings(req), crop=prepared.content_box, overwrite=overwrite,
                                 inputs=sources, alpha=transparent)
        total = render_inputs.num_frames
        every = req.interpolate
        keys = (frames_to_render(render_inputs.poses, every, req.width, req.height) if every > 1 and total > 2
                else list(range(total)))
        moments = prepared.moments  # (an output rate above the motion's: more output frames than driving frames)
        outputs = len(moments) if moments is not None else total
        # the driving frame whose pose (and pose image) stands for each output frame
        nearest = nearest_frames(moments) if moments is not None else list(range(total))
        fills = len(keys) < total or moments is not None
        engine_frames = _Counted()
        cancel.raise_if_cancelled()
        with exporter:
            frames = engine_frames.count(engine.render(render_inputs if len(keys) == total
                                                       else engine_inputs(render_inputs, keys, every), timer, cancel))
            if fills:  # the interpolator fills the frames the engine skipped and the moments between frames
                assert interpolator is not None  # (made above: only --interpolate and --fps fill frames)
                frames = (frame for _, frame in fill_in(frames, keys, render_inputs.poses, interpolator, timer,
                                                        cancel, moments))
            # the background mode and the colour match after interpolation (the very frames when neither is asked for)
            finished = finish_frames(frames, [render_inputs.poses[i] for i in nearest],
                                     reference=render_inputs.reference, reference_pose=render_inputs.reference_pose,
                                     background=req.background, color_match=req.color_match,
                                     box=prepared.content_box)
            try:
                for index, frame in enumerate(finished):
                    cancel.raise_if_cancelled()
                    if index >= outputs:
                        raise StudioError(f"the {req.engine} engine yielded more frames than the {total} poses")
                    exporter.write(frame, reference=render_inputs.reference,
                                   pose=render_inputs.pose_images[nearest[index]])
                    scorer.add(frame[y0:y1, x0:x1, :3])
                    timer(Progress("export", index + 1, outputs, "encoding"))
            finally:
                finished.close()
                close = getattr(frames, "close", None)
                if close is not None:
                    close()
            cancel.raise_if_cancelled()
            if exporter.frames != outputs:
                raise StudioError(f"the {req.engine} engine yielded {engine_frames.seen} frames for {len(keys)} poses")
            seconds = time.perf_counter() - started
            key_set = set(keys)
            interpolated = outputs - sum(1 for i in range(outputs) if _is_rendered(moments, i, key_set))
            sidecar = {
                "version": SIDECAR_VERSION, "created": now_iso(), "engine": req.engine, "seed": req.seed,
                "request": req.to_dict(), "identity": scorer.result.to_dict(),
                "output": {"frames": exporter.frames, "fps": exporter.fps, "width": exporter.width,
                           "height": exporter.height, "content_box": list(prepared.content_box),
                           "audio": exporter.audio_muxed, "source_frames": total,
                           "source_fps": render_inputs.motion_fps,
                           "background": req.background, "color_match": req.color_match, "alpha": transparent},
                "face": {"source": prepared.face_source, "zero_embedding": prepared.face_embedding is None},
                "warnings": prepared.warnings, "seconds": round(seconds, 3), "step_seconds": timer.mean,
                # which driving frames the engine rendered; the interpolator made the other output frames
                # (``moments``: the moment each output frame shows, [driving frame, time to the next], when the
                # output rate is above the motion's)
                "interpolation": None if not fills else {
                    "every": every, "method": interpolator.name, "device": interpolator.device,
                    "adaptive_threshold": ADAPTIVE_THRESHOLD,
                    "rendered_frames": keys, "interpolated_frames": interpolated,
                    "source_fps": render_inputs.motion_fps, "output_fps": prepared.output_fps or exporter.fps,
                    "moments": None if moments is None else [[m.index, round(m.t, 6)] for m in moments]},
            }
            result = exporter.finish(sidecar)
        return RenderResult(request=req, export=result, identity=scorer.result, engine=req.engine,
                            seconds=time.perf_counter() - started, step_seconds=timer.mean,
                            warnings=list(prepared.warnings))
