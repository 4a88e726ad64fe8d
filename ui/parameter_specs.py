"""Every render setting the parameter panel shows: its range, default and a tooltip saying what it does.

Names follow the render request's fields; ``ui.render_bridge`` maps them onto ``studio``'s RenderRequest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.export_formats import DEFAULT_FORMAT, FORMATS
from studio.presets import PRESETS


@dataclass(frozen=True)
class ParamSpec:
    name: str
    label: str
    kind: str  # "int" | "float" | "bool" | "choice"
    default: Any
    tooltip: str
    group: str
    minimum: float = 0
    maximum: float = 0
    step: float = 1
    decimals: int = 2
    choices: tuple[str, ...] = field(default_factory=tuple)
    slider: bool = False


SPECS: tuple[ParamSpec, ...] = (
    ParamSpec("engine", "Engine", "choice", "diffusion",
              "diffusion: StableAnimator (needs the weights; minutes per clip). warp: the instant preview engine "
              "that moves the photo along the skeleton; it is not the model's output.", "Output",
              choices=("diffusion", "warp")),
    ParamSpec("width", "Width", "int", 512, "Output width in pixels (a multiple of 64). The photo is fitted to "
              "this size with the same transform as the poses.", "Output", 64, 2048, 64),
    ParamSpec("height", "Height", "int", 512, "Output height in pixels (a multiple of 64).", "Output", 64, 2048, 64),
    ParamSpec("fit", "Fit", "choice", "pad", "pad: keep the whole photo and pose (the padding is removed on "
              "export). crop: fill the frame, cutting the edges.", "Output", choices=("pad", "crop")),
    ParamSpec("max_frames", "Frames", "int", 16, "How many driving frames to render after trim and stride "
              "(0 = all). Time grows with the frame count.", "Output", 0, 2000, 1, slider=True),
    ParamSpec("export_fps", "Output FPS", "float", 0.0, "Frame rate of the exported mp4. 0 keeps the driving "
              "video's timing (its fps divided by the stride).", "Output", 0.0, 120.0, 1.0, 1),
    ParamSpec("steps", "Steps", "int", 25, "Denoising steps. More steps refine detail; time grows linearly.",
              "Sampling", 1, 200, 1, slider=True),
    ParamSpec("min_guidance", "Guidance min", "float", 3.0, "Classifier-free guidance on the first frame of "
              "each tile; it ramps linearly to 'Guidance max' on the last frame.", "Sampling", 0.0, 20.0, 0.1, 1,
              slider=True),
    ParamSpec("max_guidance", "Guidance max", "float", 3.0, "Classifier-free guidance on the last frame of each "
              "tile (must be above 1). Higher follows the reference more strongly but can oversaturate.",
              "Sampling", 0.0, 20.0, 0.1, 1, slider=True),
    ParamSpec("seed", "Seed", "int", 42, "Random seed of the initial noise. The same seed and settings give the "
              "same video. Lock it to keep it; the dice picks a new one.", "Sampling", 0, 2**31 - 1, 1),
    ParamSpec("fps", "FPS conditioning", "int", 7, "The frame rate the model is told (micro-conditioning; the "
              "original always uses 7). It does not change the output timing.", "Sampling", 1, 60, 1),
    ParamSpec("motion_bucket", "Motion bucket", "int", 127, "SVD's motion conditioning: higher asks for "
              "more motion.", "Sampling", 0, 1023, 1, slider=True),
    ParamSpec("noise_aug", "Noise augmentation", "float", 0.02, "Noise added to the reference image "
              "latent. Higher loosens the likeness to the photo.", "Sampling", 0.0, 1.0, 0.01, 3, slider=True),
    ParamSpec("tile_size", "Tile size", "int", 16, "Frames denoised together in one window. Longer clips are "
              "rendered in overlapping windows of this many frames.", "Memory", 2, 64, 1),
    ParamSpec("tile_overlap", "Tile overlap", "int", 4, "Frames shared by neighbouring windows; blended for "
              "smooth transitions. Must be smaller than the tile size.", "Memory", 0, 32, 1),
    ParamSpec("decode_chunk", "Decode chunk", "int", 4, "Frames the VAE decodes at once. Lower uses less "
              "memory.", "Memory", 1, 64, 1),
    ParamSpec("hjb", "Face refinement (HJB)", "bool", False, "Identity-preserving optimisation of the face "
              "during denoising (the paper's HJB step). Better likeness; slower.", "Identity"),
    ParamSpec("hjb_iterations", "HJB iterations", "int", 3, "Gradient steps of the face refinement per "
              "denoising step.", "Identity", 1, 20, 1),
    ParamSpec("hjb_mode", "HJB decode", "choice", "fast", "fast: decode only a window around each face for the "
              "refinement (much faster, memory independent of the frame size). exact: decode whole frames, as "
              "the original does.", "Identity", choices=("fast", "exact")),
    ParamSpec("face_model", "Face model", "choice", "auto", "antelopev2: ArcFace embedding of the photo's "
              "face (needs the insightface files). auto: antelopev2 when present. none: no identity embedding "
              "(weaker likeness).", "Identity", choices=("auto", "antelopev2", "mediapipe", "none")),
    ParamSpec("device", "Device", "choice", "auto", "Where the model runs. auto picks CUDA, then MPS, then CPU.",
              "Device", choices=("auto", "cuda", "mps", "cpu")),
    ParamSpec("dtype", "Precision", "choice", "auto", "Number format. auto: fp16 on GPUs, fp32 on CPU.",
              "Device", choices=("auto", "fp16", "bf16", "fp32")),
    ParamSpec("cpu_offload", "CPU offload", "bool", False, "Keep idle model parts in system memory to fit "
              "smaller GPUs (slower).", "Device"),
    ParamSpec("format", "Format", "choice", DEFAULT_FORMAT, "Container and codec of the render: "
              + "; ".join(f"{name}: {f.label}" for name, f in FORMATS.items()) + ".", "Export",
              choices=tuple(FORMATS)),
    ParamSpec("crf", "Quality (CRF)", "int", 18, "H.264 constant rate factor: lower is better quality and a "
              "bigger file (18 is visually lossless).", "Export", 0, 51, 1, slider=True),
    ParamSpec("x264_preset", "Encoder speed", "choice", "medium", "x264 preset: slower presets give smaller "
              "files at the same quality.", "Export",
              choices=("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower",
                       "veryslow")),
    ParamSpec("audio", "Keep audio", "bool", True, "Copy the driving video's audio, trimmed to the rendered "
              "range.", "Export"),
    ParamSpec("side_by_side", "Side-by-side video", "bool", False, "Also export reference | pose | result as "
              "one video.", "Export"),
    ParamSpec("png_sequence", "PNG frames", "bool", False, "Also export every frame as a PNG file in a folder beside the mp4.", "Export"),
    ParamSpec("gif", "GIF", "bool", False, "Also export a GIF (small, lower quality; for sharing).", "Export"),
)

SPEC_BY_NAME = {spec.name: spec for spec in SPECS}


def default_params() -> dict[str, Any]:
    return {spec.name: spec.default for spec in SPECS}


def coerce(name: str, value: Any) -> Any:
    """A stored value as the spec's type, clamped to its range (project files may be hand-edited)."""
    spec = SPEC_BY_NAME[name]
    if spec.kind == "bool":
        return bool(value)
    if spec.kind == "choice":
        return value if value in spec.choices else spec.default
    number = int(round(float(value))) if spec.kind == "int" else float(value)
    return min(max(number, type(number)(spec.minimum)), type(number)(spec.maximum))


def validate(params: dict[str, Any]) -> dict[str, str]:
    """Problems by parameter name; empty when the settings can be rendered."""
    problems: dict[str, str] = {}
    for side in ("width", "height"):
        if params[side] % 64:
            problems[side] = f"{SPEC_BY_NAME[side].label} must be a multiple of 64 (got {params[side]})."
    if params["min_guidance"] > params["max_guidance"]:
        problems["min_guidance"] = "Guidance min must not exceed guidance max."
    if params["engine"] == "diffusion" and params["max_guidance"] <= 1.0:
        problems["max_guidance"] = "Guidance max must be above 1 for the diffusion engine."
    if params["tile_overlap"] >= params["tile_size"]:
        problems["tile_overlap"] = "Tile overlap must be smaller than the tile size."
    if params["engine"] == "diffusion" and params["width"] * params["height"] > 1024 * 1024:
        problems["width"] = "Above about 1 megapixel the model was not trained and memory runs out; use ≤ 1024×1024."
    return problems


def flatten_preset(values: dict[str, Any]) -> dict[str, Any]:
    """A core preset (RenderRequest fields, nested export/hjb) as the panel's flat settings."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if key == "export" and isinstance(value, dict):
            for sub, v in value.items():
                name = {"preset": "x264_preset", "fps": "export_fps"}.get(sub, sub)
                flat[name] = 0.0 if (name == "export_fps" and v is None) else v
        elif key == "hjb" and isinstance(value, dict):
            if "enabled" in value:
                flat["hjb"] = value["enabled"]
            if "iterations" in value:
                flat["hjb_iterations"] = value["iterations"]
            if "decode_mode" in value:
                flat["hjb_mode"] = value["decode_mode"]
        elif key == "max_frames":
            flat[key] = value or 0
        else:
            flat[key] = value
    return {k: v for k, v in flat.items() if k in SPEC_BY_NAME}


def core_presets() -> dict[str, dict[str, Any]]:
    """The studio's named presets (``studio.presets.PRESETS``) as the panel's flat settings."""
    return {name: flatten_preset(values) for name, values in PRESETS.items()}

#: What "Preview" changes on top of the current settings: low resolution, few steps, few frames.
QUICK_PREVIEW = {"width": 256, "height": 256, "steps": 6, "max_frames": 4, "hjb": False, "decode_chunk": 2,
                 "format": DEFAULT_FORMAT}  # the preview player reads mp4
