"""From a ``RenderRequest`` to ``RenderInputs``: load the photo, fit it to the model size, get the aligned
motion, embed the face.

One shared transform: the reference is fitted (pad or crop) to the model size first; the motion is then
aligned to that fitted photo directly in model pixels, so the reference, the poses and the face boxes
all live in one coordinate frame. With ``pad`` the part of the frame that holds the photo (its content
box) is what the exporter keeps, which undoes the pad.

The motion may be
- a video file or a folder of video frames → pose extraction + alignment (``studio.motion``);
- a folder written by ``python -m studio extract-motion`` (has ``motion.json``) → its poses, re-aligned;
- a folder of ready skeleton images in the original's layout (``DIR/poses/frame_i.png`` or a folder named
  ``poses``; optional ``faces/`` masks) → used as they are, fitted with the same mode.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from studio.errors import InputError, ModelFolderError
from studio.export.exporter import AudioSource
from studio.faces.identity import IdentityBackend
from studio.interpolation.timing import Moment, plan
from studio.motion.types import PoseFrame
from studio.render.engine import RenderInputs
from studio.request.render_request import AlignmentOptions, RenderRequest
from studio.system.progress import CancelToken, Progress, ProgressCallback

if TYPE_CHECKING:  # (insightface loads only when a render needs a face)
    from studio.faces.reference_face import FaceAnalyzer

log = logging.getLogger(__name__)

#: The frame rate written for motion that carries none (a folder of skeleton images); the original's app.py uses 8.
POSE_FOLDER_FPS = 8.0


@dataclass
class PreparedRender:
    inputs: RenderInputs
    #: The request with everything resolved (seed, hashes, effective tile size, full alignment settings).
    request: RenderRequest
    #: (x0, y0, x1, y1) of the frame that holds the photo; the exporter keeps only this (undoes the pad).
    content_box: tuple[int, int, int, int]
    #: The rate the output file plays at: the output rate, or a version-2 request's playback rate.
    export_fps: float
    audio: AudioSource | None
    #: The reference face embedding used for conditioning (None = zero embedding) and how it was obtained.
    face_embedding: np.ndarray | None
    face_source: str
    #: A function frame → embedding (same backend as the conditioning) for identity scores, or None + reason.
    face_embedder: Callable[[np.ndarray], np.ndarray | None] | None
    face_embedder_reason: str | None
    warnings: list[str] = field(default_factory=list)
    #: The model that scores identity (antelopev2 when present, else dlib), or None (see face_embedder_reason).
    identity: IdentityBackend | None = None
    #: The rate the motion's frames are resampled to by interpolation (``export.fps`` above the motion's rate);
    #: None: one output frame per driving frame.
    output_fps: float | None = None
    #: With ``output_fps``: the moment of the driving clip each output frame shows (``interpolation.timing.plan``).
    moments: list[Moment] | None = None


@dataclass
class MotionInputs:
    """The driving motion, ready for an engine: what ``_load_motion`` gives back (never a changed request)."""

    poses: list[PoseFrame]
    pose_images: list[np.ndarray]
    face_boxes: list
    reference_pose: PoseFrame | None
    #: The driving frames' rate after the stride.
    fps: float
    audio: AudioSource | None
    #: The alignment settings used, recorded in the resolved request.
    alignment: AlignmentOptions


def content_box(matrix: np.ndarray, src_w: int, src_h: int, width: int, height: int) -> tuple[int, int, int, int]:
    """Where the source image lands in the output after the fit affine, clamped to the output."""
    x0 = matrix[0, 2]
    y0 = matrix[1, 2]
    x1 = x0 + src_w * matrix[0, 0]
    y1 = y0 + src_h * matrix[1, 1]
    box = (max(0, round(x0)), max(0, round(y0)), min(width, round(x1)), min(height, round(y1)))
    if box[2] - box[0] < 2 or box[3] - box[1] < 2:
        return (0, 0, width, height)
    return box


def find_face_models(request: RenderRequest) -> Path | None:
    """The antelopev2 folder near the weights folder (official layout: ``models/antelopev2`` beside ``checkpoints``)."""
    if not request.models:
        return None
    try:
        from studio.faces.reference_face import find_antelopev2
    except ImportError:
        return None
    root = Path(request.models)
    for candidate in (root, root / "models", root.parent / "models"):
        try:
            return Path(find_antelopev2(candidate))
        except (ModelFolderError, InputError, FileNotFoundError, OSError):
            continue
    return None


def prepare(request: RenderRequest, report: ProgressCallback, cancel: CancelToken,
            analysers: dict[str, FaceAnalyzer] | None = None) -> PreparedRender:
    """``analysers``: loaded face analysers by folder, kept by the caller (the renderer) between renders,
    since loading the ONNX models takes seconds; None loads them for this render only."""
    from studio.media.video_io import fit_to_size, load_image

    request = request.validate()
    for name in ("reference", "motion"):
        given = Path(getattr(request, name))
        if not given.exists():
            what = "a symbolic link that leads nowhere (broken, or a loop)" if given.is_symlink() else "file not found"
            raise InputError(f"{given}: {what} ({name}); check the path")
    request = request.with_resolved_seed().with_hashes()
    seed = request.seed
    assert seed is not None  # (resolved just above)
    warnings: list[str] = []
    W, H = request.width, request.height

    check_output_rate(request)
    report(Progress("load", 0, 1, "loading the reference photo"))
    photo = load_image(request.reference)
    reference, matrix = fit_to_size(photo, W, H, mode=request.fit)
    box = content_box(matrix, photo.shape[1], photo.shape[0], W, H) if request.fit == "pad" else (0, 0, W, H)
    cancel.raise_if_cancelled()

    motion = _load_motion(request, reference, report, cancel, warnings)
    poses, pose_images, face_boxes, reference_pose, fps, audio = (
        motion.poses, motion.pose_images, motion.face_boxes, motion.reference_pose, motion.fps, motion.audio)
    if not pose_images:
        raise InputError(f"{request.motion}: no frames selected; widen the trim window or lower the stride")
    cancel.raise_if_cancelled()

    # the one place the request is resolved: what the sidecar records is what was rendered (the pipeline needs at
    # least one full tile, so a short clip renders as a single tile)
    request = request.replace(alignment=motion.alignment).with_tiles_for(len(pose_images))

    embedding, face_source, embedder, embedder_reason, ref_box = _reference_face(
        request, reference, warnings, {} if analysers is None else analysers)
    identity, embedder_reason = _identity_backend(request, reference, embedding, face_source, embedder,
                                                 embedder_reason)
    output_fps = output_rate(request, fps)
    moments = None
    if output_fps is not None:
        if len(pose_images) < 2:
            raise InputError(f"{request.motion}: {len(pose_images)} driving frame selected; interpolating to "
                             f"{output_fps:g} fps (--fps) needs at least 2 (widen the trim or lower the stride, "
                             "or leave the output rate unset)")
        moments = plan(len(pose_images), fps, output_fps)
    export_fps = float(request.export.fps or request.export.playback_fps or fps)  # (the output FPS wins)
    inputs = RenderInputs(
        request=request, width=W, height=H, reference=reference, reference_pose=reference_pose, poses=poses,
        pose_images=pose_images, face_embedding=embedding, reference_original=photo, seed=seed,
        fps=float(request.fps), motion_fps=fps, face_boxes=list(face_boxes or []), reference_face_box=ref_box,
        content_box=box, warnings=warnings,
    )
    return PreparedRender(
        inputs=inputs, request=request, content_box=box, export_fps=export_fps, audio=audio,
        face_embedding=embedding, face_source=face_source, face_embedder=embedder,
        face_embedder_reason=embedder_reason, warnings=warnings, identity=identity, output_fps=output_fps,
        moments=moments,
    )


def check_output_rate(request: RenderRequest) -> None:
    """Before the poses are extracted (minutes for a long clip): refuse an output rate below a driving video's
    rate, and a video with a variable frame rate when frames are to be interpolated to a rate."""
    from studio.media.video_io import VIDEO_SUFFIXES, probe_video

    motion = Path(request.motion)
    if request.export.fps is None or not motion.is_file() or motion.suffix.lower() not in VIDEO_SUFFIXES:
        return
    info = probe_video(motion)
    if info.kind in ("video", "animation") and output_rate(request, info.fps / request.stride) is not None:
        from studio.interpolation.video import check_constant_frame_rate

        check_constant_frame_rate(motion)  # (the plan assumes evenly spaced frames)


def output_rate(request: RenderRequest, motion_fps: float) -> float | None:
    """The rate ``export.fps`` asks the frames to be interpolated up to, or None when it asks for none (unset, or
    the motion's own rate). A rate below the motion's is refused: interpolation only adds frames."""
    from studio.interpolation.timing import same_rate

    wanted = request.export.fps
    if wanted is None or same_rate(wanted, motion_fps):
        return None
    if wanted < motion_fps:
        strided = f" with stride {request.stride}" if request.stride > 1 else ""
        raise InputError(f"the output frame rate {wanted:g} fps (--fps) is below the driving motion's {motion_fps:g} "
                         f"fps ({request.motion}{strided}); interpolation only adds frames: leave the output rate "
                         "unset, or raise the stride to render fewer frames")
    return float(wanted)


# ------------------------------------------------------------------------------------------ motion
def _motion_kind(path: Path) -> str:
    if path.is_dir():
        if (path / "motion.json").is_file():
            return "motion_json"
        if (path / "poses").is_dir() or path.name == "poses":
            return "pose_images"
    return "video"


def _load_motion(request, reference, report, cancel, warnings):
    path = Path(request.motion)
    kind = _motion_kind(path)
    if kind == "pose_images":
        return _pose_image_folder(request, path, warnings)
    from studio.motion import draw_pose

    options = request.alignment
    W, H = request.width, request.height
    selection = request.frame_selection()
    as_drawn = False  # a rendered skeleton clip with alignment "none": its own frames are the pose images
    if kind == "motion_json":
        poses, reference_pose, fps, audio, notes = _from_motion_json(path, reference, options, request, selection)
        warnings.extend(notes)
    else:
        from studio.motion import prepare_motion

        model_dir = None
        if request.pose_backend == "dwpose" and request.models:
            model_dir = Path(request.models) / "DWPose"
        # prepare_motion extracts through the motion cache; a fresh extraction is rounded like a cached one,
        # so a sidecar re-renders the same frames whether or not the cache was warm.
        prepared = prepare_motion(path, reference, options=options, backend=request.pose_backend,
                                  selection=selection, report=report, cancel=cancel, model_dir=model_dir,
                                  person=request.person)
        warnings.extend(prepared.warnings)
        poses, reference_pose = list(prepared.poses), prepared.reference_pose
        as_drawn = prepared.clip.backend == "skeleton" and options.mode == "none"
        info, indices = prepared.clip.info, prepared.clip.indices  # the extraction's probe; no second decode
        fps = info.fps / request.stride if info.kind in ("video", "animation") else info.fps
        audio = None
        if info.kind == "video" and info.has_audio and indices:
            audio = AudioSource(str(path), indices[0] / info.fps, len(indices) * request.stride / info.fps)
    cancel.raise_if_cancelled()
    images = []
    if as_drawn:
        from studio.media.video_io import fit_to_size, iter_frames

        images = [fit_to_size(frame, W, H, mode=request.fit)[0] for _index, frame in iter_frames(path, selection)]
    for i, pose in enumerate([] if as_drawn else poses):
        if i % 8 == 0:
            cancel.raise_if_cancelled()
        images.append(draw_pose(pose, W, H))
    face_boxes = [p.face_box for p in poses]
    return MotionInputs(poses, images, face_boxes, reference_pose, fps, audio, options)


def _from_motion_json(path: Path, reference, options, request, selection):
    from studio.media.video_io import select_frames
    from studio.motion import align_motion
    from studio.motion.motion_file import read_motion_json

    motion = read_motion_json(path / "motion.json", stop=lambda header: _entries_needed(header, selection))
    source = motion.source  # (its width, height and fps checked by read_motion_json)
    src_size = (source["width"], source["height"])
    src_poses = motion.source_poses
    fps = float(source.get("fps") or POSE_FOLDER_FPS)
    # the extraction's own stride: consecutive entries may be several source frames apart
    indices = motion.indices
    base_step = max(1, indices[1] - indices[0]) if len(indices) > 1 else 1
    keep = select_frames(len(src_poses), fps / base_step, selection)
    aligned = align_motion([src_poses[i] for i in keep], [motion.status[i] for i in keep], src_size, fps, reference,
                           options, backend=request.pose_backend)
    # The driving clip's audio, when the motion file still points at a video that has some.
    audio = None
    source_path = Path(str(source.get("path") or ""))
    if keep and source_path.is_file() and source.get("fps"):
        from studio.media.video_io import is_video_path

        if is_video_path(source_path):
            start = indices[keep[0]]
            audio = AudioSource(str(source_path), start / fps, len(keep) * base_step * selection.stride / fps)
    return aligned.poses, aligned.reference_pose, fps / (base_step * selection.stride), audio, aligned.warnings


def _entries_needed(header: dict, selection) -> int | None:
    """At most how many motion.json entries ``selection`` can pick (None: all). An upper bound: the entries may
    lie several source frames apart, which only moves the picked ones earlier."""
    source = header.get("source")
    fps = source.get("fps") if isinstance(source, dict) else None
    fps = POSE_FOLDER_FPS if fps is None else fps
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not math.isfinite(fps) or fps <= 0:
        return None  # the reader's own check says what is wrong
    bound = None
    if selection.max_frames is not None:
        bound = math.floor(selection.start * fps + 1e-6) + selection.stride * (selection.max_frames - 1) + 1
    if selection.end is not None:
        end = math.ceil(selection.end * fps - 1e-6)
        bound = end if bound is None else min(bound, end)
    return None if bound is None else max(bound, 2)  # two entries give the extraction's own stride


def _natural(path: Path) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name)]


def _pose_image_folder(request, path: Path, warnings):
    from studio.media.video_io import fit_to_size, load_image, select_frames
    from studio.request.render_request import IMAGE_SUFFIXES

    folder = path / "poses" if (path / "poses").is_dir() else path
    faces_dir = folder.parent / "faces"
    files = sorted((p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), key=_natural)
    if not files:
        raise InputError(f"{folder}: the pose folder holds no images")
    # (a version-2 request's output FPS was also this folder's rate: export.playback_fps now)
    fps = float(request.export.playback_fps or POSE_FOLDER_FPS)
    selection = request.frame_selection()
    files = [files[i] for i in select_frames(len(files), fps, selection)]
    W, H = request.width, request.height
    images, poses, boxes = [], [], []
    for file in files:
        image = load_image(file)
        fitted, matrix = fit_to_size(image, W, H, mode=request.fit) if image.shape[:2] != (H, W) else (image, None)
        images.append(fitted)
        box = None
        mask_file = faces_dir / file.name
        if mask_file.is_file():
            mask = load_image(mask_file)[..., 0]
            if matrix is not None:
                mask = fit_to_size(np.repeat(mask[..., None], 3, axis=2), W, H, mode=request.fit)[0][..., 0]
            ys, xs = np.nonzero(mask > 127)
            if len(xs):
                box = (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))
        boxes.append(box)
        poses.append(PoseFrame(face_box=box))
    warnings.append(f"{folder}: using ready skeleton images as they are (no alignment to the photo)")
    return MotionInputs(poses, images, boxes, None, fps, None, request.alignment)


# ------------------------------------------------------------------------------------------ faces
def _reference_face(request: RenderRequest, reference: np.ndarray, warnings: list[str],
                    analysers: dict[str, FaceAnalyzer]):
    """(embedding or None, source, frame embedder or None, reason, reference face box)."""
    if request.face_model == "none":
        warnings.append("face model 'none': rendering with a zero identity embedding; identity will drift")
        return None, "none", None, "the face model is 'none'", None
    try:
        from studio.faces.reference_face import FaceAnalyzer, analyze_reference
    except ImportError:
        if request.face_model == "antelopev2":
            raise ModelFolderError("the face module (studio.faces) is not available in this install") from None
        warnings.append("no face backend is available: rendering with a zero identity embedding")
        return None, "none", None, "no face backend is available", None
    models_dir = find_face_models(request) if request.face_model in ("auto", "antelopev2") else None
    if request.face_model == "antelopev2" and models_dir is None:
        raise ModelFolderError(
            f"insightface antelopev2 was not found beside {request.models} (expected models/antelopev2 with "
            "scrfd_10g_bnkps.onnx and glintr100.onnx); get it with `python -m studio download` or use --face-model none"
        )
    analyzer: FaceAnalyzer | None = None
    if models_dir is not None:
        if str(models_dir) not in analysers:
            analysers[str(models_dir)] = FaceAnalyzer(models_dir)
        analyzer = analysers[str(models_dir)]
    face = analyze_reference(reference, analyzer=analyzer)
    no_face = face.box is None or face.source == "none"
    if no_face and request.engine == "diffusion":
        raise InputError(
            f"{request.reference}: no face was found in the reference photo; use a photo where the face is "
            "visible and large enough, or render with --face-model none"
        )
    warnings.extend(face.warnings)
    embedding = None if face.embedding is None or no_face else np.asarray(face.embedding, dtype=np.float32)
    if embedding is None:
        if request.engine == "diffusion":
            warnings.append("antelopev2 is not installed: rendering with a zero identity embedding "
                            "(real identity needs models/antelopev2; see `python -m studio download`)")
        return None, face.source, None, "antelopev2 is not installed (identity scores need it)", face.box

    def embed(frame: np.ndarray) -> np.ndarray | None:
        # the same input convention as the reference (analyze_reference's default channel swap)
        assert analyzer is not None  # (the embedding came from it)
        _box, vector = analyzer.analyze(np.ascontiguousarray(frame))
        return None if vector is None else np.asarray(vector, dtype=np.float32)

    return embedding, face.source, embed, None, face.box


#: What the window and the sidecar say about antelopev2's scores.
ANTELOPEV2_LABEL = "insightface antelopev2 ArcFace (cosine similarity)"


def _identity_backend(request: RenderRequest, reference: np.ndarray, embedding, source: str, embedder,
                      reason: str | None) -> tuple[IdentityBackend | None, str | None]:
    """The identity scorer: the conditioning's antelopev2 embedder when there is one, else dlib's ResNet
    descriptor (installed from PyPI), so the identity curve shows on any machine. (backend, reason if None)."""
    if embedder is not None and embedding is not None:
        return IdentityBackend(source, ANTELOPEV2_LABEL, embedding, embedder), None
    if request.face_model == "none":
        return None, reason
    from studio.faces.dlib_identity import dlib_backend

    backend, why = dlib_backend(reference)
    return backend, (None if backend is not None else f"{reason}; {why}" if reason else why)
