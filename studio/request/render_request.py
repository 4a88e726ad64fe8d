"""``RenderRequest``: one frozen, versioned, JSON-serialisable object holding everything a render needs.

A request is what the sidecar stores beside every output, so rendering the sidecar's request again
reproduces the same frames (the seed actually used is recorded; see ``with_resolved_seed``).
Every setting is declared once, here and in ``studio.request.settings`` (export, alignment) and
``pipelines.hjb_config`` (HJB), with ``studio.request.schema.setting``: validation (by field path), the CLI options,
the window's editors and the JSON schema all read those declarations. Saved requests of older versions are
brought up to date by ``MIGRATIONS`` when read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pipelines.hjb_config import HJBConfig
from studio.errors import InputError
from studio.request.schema import Problem, SettingsError, build, check, json_schema, setting, setting_by_path
from studio.request.settings import (
    BACKGROUND_MODES,
    COLOR_MATCH_MODES,
    POSE_BACKENDS,
    AlignmentOptions,
    ExportOptions,
    alpha_problem,
)

__all__ = ["DEFAULT_HJB", "IMAGE_SUFFIXES", "MAX_SEED", "REQUEST_VERSION", "AlignmentOptions", "ExportOptions",
           "FrameSelection", "RenderRequest", "content_hash", "migrate", "random_seed", "request_schema"]

#: Bump when a field changes meaning or shape, and add the step from the previous version to ``MIGRATIONS``.
REQUEST_VERSION = 3
#: The largest seed: what the window's seed box holds (a 32-bit spin box) and what every draw picks from.
MAX_SEED = 2**31 - 1
#: The image files the studio reads as photos and frames (the media readers, and the motion-folder check here).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")

#: The studio's HJB defaults: off, and "fast" decoding (a window around each face; memory independent of the frame
#: size) where the pipeline's own default is the original's "exact" whole-frame decode.
DEFAULT_HJB = HJBConfig(decode_mode="fast")


def random_seed(rng: random.Random | None = None) -> int:
    """The one seed draw (an unset seed at render time, the window's dice, an unlocked seed)."""
    return (rng or random.SystemRandom()).randint(0, MAX_SEED)


@dataclass(frozen=True)
class RenderRequest:
    reference: str = setting(help="The reference photo.")
    motion: str = setting(help="Driving video, frame folder, or extract-motion output folder.")
    reference_hash: str | None = None
    motion_hash: str | None = None
    engine: str = setting("diffusion", choices=("diffusion", "warp"), cli="--engine", group="Output",
                          help="diffusion: StableAnimator (needs the weights; minutes per clip). warp: the instant "
                          "preview engine that moves the photo along the skeleton; it is not the model's output.")
    #: The weights folder (official layout); not needed by the warp engine.
    models: str | None = setting(None, unset="none (the warp engine needs none)",
                                 help="Weights folder in the official layout (not needed by the warp engine).")
    alignment: AlignmentOptions = dataclasses.field(default_factory=AlignmentOptions)
    pose_backend: str = setting("mediapipe", choices=POSE_BACKENDS, cli="--pose-backend",
                                help="Pose extraction (mediapipe needs no download; dwpose needs its ONNX files).")
    #: Who to follow in a clip with several people (issue 19): "auto", the N-th person from the left, or the
    #: person at a pixel of a frame (``studio.motion.people``; the window's "Pick person" writes that).
    person: str = setting("auto", pattern=r"auto|[1-9][0-9]{0,3}|@[0-9]{1,7}:[0-9]{1,5},[0-9]{1,5}",
                          example="auto, 2 or @120:640,360", cli="--person",
                          help="Who to follow when the driving clip shows several people: auto (the most "
                          "prominent), N (the N-th person from the left where someone is first found) or @F:X,Y "
                          "(the person at pixel X,Y of frame F of the video).")
    width: int = setting(512, minimum=64, maximum=4096, step=64, unit="px", cli="--width", group="Output",
                         help="Output width in pixels (a multiple of 8 for diffusion; the arrows step by 64). The "
                         "photo is fitted to this size with the same transform as the poses.")
    height: int = setting(512, minimum=64, maximum=4096, step=64, unit="px", cli="--height", group="Output",
                          help="Output height in pixels (a multiple of 8 for diffusion; the arrows step by 64).")
    fit: str = setting("pad", choices=("pad", "crop"), cli="--fit", group="Output",
                       help="pad: keep the whole photo and pose (the padding is removed on export). crop: fill "
                       "the frame, cutting the edges.")
    #: Trim window of the driving clip in seconds, then every ``stride``-th frame, at most ``max_frames``.
    start: float = setting(0.0, minimum=0.0, maximum=1e6, unit="s", cli="--start", decimals=1,
                           help="Trim: the first second of the driving video that is used.")
    end: float | None = setting(None, minimum=0.0, maximum=1e6, unit="s", cli="--end", unset="end", decimals=1,
                                help="Trim: the last second that is used (unset: to the end of the video).")
    stride: int = setting(1, minimum=1, maximum=100, cli="--stride",
                          help="Use every n-th frame of the driving video (2 halves the frame count).")
    max_frames: int | None = setting(None, minimum=1, maximum=100_000, unset="all", cli="--frames", group="Output",
                                     label="Frames", help="How many driving frames to render after trim and "
                                     "stride. Time grows with the frame count.")
    #: The engine renders every n-th frame (and the last, and any whose pose moves too fast to guess:
    #: ``studio.render.interpolated``); the frame interpolator fills the rest.
    interpolate: int = setting(1, minimum=1, maximum=8, cli="--interpolate", group="Output",
                               label="Render every Nth", help="Render only every n-th frame (and any frame "
                               "whose pose moves too fast to guess) and fill the rest by frame interpolation: 2 "
                               "takes about half the time. 1 renders every frame.")
    #: Which interpolator fills the frames (``studio.interpolation.methods``); the window offers rife only when the
    #: weights folder holds its weights (``ui.render_bridge.unavailable_choices``).
    interpolate_method: str = setting("flow", choices=("flow", "rife", "auto"), cli="--method", group="Output",
                                      label="Interpolation",
                                      help="The frame interpolator that fills the frames between rendered ones "
                                      "(rendering every n-th frame, or a higher output FPS): flow (optical flow "
                                      "on the CPU, no weights), rife (RIFE 4.25/4.26 from RIFE/flownet.pkl in the "
                                      "weights folder; the GPU when there is one) or auto (rife when its weights "
                                      "are there and a GPU can run it, else flow).")
    #: The fps micro-conditioning the model sees (the original always passes 7).
    fps: int = setting(7, minimum=1, maximum=60, unit="fps", cli="--fps-cond", group="Sampling",
                       label="FPS conditioning", help="The frame rate the model is told (micro-conditioning; the "
                       "original always uses 7). It does not change the output timing.")
    steps: int = setting(25, minimum=1, maximum=500, cli="--steps", group="Sampling", slider=True,
                         help="Denoising steps. More steps refine detail; time grows linearly.")
    min_guidance: float = setting(3.0, minimum=0.0, maximum=20.0, step=0.1, decimals=1, cli="--min-guidance",
                                  group="Sampling", label="Guidance min", slider=True,
                                  help="Classifier-free guidance on the first frame of each tile; it ramps "
                                  "linearly to the max guidance on the last frame.")
    max_guidance: float = setting(3.0, minimum=0.0, maximum=20.0, step=0.1, decimals=1, cli="--max-guidance",
                                  group="Sampling", label="Guidance max", slider=True,
                                  help="Classifier-free guidance on the last frame of each tile (must be above 1). "
                                  "Higher follows the reference more strongly but can oversaturate.")
    seed: int | None = setting(None, minimum=0, maximum=MAX_SEED, unset="random; the seed used goes into the "
                               "sidecar", cli="--seed", group="Sampling", help="Random seed of the initial noise. "
                               "The same seed and settings give the same video.")
    motion_bucket: int = setting(127, minimum=0, maximum=1023, cli="--motion-bucket", group="Sampling", slider=True,
                                 help="SVD's motion conditioning: higher asks for more motion.")
    noise_aug: float = setting(0.02, minimum=0.0, maximum=1.0, step=0.01, decimals=3, cli="--noise-aug",
                               group="Sampling", label="Noise augmentation", slider=True,
                               help="Noise added to the reference image latent. Higher loosens the likeness to "
                               "the photo.")
    tile_size: int = setting(16, minimum=2, maximum=64, cli="--tile-size", group="Memory",
                             help="Frames denoised together in one window. Longer clips are rendered in "
                             "overlapping windows of this many frames.")
    tile_overlap: int = setting(4, minimum=0, maximum=63, cli="--tile-overlap", group="Memory",
                                help="Frames shared by neighbouring windows; blended for smooth transitions. Must "
                                "be smaller than the tile size.")
    decode_chunk: int = setting(4, minimum=1, maximum=64, cli="--decode-chunk", group="Memory",
                                help="Frames the VAE decodes at once. Lower uses less memory.")
    hjb: HJBConfig = setting(DEFAULT_HJB, help="HJB face refinement settings.")
    device: str = setting("auto", choices=("auto", "cuda", "mps", "cpu"), cli="--device", group="Device",
                          help="Where the model runs. auto picks CUDA, then Apple MPS, then CPU.")
    dtype: str = setting("auto", choices=("auto", "fp16", "bf16", "fp32"), cli="--dtype", group="Device",
                         label="Precision", help="Number format of the weights. auto: fp16 on GPUs, fp32 on CPU.")
    cpu_offload: bool = setting(False, cli="--cpu-offload", group="Device", label="CPU offload",
                                help="Keep idle model parts in system memory to fit smaller GPUs (slower).")
    #: The renderer picks settings that fit the budget (studio.memory) and says which.
    max_memory: float | None = setting(None, minimum=1e-6, maximum=100_000.0, unit="GB", cli="--max-memory",
                                       unset="on CUDA the free GPU memory, elsewhere no limit",
                                       help="Memory budget for the diffusion render; the renderer picks settings "
                                       "that fit and says which.")
    face_model: str = setting("auto", choices=("auto", "antelopev2", "mediapipe", "none"), cli="--face-model",
                              group="Identity", help="antelopev2: ArcFace embedding of the photo's face (needs the "
                              "insightface files). auto: antelopev2 when present. none: no identity embedding "
                              "(weaker likeness).")
    background: str = setting("generated", choices=BACKGROUND_MODES, cli="--background", group="Output",
                              help="What shows behind the person. generated: the engine's own frames, unchanged. "
                              "photo: the person cut out of each frame (a matte that follows the skeleton) over "
                              "the photo's own background, which then does not move. transparent: no background, "
                              "an alpha channel (ProRes 4444 .mov, VP9 .webm, WebP, PNG sequence).")
    color_match: str = setting("off", choices=COLOR_MATCH_MODES, cli="--color-match", group="Output",
                               label="Colour match", help="Steady colours over long clips and across tiles: each "
                               "frame's person and background matched (in Lab, smoothed over time) to the photo "
                               "(reference) or to the first rendered frame (first-frame).")
    export: ExportOptions = dataclasses.field(default_factory=ExportOptions)
    version: int = REQUEST_VERSION

    def __post_init__(self) -> None:
        # Plain dicts for the nested settings (as JSON gives them) become their types; a frozen dataclass sets
        # through object.__setattr__.
        for name, default in (("export", ExportOptions()), ("hjb", DEFAULT_HJB), ("alignment", AlignmentOptions())):
            value = getattr(self, name)
            if value is None or isinstance(value, dict):
                object.__setattr__(self, name, build(type(default), value or {}, default, f"{name}."))

    # ----------------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RenderRequest:
        """A request from its JSON object, of this or any older version (``migrate``)."""
        data = migrate(data)
        for name in ("reference", "motion"):
            if name not in data:
                raise SettingsError([Problem(name, f"render request is missing {name!r}")])
        return build(cls, data)

    @classmethod
    def from_json(cls, text: str) -> RenderRequest:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(f"render request is not valid JSON: {error}") from None
        if isinstance(data, dict) and "request" in data and "reference" not in data:
            data = data["request"]  # accept a whole sidecar
        return cls.from_dict(data)

    @classmethod
    def from_file(cls, path: str | Path) -> RenderRequest:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise InputError(f"cannot read render request {path}: {error.strerror or error}") from None
        return cls.from_json(text)

    # ----------------------------------------------------------------- derived copies
    def replace(self, **changes: Any) -> RenderRequest:
        """A copy with ``changes``; the nested settings (export, hjb, alignment) accept a partial dict."""
        for name in ("export", "hjb", "alignment"):
            if isinstance(changes.get(name), dict):
                changes[name] = build(type(getattr(self, name)), changes[name], getattr(self, name), f"{name}.")
        return dataclasses.replace(self, **changes)

    def with_tiles_for(self, num_frames: int | None = None) -> RenderRequest:
        """The one clamp of the temporal tiles: a tile no longer than the clip (a short clip renders as one tile)
        and an overlap below the tile. For a tile size set without an overlap (the CLI's ``--tile-size``) and for
        the render, once it knows how many frames the clip has (the sidecar records what was rendered)."""
        tile = self.tile_size if num_frames is None else min(self.tile_size, num_frames)
        overlap = min(self.tile_overlap, max(0, tile - 1))
        if (tile, overlap) == (self.tile_size, self.tile_overlap):
            return self
        return dataclasses.replace(self, tile_size=tile, tile_overlap=overlap)

    def with_resolved_seed(self, rng: random.Random | None = None) -> RenderRequest:
        """The request with a concrete seed: unchanged when set, a random one when unset."""
        if self.seed is not None:
            return self
        return dataclasses.replace(self, seed=random_seed(rng))

    @property
    def interpolates(self) -> bool:
        """Whether a render of this request fills frames by interpolation (only every n-th frame rendered, or an
        output rate set), so that its ``interpolate_method`` is used."""
        return self.interpolate > 1 or self.export.fps is not None

    def check_input_kinds(self) -> None:
        """Refuse, before anything is read or hashed, a folder given as the photo and a motion folder that holds
        nothing a motion can be (a home folder would otherwise be hashed in full first)."""
        reference, motion = Path(self.reference), Path(self.motion)
        if reference.is_dir():
            raise InputError(f"{reference}: is a folder, not a photo; choose a PNG or JPEG file")
        if motion.is_dir() and not _looks_like_motion_folder(motion):
            raise InputError(f"{motion}: the folder holds no frames (images), poses/ or motion.json; choose a video, "
                             "a folder of frames or an extract-motion folder")

    def changed_inputs(self) -> list[str]:
        """The inputs whose content differs from the hashes recorded in this request (a sidecar re-render)."""
        self.check_input_kinds()
        changed = []
        for name, recorded in (("reference", self.reference_hash), ("motion", self.motion_hash)):
            path = getattr(self, name)
            if recorded and Path(path).exists() and content_hash(path) != recorded:
                changed.append(f"the {name} {path} changed since this request was saved (its content hash differs)")
        return changed

    def with_hashes(self) -> RenderRequest:
        """The request with the content hashes of the reference and the motion filled in."""
        self.check_input_kinds()
        return dataclasses.replace(
            self, reference_hash=content_hash(self.reference), motion_hash=content_hash(self.motion)
        )

    def frame_selection(self) -> FrameSelection:
        """The source frames this request renders (trim, stride, frame limit), as the media readers take them."""
        return FrameSelection(start=self.start, end=self.end, stride=self.stride, max_frames=self.max_frames)

    # ----------------------------------------------------------------- validation
    def field_problems(self) -> list[Problem]:
        """Every problem with the values (not the files), each naming its field by path; empty when valid.
        First each value against its declaration (type, finite, range, choices), then what no single
        declaration can say (how fields relate, what the engine needs)."""
        problems = check(self)
        return problems + _relations(self, {p.path for p in problems})

    def problems(self) -> list[str]:
        """``field_problems`` as sentences."""
        return [p.message for p in self.field_problems()]

    def validate(self) -> RenderRequest:
        problems = self.field_problems()
        if problems:
            raise SettingsError(problems)
        return self


@dataclass(frozen=True)
class FrameSelection:
    """Which source frames to use: a trim window in seconds, every ``stride``-th frame, at most ``max_frames``."""

    start: float = 0.0
    end: float | None = None
    stride: int = 1
    max_frames: int | None = None

    def __post_init__(self) -> None:
        # the same four settings as the render request's, checked against their declarations there
        declared = setting_by_path(RenderRequest)
        problems = [p for name in ("start", "end", "stride", "max_frames")
                    if (p := declared[name].problem(getattr(self, name))) is not None]
        if problems:
            raise SettingsError(problems, "frame selection")
        if self.end is not None and self.end <= self.start:
            raise InputError(f"trim end ({self.end} s) must come after trim start ({self.start} s)")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> FrameSelection:
        return cls(
            start=float(data.get("start", 0.0)),
            end=None if data.get("end") is None else float(data["end"]),
            stride=int(data.get("stride", 1)),
            max_frames=None if data.get("max_frames") is None else int(data["max_frames"]),
        )


def _relations(r: RenderRequest, unfit: set[str]) -> list[Problem]:
    """The checks between fields, each made only when the values it reads fit their declarations (``unfit``
    holds the paths that do not), so it only ever compares numbers."""
    p: list[Problem] = []
    diffusion = r.engine == "diffusion" and "engine" not in unfit

    def when(*paths: str) -> bool:
        return not unfit.intersection(paths)

    def bad(path: str, message: str) -> None:
        p.append(Problem(path, message))

    if not r.reference:
        bad("reference", "reference photo path is empty")
    if not r.motion:
        bad("motion", "motion path is empty")
    for name in ("width", "height"):
        value = getattr(r, name)
        if not when(name):
            continue
        if value % 8 and diffusion:
            bad(name, f"{name} must be a multiple of 8 for the diffusion engine (latents are 1/8 size), got {value}")
        elif value % 2:
            bad(name, f"{name} must be even (H.264 yuv420p), got {value}")
    if r.end is not None and when("start", "end") and r.end <= r.start:
        bad("end", f"end ({r.end} s) must be after start ({r.start} s)")
    if diffusion:
        if when("max_guidance") and r.max_guidance <= 1.0:
            bad("max_guidance", f"max_guidance must be > 1.0 (classifier-free guidance), got {r.max_guidance}")
        if when("min_guidance", "max_guidance") and r.min_guidance > r.max_guidance:
            bad("min_guidance", f"min_guidance must be between 0 and max_guidance ({r.max_guidance}), "
                f"got {r.min_guidance}")
        if not r.models:
            bad("models", "the diffusion engine needs a weights folder (models); the warp engine does not")
        h = r.hjb  # (the warp engine ignores HJB)
        if when("hjb.start_step", "hjb.end_step") and h.end_step < h.start_step:
            bad("hjb.end_step", f"hjb end_step ({h.end_step}) must be >= start_step ({h.start_step}); both are "
                "inclusive")
        if when("hjb.enabled", "hjb.start_step", "steps") and h.enabled and h.start_step >= r.steps:
            bad("hjb.start_step", f"hjb start_step ({h.start_step}) must be below num_inference_steps ({r.steps}); "
                "no step would be refined")
    if r.background == "transparent" and when("background", "export.format"):
        problem = alpha_problem(r.export.format)
        if problem:
            bad("background", problem)
    if when("tile_size", "tile_overlap") and r.tile_overlap >= r.tile_size:
        bad("tile_overlap", f"tile_overlap must be between 0 and tile_size-1 ({r.tile_size - 1}), got {r.tile_overlap}")
    return p


def request_schema() -> dict[str, Any]:
    """The JSON schema of a saved request (the ``request`` of every sidecar and project), from the declarations."""
    return json_schema(RenderRequest, "StableAnimator Studio render request")


# ----------------------------------------------------------------------------------- versions
def _from_version_1(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 kept ``alignment`` as a free mapping and read only the keys it knew (so ``{}`` or a partial one
    meant the defaults, and keys of later studios were ignored); version 2 holds the typed object."""
    alignment = data.get("alignment") or {}
    if not isinstance(alignment, dict):
        return data  # left as it is: reading it says what is wrong
    known = {f.name for f in dataclasses.fields(AlignmentOptions)}
    return {**data, "alignment": {k: v for k, v in alignment.items() if k in known}}


def _from_version_2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2's ``export.fps`` played the rendered frames at that rate (a speed change, or the frame rate of a
    folder of skeleton images); version 3's interpolates up to it. The old meaning moves to ``export.playback_fps``,
    so an old sidecar or project renders the same video as before."""
    export = data.get("export")
    if not isinstance(export, dict) or export.get("fps") is None:
        return data  # (left as it is: reading it says what is wrong)
    return {**data, "export": {**export, "fps": None, "playback_fps": export["fps"]}}


#: version → the step that turns a request of that version into the next one.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _from_version_1, 2: _from_version_2}


def migrate(data: Any) -> dict[str, Any]:
    """A saved request's JSON object brought to ``REQUEST_VERSION`` (a missing version is the current one)."""
    if not isinstance(data, dict):
        raise InputError(f"a render request must be a JSON object, got {type(data).__name__}")
    version = data.get("version", REQUEST_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or (version != REQUEST_VERSION
                                                                      and version not in MIGRATIONS):
        raise InputError(
            f"render request version {version!r} is not supported by this studio "
            f"(it reads versions 1 to {REQUEST_VERSION}); update the studio or re-create the request"
        )
    while version != REQUEST_VERSION:
        data, version = MIGRATIONS[version](data), version + 1
    return {**data, "version": REQUEST_VERSION}


def _looks_like_motion_folder(folder: Path) -> bool:
    """motion.json, a poses/ folder, or images at the top (looks at names only, stops at the first match)."""
    if (folder / "motion.json").is_file() or (folder / "poses").is_dir() or folder.name == "poses":
        return True
    try:
        return any(entry.name.lower().endswith(IMAGE_SUFFIXES) for entry in _entries(folder))
    except OSError:
        return True  # unreadable: the reader's own error says why


def _entries(folder: Path):
    import os

    with os.scandir(folder) as entries:
        yield from entries


def content_hash(path: str | Path) -> str:
    """sha256 of a file's bytes, or of a folder's file names and bytes (sorted), as ``sha256:HEX``."""
    path = Path(path)
    digest = hashlib.sha256()
    if path.is_dir():
        for item in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(str(item.relative_to(path)).encode() + b"\0")
            _hash_file_into(item, digest)
    elif path.is_file():
        _hash_file_into(path, digest)
    elif path.exists():
        raise InputError(f"{path} is not a regular file (a pipe or a device); choose a file")
    else:
        raise InputError(f"{path} does not exist; check the path")
    return "sha256:" + digest.hexdigest()


def _hash_file_into(path: Path, digest: Any) -> None:
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
