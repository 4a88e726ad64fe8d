"""The nested settings of a render request (export, alignment), declared with ``studio.request.schema.setting``:
type, default, range, choices, unit, help, CLI flag and window group, once. ``RenderRequest``
(``studio.request.render_request``) holds one of each; HJB's settings are declared beside ``pipelines.hjb_config.HJBConfig``. The choice lists those
settings offer live here too (the export format table, the alignment, face, pose-backend, background and colour-match
modes), so the packages that act on a choice import them from the request, never the reverse.

To add a setting, see "Adding a render setting" in the README.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from studio.request.schema import Problem, SettingsError, build, check, setting

X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
ALIGN_MODES = ("global", "bones", "none")
#: The face points: the photo's face shape with the driver's expression, the driver's own, or none.
FACE_MODES = ("retargeted", "driver", "none")
POSE_BACKENDS = ("mediapipe", "dwpose")
#: generated: the engine's frames; photo: the person over the photo's clean plate; transparent: RGBA.
BACKGROUND_MODES = ("generated", "photo", "transparent")
#: off; reference: matched to the reference photo; first-frame: matched to the first rendered frame.
COLOR_MATCH_MODES = ("off", "reference", "first-frame")
#: Highest output frame rate, and highest loop count an animated GIF/WebP stores (a 16-bit field).
MAX_FPS = 240
MAX_LOOP = 65535


#: The export formats, one row each: the choices of ``ExportOptions.format``; ``studio.export.formats`` turns a row
#: into ffmpeg arguments.
@dataclass(frozen=True)
class ExportFormat:
    name: str
    label: str
    #: The output's suffix; "" for the PNG sequence, whose output is a folder.
    extension: str
    #: Software encoder (always available in imageio-ffmpeg's build) and its pixel format.
    encoder: str
    pix_fmt: str
    #: ffmpeg muxer (``-f``).
    muxer: str
    #: How quality is given: "crf" (x264/x265/SVT-AV1), "crf-vpx" (crf with -b:v 0), "prores" (fixed by
    #: profile), "webp" (quality 0-100), "none" (lossless or palette).
    quality: str
    #: Audio codec the container takes, None when it holds no audio.
    audio_codec: str | None = None
    #: The NVENC encoder used instead on an NVIDIA GPU (None: no hardware encoder for this format).
    nvenc: str | None = None
    #: Extra output arguments (profile, tag, container flags).
    extra: tuple[str, ...] = ()
    #: Animated image: honours the loop count.
    loops: bool = False
    #: The pixel format that carries an alpha channel (None: the format has none) and, when the alpha needs
    #: other extras (ProRes 4444 is another profile than 422 HQ), those.
    alpha_pix_fmt: str | None = None
    alpha_extra: tuple[str, ...] | None = None


FORMATS: dict[str, ExportFormat] = {f.name: f for f in (
    ExportFormat("h264-mp4", "H.264 MP4 (8-bit, plays everywhere)", ".mp4", "libx264", "yuv420p", "mp4", "crf",
                 "aac", "h264_nvenc", ("-movflags", "+faststart")),
    ExportFormat("h264-10bit-mp4", "H.264 MP4 (10-bit, less banding)", ".mp4", "libx264", "yuv420p10le", "mp4",
                 "crf", "aac", None, ("-profile:v", "high10", "-movflags", "+faststart")),
    ExportFormat("h265-mp4", "H.265/HEVC MP4 (smaller files)", ".mp4", "libx265", "yuv420p", "mp4", "crf",
                 "aac", "hevc_nvenc", ("-tag:v", "hvc1", "-x265-params", "log-level=error",
                                       "-movflags", "+faststart")),
    ExportFormat("vp9-webm", "VP9 WebM (web)", ".webm", "libvpx-vp9", "yuv420p", "webm", "crf-vpx", "libopus",
                 None, ("-deadline", "good", "-cpu-used", "4", "-row-mt", "1"), alpha_pix_fmt="yuva420p"),
    ExportFormat("av1-webm", "AV1 WebM (smallest files)", ".webm", "libsvtav1", "yuv420p", "webm", "crf",
                 "libopus", "av1_nvenc", ("-svtav1-params", "log-level=1")),
    ExportFormat("prores-mov", "ProRes 422 HQ MOV (editing; 4444 with alpha)", ".mov", "prores_ks", "yuv422p10le",
                 "mov", "prores", "pcm_s16le", None, ("-profile:v", "3", "-vendor", "apl0"),
                 alpha_pix_fmt="yuva444p10le", alpha_extra=("-profile:v", "4", "-vendor", "apl0")),
    ExportFormat("webp", "Animated WebP", ".webp", "libwebp_anim", "yuv420p", "webp", "webp", None, None,
                 ("-compression_level", "4"), loops=True, alpha_pix_fmt="yuva420p"),
    ExportFormat("gif", "Animated GIF", ".gif", "gif", "pal8", "gif", "none", None, None, loops=True),
    ExportFormat("png-sequence", "PNG sequence (a folder of frames)", "", "png", "rgb24", "image2", "none",
                 alpha_pix_fmt="rgba"),
)}
DEFAULT_FORMAT = "h264-mp4"
ENCODER_CHOICES = ("auto", "software", "nvenc")


def alpha_formats() -> list[str]:
    """The formats whose files carry an alpha channel (``--background transparent``)."""
    return [f.name for f in FORMATS.values() if f.alpha_pix_fmt]


def alpha_problem(format_name: str) -> str | None:
    """Why ``format_name`` cannot hold a transparent render, or None when it can."""
    fmt = FORMATS.get(format_name)
    if fmt is None or fmt.alpha_pix_fmt:
        return None
    return (f"the {fmt.label} format has no alpha channel, so it cannot hold a transparent background; choose "
            f"one of {', '.join(alpha_formats())} (--format), or --background photo or generated")


@dataclass(frozen=True)
class ExportOptions:
    crf: int = setting(18, minimum=0, maximum=51, cli="--crf", group="Export", label="Quality (CRF)", slider=True,
                       help="Constant rate factor, lower is better quality and a bigger file (18 is visually "
                       "lossless; H.264/H.265/VP9/AV1/NVENC; WebP quality = 100-crf).")
    preset: str = setting("medium", choices=X264_PRESETS, cli="--x264-preset", group="Export",
                          label="Encoder speed", help="x264/x265 preset: slower presets give smaller files at the "
                          "same quality (mapped onto NVENC p1-p7).")
    #: The output frame rate (request version 3): frames are interpolated up to it and the clip keeps its duration.
    #: Version 2 played the rendered frames at this rate instead (a speed change): ``playback_fps`` below.
    fps: float | None = setting(None, minimum=1, maximum=MAX_FPS, unit="fps", unset="source", cli="--fps",
                                group="Output", label="Output FPS", decimals=1,
                                help="Frame rate of the exported video. Above the driving video's rate (its fps "
                                "divided by the stride) the frames in between are interpolated and the clip keeps "
                                "its duration (12 fps to 30 fps: 2.5 times the frames). Unset keeps the driving "
                                "video's rate; a rate below it is refused (raise the stride to render fewer "
                                "frames).")
    tune: str = setting("none", choices=("none", "animation", "grain"), cli="--x264-tune", group="Export",
                        label="Encoder tune", help="x264/x265 tuning for the content: animation keeps flat areas "
                        "and sharp edges cleaner, grain keeps film grain; none leaves the encoder's default.")
    audio: bool = setting(True, cli="--audio", group="Export", label="Keep audio",
                          help="Copy the driving video's audio, trimmed to the rendered range.")
    side_by_side: bool = setting(False, cli="--side-by-side", group="Export", label="Side-by-side video",
                                 help="Also export reference | pose | result as one video (OUT_side_by_side.mp4).")
    png_sequence: bool = setting(False, cli="--png", group="Export", label="PNG frames",
                                 help="Also export every frame as a PNG file in a folder beside the video (OUT_frames/).")
    gif: bool = setting(False, cli="--gif", group="Export", label="GIF",
                        help="Also export a GIF (small, lower quality; for sharing).")
    format: str = setting(DEFAULT_FORMAT, choices=tuple(FORMATS), cli="--format", group="Export", label="Format",
                          help="Container and codec of the render (the CLI's default: from --out's extension): "
                          + "; ".join(f"{name}: {f.label}" for name, f in FORMATS.items()) + ".")
    bitrate: str | None = setting(None, cli="--bitrate", unset="constant quality (crf)", pattern=r"\d+(\.\d+)?[kKM]?",
                                  example="8M, 2500k or 800000",
                                  help="Target bitrate such as 8M or 2500k instead of constant quality.")
    encoder: str = setting("auto", choices=ENCODER_CHOICES, cli="--encoder",
                           help="auto uses NVENC when an NVIDIA GPU can encode; software never does; nvenc insists.")
    loop: int = setting(0, minimum=0, maximum=MAX_LOOP, cli="--loop",
                        help="Animated WebP/GIF loop count stored in the file (0 loops forever).")
    #: Not in the CLI or the window: what a version-2 request's ``fps`` meant (see ``render_request._from_version_2``),
    #: kept so that such a request still renders the very video it made.
    #: The window has no editor for it, so an output FPS set there wins (a dead end otherwise).
    playback_fps: float | None = setting(None, minimum=1, maximum=MAX_FPS, unit="fps", unset="the output rate",
                                         help="Play the rendered frames at this rate, changing the clip's speed "
                                         "(no frames are added; the audio no longer fits), and the rate of a "
                                         "folder of skeleton images: what the output FPS meant in requests of "
                                         "version 2. Ignored for playback when the output FPS is set.")
    pingpong: bool = setting(False, cli="--pingpong",
                             help="Play forward then backward (frames 1…n…2) for a seamless loop; drops the audio.")


@dataclass(frozen=True)
class AlignmentOptions:
    """How the driving skeleton is fitted to the reference (``studio.motion.align``); part of the request."""

    mode: str = setting("bones", choices=ALIGN_MODES, cli="--align", label="Method",
                        help="Skeleton alignment to the photo. global: one scale and offset fitted to the whole "
                        "body (the original's method). bones: each limb rescaled to the photo's proportions. "
                        "none: the raw motion.")
    smoothing: bool = setting(True, help="One-Euro smoothing of the keypoints over time.")
    #: One-Euro filter: cut-off frequency at rest and speed coefficient.
    min_cutoff: float = setting(1.0, minimum=0.001, maximum=100.0, unit="Hz",
                                help="One-Euro cut-off frequency at rest; lower smooths more.")
    beta: float = setting(0.05, minimum=0.0, maximum=100.0, help="One-Euro speed coefficient; higher lags less.")
    #: Manual nudge, applied after the fit.
    offset_x: float = setting(0.0, minimum=-0.5, maximum=0.5, step=0.01, label="Offset x",
                              help="Move the skeleton left/right (fraction of the width).")
    offset_y: float = setting(0.0, minimum=-0.5, maximum=0.5, step=0.01, label="Offset y",
                              help="Move the skeleton up/down (fraction of the height).")
    scale: float = setting(1.0, minimum=0.25, maximum=4.0, step=0.02,
                           help="Scale the skeleton about its anchor (its neck in the first frame).")
    face: str = setting("retargeted", choices=FACE_MODES, label="Face",
                        help="The face points in the pose images. retargeted: the photo's face shape with the "
                        "driver's expression (keeps the identity). driver: the driver's own face. none: no face "
                        "points.")
    fit_frame: int | None = setting(None, minimum=0, maximum=10_000_000, unset="the best frame",
                                    help="Fit on this clip position only (a frame picked on the timeline).")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AlignmentOptions:
        """Checked options from a mapping (unknown keys refused, every value checked, by path)."""
        return build(cls, dict(data), path="alignment.")

    def __post_init__(self) -> None:
        # The motion code relies on valid options, so they are checked when made (by the declarations above).
        problems = check(self)
        if problems:
            raise SettingsError([Problem("alignment." + p.path, "alignment." + p.message) for p in problems])
