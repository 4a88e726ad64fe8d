"""``RenderRequest``: one frozen, versioned, JSON-serialisable object holding everything a render needs.

A request is what the sidecar stores beside every output, so rendering the sidecar's request again
reproduces the same frames (the seed actually used is recorded; see ``with_resolved_seed``).
Nested settings (export, HJB) are small frozen dataclasses; the motion alignment settings are a plain
mapping that is handed to ``studio.motion`` (engineer C's options dataclass) when the render starts,
so a request written today still loads when that dataclass grows a field.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import numbers
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.hjb_config import HJBConfig
from studio.errors import InputError

#: Bump when a field changes meaning; ``from_dict`` refuses versions it does not know.
REQUEST_VERSION = 1
SUPPORTED_VERSIONS = (1,)

ENGINES = ("diffusion", "warp")
FITS = ("pad", "crop")
DEVICES = ("auto", "cpu", "cuda", "mps")
DTYPES = ("auto", "fp32", "fp16", "bf16")
FACE_MODELS = ("auto", "antelopev2", "mediapipe", "none")
X264_PRESETS = (
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow",
)
#: Seeds drawn when the user leaves the seed unset (the original's app.py draws from [1, 2**20 - 1]).
MAX_RANDOM_SEED = 2**31 - 1


@dataclass(frozen=True)
class ExportOptions:
    crf: int = 18
    preset: str = "medium"
    #: Output frame rate; None → the driving video's fps divided by the stride (frames keep their timing).
    fps: float | None = None
    #: Mux the driving video's audio, trimmed to the rendered range, when it has any.
    audio: bool = True
    side_by_side: bool = False
    png_sequence: bool = False
    gif: bool = False
    #: The main output's format (``studio.export_formats.FORMATS``: h264-mp4, h265-mp4, vp9-webm, prores-mov, …).
    format: str = "h264-mp4"
    #: Target bitrate such as "8M" instead of constant quality (crf); None → crf.
    bitrate: str | None = None
    #: "auto" uses NVENC when an NVIDIA GPU can, "software" never, "nvenc" insists.
    encoder: str = "auto"
    #: Animated WebP/GIF loop count stored in the file (0 loops forever).
    loop: int = 0
    #: Play forward then backward (frames 1…n…2), for seamless loops; the audio is then left out.
    pingpong: bool = False


#: The studio's HJB defaults: off, and "fast" decoding (a window around each face; memory independent of the frame
#: size) where the pipeline's own default is the original's "exact" whole-frame decode.
DEFAULT_HJB = HJBConfig(decode_mode="fast")


@dataclass(frozen=True)
class RenderRequest:
    reference: str
    motion: str
    reference_hash: str | None = None
    motion_hash: str | None = None
    engine: str = "diffusion"
    #: The weights folder (official layout); not needed by the warp engine.
    models: str | None = None
    #: ``studio.motion.AlignmentOptions`` as a dict ({} → its defaults; the renderer records the full dict).
    alignment: dict[str, Any] = field(default_factory=dict)
    #: Pose extraction backend ("mediapipe" needs no download; "dwpose" needs the DWPose ONNX files).
    pose_backend: str = "mediapipe"
    width: int = 512
    height: int = 512
    #: How the reference and poses reach the model size: "pad" keeps everything (undone on export), "crop" fills.
    fit: str = "pad"
    #: Trim window of the driving clip in seconds, then every ``stride``-th frame, at most ``max_frames``.
    start: float = 0.0
    end: float | None = None
    stride: int = 1
    max_frames: int | None = None
    #: The fps micro-conditioning the model sees (the original always passes 7).
    fps: int = 7
    steps: int = 25
    min_guidance: float = 3.0
    max_guidance: float = 3.0
    seed: int | None = None
    motion_bucket: int = 127
    noise_aug: float = 0.02
    tile_size: int = 16
    tile_overlap: int = 4
    decode_chunk: int = 4
    hjb: HJBConfig = DEFAULT_HJB
    device: str = "auto"
    dtype: str = "auto"
    cpu_offload: bool = False
    #: Memory budget in GB for the diffusion render (None: on CUDA the free GPU memory, elsewhere no limit); the
    #: renderer picks settings that fit (studio.memory) and says which.
    max_memory: float | None = None
    face_model: str = "auto"
    export: ExportOptions = field(default_factory=ExportOptions)
    version: int = REQUEST_VERSION

    def __post_init__(self) -> None:
        # Accept plain dicts for the nested settings (as JSON gives them); a frozen dataclass sets via object.
        for name, default in (("export", ExportOptions()), ("hjb", DEFAULT_HJB)):
            value = getattr(self, name)
            if isinstance(value, dict):
                object.__setattr__(self, name, _nested(default, value, name))
        if self.alignment is None:
            object.__setattr__(self, "alignment", {})

    # ----------------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RenderRequest:
        if not isinstance(data, dict):
            raise InputError(f"a render request must be a JSON object, got {type(data).__name__}")
        version = data.get("version", REQUEST_VERSION)
        if version not in SUPPORTED_VERSIONS:
            raise InputError(
                f"render request version {version!r} is not supported by this studio "
                f"(it reads versions {list(SUPPORTED_VERSIONS)}); update the studio or re-create the request"
            )
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(f"unknown render request field(s): {', '.join(unknown)}")
        values = dict(data)
        values["export"] = _nested(ExportOptions(), values.get("export", {}), "export")
        values["hjb"] = _nested(DEFAULT_HJB, values.get("hjb", {}), "hjb")
        values["alignment"] = dict(values.get("alignment") or {})
        for name in ("reference", "motion"):
            if name not in values:
                raise InputError(f"render request is missing {name!r}")
        return cls(**values)

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
        """A copy with ``changes``; ``export``/``hjb`` accept a partial dict."""
        for name in ("export", "hjb"):
            if isinstance(changes.get(name), dict):
                changes[name] = dataclasses.replace(getattr(self, name), **changes[name])
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
        return dataclasses.replace(self, seed=(rng or random.SystemRandom()).randint(1, MAX_RANDOM_SEED))

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

    # ----------------------------------------------------------------- validation
    def type_problems(self) -> list[str]:
        """Values of the wrong kind (a number given as a string, a fractional seed, NaN or infinity): checked
        first, so the range checks below only ever compare numbers."""
        p: list[str] = []
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        values |= {f"export.{f.name}": getattr(self.export, f.name) for f in dataclasses.fields(self.export)}
        values |= {f"hjb.{f.name}": getattr(self.hjb, f.name) for f in dataclasses.fields(self.hjb)}
        for name, value in values.items():
            kind = _KINDS.get(name)
            if kind is None or (value is None and name in _OPTIONAL):
                continue
            if kind is int and (isinstance(value, bool) or not isinstance(value, numbers.Integral)):
                p.append(f"{name} must be a whole number, got {value!r}")
            elif kind is float and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
                p.append(f"{name} must be a number, got {value!r}")
            elif kind is float and not math.isfinite(value):
                p.append(f"{name} must be a finite number, got {value!r}")
            elif kind is str and not isinstance(value, str):
                p.append(f"{name} must be text, got {value!r}")
            elif kind is bool and not isinstance(value, bool):
                p.append(f"{name} must be true or false, got {value!r}")
        return p

    def problems(self) -> list[str]:
        """Every problem with the values (not the files), each a precise sentence; empty when valid."""
        p = self.type_problems()
        if p:
            return p
        if self.engine not in ENGINES:
            p.append(f"engine {self.engine!r} is unknown; choose one of {', '.join(ENGINES)}")
        if not self.reference:
            p.append("reference photo path is empty")
        if not self.motion:
            p.append("motion path is empty")
        for name in ("width", "height"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 64 or value > 4096:
                p.append(f"{name} must be an integer between 64 and 4096, got {value!r}")
            elif value % 8 and self.engine == "diffusion":
                p.append(f"{name} must be a multiple of 8 for the diffusion engine (latents are 1/8 size), got {value}")
            elif value % 2:
                p.append(f"{name} must be even (H.264 yuv420p), got {value}")
        if self.fit not in FITS:
            p.append(f"fit {self.fit!r} is unknown; choose pad or crop")
        if self.start < 0:
            p.append(f"start must be ≥ 0 seconds, got {self.start}")
        if self.end is not None and self.end <= self.start:
            p.append(f"end ({self.end} s) must be after start ({self.start} s)")
        if self.pose_backend not in ("mediapipe", "dwpose"):
            p.append(f"pose_backend {self.pose_backend!r} is unknown; choose mediapipe or dwpose")
        if self.stride < 1:
            p.append(f"stride must be ≥ 1, got {self.stride}")
        if self.max_frames is not None and self.max_frames < 1:
            p.append(f"max_frames must be ≥ 1, got {self.max_frames}")
        if not 1 <= self.fps <= 240:
            p.append(f"fps must be between 1 and 240, got {self.fps}")
        if not 1 <= self.steps <= 1000:
            p.append(f"steps must be between 1 and 1000, got {self.steps}")
        if self.engine == "diffusion":
            if self.max_guidance <= 1.0:
                p.append(f"max_guidance must be > 1.0 (classifier-free guidance), got {self.max_guidance}")
            if self.min_guidance < 0 or self.min_guidance > self.max_guidance:
                p.append(
                    f"min_guidance must be between 0 and max_guidance ({self.max_guidance}), got {self.min_guidance}"
                )
        if self.seed is not None and not 0 <= self.seed <= 2**63 - 1:
            p.append(f"seed must be between 0 and 2**63-1, got {self.seed}")
        if not 0 <= self.motion_bucket <= 1023:
            p.append(f"motion_bucket must be between 0 and 1023, got {self.motion_bucket}")
        if not 0.0 <= self.noise_aug <= 1.0:
            p.append(f"noise_aug must be between 0 and 1, got {self.noise_aug}")
        if self.tile_size < 2:
            p.append(f"tile_size must be ≥ 2, got {self.tile_size}")
        if not 0 <= self.tile_overlap < self.tile_size:
            p.append(f"tile_overlap must be between 0 and tile_size-1 ({self.tile_size - 1}), got {self.tile_overlap}")
        if self.decode_chunk < 1:
            p.append(f"decode_chunk must be ≥ 1, got {self.decode_chunk}")
        if self.max_memory is not None and not (isinstance(self.max_memory, (int, float)) and self.max_memory > 0):
            p.append(f"max_memory must be a positive number of GB, got {self.max_memory!r}")
        if self.device not in DEVICES:
            p.append(f"device {self.device!r} is unknown; choose one of {', '.join(DEVICES)}")
        if self.dtype not in DTYPES:
            p.append(f"dtype {self.dtype!r} is unknown; choose one of {', '.join(DTYPES)}")
        if self.face_model not in FACE_MODELS:
            p.append(f"face_model {self.face_model!r} is unknown; choose one of {', '.join(FACE_MODELS)}")
        if self.engine == "diffusion" and not self.models:
            p.append("the diffusion engine needs a weights folder (models); the warp engine does not")
        if self.engine == "diffusion":  # (the warp engine ignores HJB)
            p += self.hjb.problems(self.steps)
        e = self.export
        if not 0 <= e.crf <= 51:
            p.append(f"export crf must be between 0 and 51, got {e.crf}")
        if e.preset not in X264_PRESETS:
            p.append(f"export preset {e.preset!r} is unknown; choose one of {', '.join(X264_PRESETS)}")
        if e.fps is not None and not 0 < e.fps <= 240:
            p.append(f"export fps must be between 0 and 240, got {e.fps}")
        from studio.export_formats import option_problems

        p += option_problems(e)
        return p

    def validate(self) -> RenderRequest:
        problems = self.problems()
        if problems:
            raise InputError("invalid render request: " + "; ".join(problems))
        return self


#: The kind every field must have (``with_resolved_seed`` fills the seed; None is allowed where ``_OPTIONAL``).
_KINDS: dict[str, type] = {
    "reference": str, "motion": str, "engine": str, "pose_backend": str, "fit": str, "device": str, "dtype": str,
    "face_model": str, "width": int, "height": int, "stride": int, "max_frames": int, "fps": int, "steps": int,
    "seed": int, "motion_bucket": int, "tile_size": int, "tile_overlap": int, "decode_chunk": int,
    "start": float, "end": float, "min_guidance": float, "max_guidance": float, "noise_aug": float,
    "cpu_offload": bool, "export.crf": int, "export.preset": str, "export.fps": float, "export.audio": bool,
    "export.side_by_side": bool, "export.png_sequence": bool, "export.gif": bool, "hjb.enabled": bool,
    "hjb.iterations": int, "hjb.start_step": int, "hjb.end_step": int, "hjb.lr_scale": float,
    "hjb.decode_mode": str, "hjb.fast_margin": int, "hjb.eta": float, "export.format": str, "export.encoder": str,
    "export.pingpong": bool,
}
_OPTIONAL = {"models", "end", "max_frames", "seed", "export.fps", "reference_hash", "motion_hash"}


def _nested(default: Any, value: Any, name: str) -> Any:
    """A nested settings object from JSON: the fields given, the rest from the request's ``default``."""
    if isinstance(value, type(default)):
        return value
    if not isinstance(value, dict):
        raise InputError(f"render request field {name!r} must be an object")
    known = {f.name for f in dataclasses.fields(default)}
    unknown = sorted(set(value) - known)
    if unknown:
        raise InputError(f"unknown field(s) in render request {name!r}: {', '.join(unknown)}")
    return dataclasses.replace(default, **value)


def _looks_like_motion_folder(folder: Path) -> bool:
    """motion.json, a poses/ folder, or images at the top (looks at names only, stops at the first match)."""
    from studio.media import IMAGE_SUFFIXES

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
