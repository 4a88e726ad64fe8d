"""``Studio``: the one service object behind the window, the CLI and the farm.

It owns the renderer (engines load once and are reused) with the lock that lets one render at a time
through it (a quick preview waits for a queued job's render instead of sharing a pipeline with it), the
batch queue and its runner (with a between-jobs stop hook), and the reference analysis. Nothing here is a
module-level singleton: whoever needs a studio makes one and passes it on (tests make their own).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from studio.batch.plan import PlannedJob, plan_batch
from studio.export.output_names import DEFAULT_NAME_TEMPLATE
from studio.preferences import Preferences
from studio.request.render_request import RenderRequest
from studio.system.progress import CancelToken, Progress, ProgressCallback, ignore_progress

logger = logging.getLogger(__name__)


@dataclass
class InstantFrames:
    """Warp-engine frames in memory (no export) for the window's instant preview."""

    frames: list[np.ndarray]
    pose_images: list[np.ndarray]
    reference: np.ndarray
    fps: float


class Studio:
    def __init__(self, renderer: Any = None, queue_path: str | Path | None = None) -> None:
        if renderer is None:
            from studio.render.renderer import Renderer

            renderer = Renderer()
        self.renderer = renderer
        self._render_lock = threading.Lock()
        self._queue_path = queue_path
        self._queue = None
        self._previews = None
        #: This machine's preferences (device, precision, threads for new renders; the default output folder).
        self.preferences = Preferences()

    # ---------------------------------------------------------------------------------- renders
    @contextmanager
    def _turn(self, report: ProgressCallback, cancel: CancelToken) -> Iterator[None]:
        """Hold the render lock; while waiting for it, stay cancellable and say why nothing moves."""
        if not self._render_lock.acquire(blocking=False):
            report(Progress("load", 0, 1, "waiting for the running render to finish"))
            while not self._render_lock.acquire(timeout=0.1):
                cancel.raise_if_cancelled()
        try:
            yield
        finally:
            self._render_lock.release()

    def render(self, request: RenderRequest, out: str | Path, report: ProgressCallback = ignore_progress,
               cancel: CancelToken | None = None, preview: Callable[..., None] | None = None, **options: Any):
        """Render ``request`` into ``out`` (+ sidecar); returns the renderer's RenderResult. ``options`` go to
        ``Renderer.render`` as they are (``overwrite``, ``inputs``)."""
        cancel = cancel or CancelToken()
        with self._turn(report, cancel):
            return self.renderer.render(self.preferences.apply(request), out, report, cancel, preview=preview,
                                        **options)

    def instant_frames(self, request: RenderRequest, frame_limit: int, report: ProgressCallback = ignore_progress,
                       cancel: CancelToken | None = None) -> InstantFrames:
        """The warp engine's first ``frame_limit`` frames in memory: the instant preview (no weights, no file)."""
        cancel = cancel or CancelToken()
        # (one frame per driving frame: the preview shows the poses' own frames, never an interpolated rate)
        request = self.preferences.apply(request.replace(engine="warp", max_frames=frame_limit, export={"fps": None}))
        prepared = self.renderer.prepare(request, report, cancel)  # no pipeline: no lock needed
        frames = []
        for frame in self.renderer.engine("warp").render(prepared.inputs, report, cancel):
            cancel.raise_if_cancelled()
            frames.append(frame)
        return InstantFrames(frames, list(prepared.inputs.pose_images), prepared.inputs.reference,
                             float(prepared.export_fps))

    # ---------------------------------------------------------------------------------- the queue
    @property
    def queue(self):
        """The persistent batch queue (opened on first use; raises OSError/sqlite3.Error when it cannot be)."""
        if self._queue is None:
            from studio.batch.queue import JobQueue

            self._queue = JobQueue(self._queue_path)
        return self._queue

    @staticmethod
    def plan_batch(base: RenderRequest, references: Sequence[str | Path], motions: Sequence[str | Path],
                   out_dir: str | Path, presets: Sequence[str | None] = (None,),
                   name_template: str | None = None) -> list[PlannedJob]:
        """The one batch builder (the window's Queue/Batch and ``batch add``): every photo × motion × preset of
        ``base``, each request checked and named from the file-name template (``studio.batch.plan``)."""
        return plan_batch(base, references, motions, out_dir, presets, name_template or DEFAULT_NAME_TEMPLATE)

    def queue_batch(self, base: RenderRequest, references: Sequence[str | Path], motions: Sequence[str | Path],
                    out_dir: str | Path, presets: Sequence[str | None] = (None,), name_template: str | None = None,
                    device: str = "default", batch: str | None = None) -> list[int]:
        """``plan_batch`` queued under one batch name; the job ids."""
        planned = self.plan_batch(base, references, motions, out_dir, presets, name_template)
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        return self.queue.add_planned(planned, device, batch)

    def run_queue(self, report: ProgressCallback = ignore_progress, cancel: CancelToken | None = None,
                  on_job: Callable[[Any], None] | None = None, device: str = "default") -> int:
        """Render queued jobs one after another until none is left or ``cancel`` is set (checked between
        jobs; a running job is stopped by cancelling it in the queue). Returns how many ran."""
        from studio.batch.queue import QueueRunner

        cancel = cancel or CancelToken()
        runner = QueueRunner(self.queue, _LockedRenderer(self, cancel), device=device)
        return runner.run(report, should_stop=lambda: cancel.cancelled, on_job=on_job)

    # ---------------------------------------------------------------------------------- previews
    @property
    def previews(self):
        """The quick previews' files (``studio.export.previews``): a new one supersedes the older ones."""
        if self._previews is None:
            from studio.export.previews import PreviewFiles

            self._previews = PreviewFiles()
        return self._previews

    def close(self) -> None:
        """The session ends: its preview files go (renders and queued jobs' outputs stay)."""
        if self._previews is not None:
            self._previews.clean()

    # ---------------------------------------------------------------------------------- analysis
    @staticmethod
    def analyse_reference(image: np.ndarray, models_dir: str | None):
        """(face box or None, the person's pose or None) in the photo's pixels."""
        from studio.faces.reference_face import analyze_reference
        from studio.motion import detect_pose

        try:
            face = analyze_reference(image, models_dir=models_dir)
        except Exception:  # noqa: BLE001 - a bad weights folder must not stop the embedded face detector
            face = analyze_reference(image, models_dir=None)
        return face.box, detect_pose(image)


class _LockedRenderer:
    """What the queue runner renders through: the studio's renderer, one render at a time."""

    def __init__(self, studio: Studio, stop: CancelToken) -> None:
        self._studio, self._stop = studio, stop

    def render(self, request, out, report=ignore_progress, cancel=None, **kwargs):
        cancel = cancel or CancelToken()
        with self._studio._turn(report, cancel):
            request = self._studio.preferences.apply(request)  # the preferences when the job runs
            return self._studio.renderer.render(request, out, report, cancel, **kwargs)
