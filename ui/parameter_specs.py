"""Every render setting the parameter panel shows: its range and a tooltip saying what it does.

Each spec is named by its ``RenderRequest`` path (``steps``, ``export.crf``, ``hjb.iterations``): the panel
binds the editor to that field of ``studio.project.Project``, so a setting has one name from the request
down. Defaults are the request's own; ``none_at`` is the editor value that stands for the request's None
(``max_frames`` 0 = all frames, ``export.fps`` 0 = the driving video's timing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.export_formats import DEFAULT_FORMAT, FORMATS
from studio.output_names import TEMPLATE_FIELDS


@dataclass(frozen=True)
class ParamSpec:
    name: str
    label: str
    kind: str  # "int" | "float" | "bool" | "choice" | "text"
    tooltip: str
    group: str
    minimum: float = 0
    maximum: float = 0
    step: float = 1
    decimals: int = 2
    choices: tuple[str, ...] = field(default_factory=tuple)
    slider: bool = False
    none_at: float | None = None


SPECS: tuple[ParamSpec, ...] = (
    ParamSpec("engine", "Engine", "choice",
              "diffusion: StableAnimator (needs the weights; minutes per clip). warp: the instant preview engine "
              "that moves the photo along the skeleton; it is not the model's output.", "Output",
              choices=("diffusion", "warp")),
    ParamSpec("width", "Width", "int", "Output width in pixels (a multiple of 8; the arrows step by 64). The photo is fitted to "
              "this size with the same transform as the poses.", "Output", 64, 2048, 64),
    ParamSpec("height", "Height", "int", "Output height in pixels (a multiple of 8; the arrows step by 64).", "Output", 64, 2048, 64),
    ParamSpec("fit", "Fit", "choice", "pad: keep the whole photo and pose (the padding is removed on "
              "export). crop: fill the frame, cutting the edges.", "Output", choices=("pad", "crop")),
    ParamSpec("max_frames", "Frames", "int", "How many driving frames to render after trim and stride "
              "(0 = all). Time grows with the frame count.", "Output", 0, 2000, 1, slider=True, none_at=0),
    ParamSpec("export.fps", "Output FPS", "float", "Frame rate of the exported mp4. 0 keeps the driving "
              "video's timing (its fps divided by the stride).", "Output", 0.0, 120.0, 1.0, 1, none_at=0),
    ParamSpec("steps", "Steps", "int", "Denoising steps. More steps refine detail; time grows linearly.",
              "Sampling", 1, 200, 1, slider=True),
    ParamSpec("min_guidance", "Guidance min", "float", "Classifier-free guidance on the first frame of "
              "each tile; it ramps linearly to 'Guidance max' on the last frame.", "Sampling", 0.0, 20.0, 0.1, 1,
              slider=True),
    ParamSpec("max_guidance", "Guidance max", "float", "Classifier-free guidance on the last frame of each "
              "tile (must be above 1). Higher follows the reference more strongly but can oversaturate.",
              "Sampling", 0.0, 20.0, 0.1, 1, slider=True),
    ParamSpec("seed", "Seed", "int", "Random seed of the initial noise. The same seed and settings give the "
              "same video. Lock it to keep it; the dice picks a new one.", "Sampling", 0, 2**31 - 1, 1),
    ParamSpec("fps", "FPS conditioning", "int", "The frame rate the model is told (micro-conditioning; the "
              "original always uses 7). It does not change the output timing.", "Sampling", 1, 60, 1),
    ParamSpec("motion_bucket", "Motion bucket", "int", "SVD's motion conditioning: higher asks for "
              "more motion.", "Sampling", 0, 1023, 1, slider=True),
    ParamSpec("noise_aug", "Noise augmentation", "float", "Noise added to the reference image "
              "latent. Higher loosens the likeness to the photo.", "Sampling", 0.0, 1.0, 0.01, 3, slider=True),
    ParamSpec("tile_size", "Tile size", "int", "Frames denoised together in one window. Longer clips are "
              "rendered in overlapping windows of this many frames.", "Memory", 2, 64, 1),
    ParamSpec("tile_overlap", "Tile overlap", "int", "Frames shared by neighbouring windows; blended for "
              "smooth transitions. Must be smaller than the tile size.", "Memory", 0, 32, 1),
    ParamSpec("decode_chunk", "Decode chunk", "int", "Frames the VAE decodes at once. Lower uses less "
              "memory.", "Memory", 1, 64, 1),
    ParamSpec("hjb.enabled", "Face refinement (HJB)", "bool", "Identity-preserving optimisation of the face "
              "during denoising (the paper's HJB step). Better likeness; slower.", "Identity"),
    ParamSpec("hjb.iterations", "HJB iterations", "int", "Gradient steps of the face refinement per "
              "denoising step.", "Identity", 1, 20, 1),
    ParamSpec("hjb.decode_mode", "HJB decode", "choice", "fast: decode only a window around each face for the "
              "refinement (much faster, memory independent of the frame size). exact: decode whole frames, as "
              "the original does.", "Identity", choices=("fast", "exact")),
    ParamSpec("face_model", "Face model", "choice", "antelopev2: ArcFace embedding of the photo's "
              "face (needs the insightface files). auto: antelopev2 when present. none: no identity embedding "
              "(weaker likeness).", "Identity", choices=("auto", "antelopev2", "mediapipe", "none")),
    ParamSpec("device", "Device", "choice", "Where the model runs. auto picks CUDA, then MPS, then CPU.",
              "Device", choices=("auto", "cuda", "mps", "cpu")),
    ParamSpec("dtype", "Precision", "choice", "Number format. auto: fp16 on GPUs, fp32 on CPU.",
              "Device", choices=("auto", "fp16", "bf16", "fp32")),
    ParamSpec("cpu_offload", "CPU offload", "bool", "Keep idle model parts in system memory to fit "
              "smaller GPUs (slower).", "Device"),
    ParamSpec("export.format", "Format", "choice", "Container and codec of the render: "
              + "; ".join(f"{name}: {f.label}" for name, f in FORMATS.items()) + ".", "Export",
              choices=tuple(FORMATS)),
    ParamSpec("output_name", "File name", "text", "The name of each new render in the output folder; the "
              "format's extension is added. It can use " + ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS)
              + " ({counter} takes the first free number, {counter:03d} pads it). A name already taken gets _2, "
              "_3 … rather than replacing anything.", "Export"),
    ParamSpec("export.crf", "Quality (CRF)", "int", "H.264 constant rate factor: lower is better quality and a "
              "bigger file (18 is visually lossless).", "Export", 0, 51, 1, slider=True),
    ParamSpec("export.preset", "Encoder speed", "choice", "x264 preset: slower presets give smaller "
              "files at the same quality.", "Export",
              choices=("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower",
                       "veryslow")),
    ParamSpec("export.audio", "Keep audio", "bool", "Copy the driving video's audio, trimmed to the rendered "
              "range.", "Export"),
    ParamSpec("export.side_by_side", "Side-by-side video", "bool", "Also export reference | pose | result as "
              "one video.", "Export"),
    ParamSpec("export.png_sequence", "PNG frames", "bool", "Also export every frame as a PNG file in a folder beside the mp4.", "Export"),
    ParamSpec("export.gif", "GIF", "bool", "Also export a GIF (small, lower quality; for sharing).", "Export"),
)

SPEC_BY_NAME = {spec.name: spec for spec in SPECS}


def to_editor(spec: ParamSpec, value: Any) -> Any:
    """A request value as the editor shows it."""
    return spec.none_at if value is None and spec.none_at is not None else value


def from_editor(spec: ParamSpec, value: Any) -> Any:
    """An editor value as the request holds it."""
    if spec.none_at is not None and value == spec.none_at:
        return None
    return int(value) if spec.kind == "int" else value


#: What "Preview" changes on top of the current settings: low resolution, few steps, few frames.
QUICK_PREVIEW = {"width": 256, "height": 256, "steps": 6, "max_frames": 4, "hjb": {"enabled": False},
                 "decode_chunk": 2, "export": {"format": DEFAULT_FORMAT}}  # the preview player reads mp4
