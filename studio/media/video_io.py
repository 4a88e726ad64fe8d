"""Reading driving videos, frame folders and photos (imageio's bundled ffmpeg, Pillow).

Videos are decoded by ffmpeg, which applies a phone video's display rotation itself, so every frame comes
out upright; ``probe_video`` also reports that rotation. Frames are streamed one at a time (``iter_frames``)
so a long clip never sits in memory whole. Every failure a person can fix becomes an ``InputError`` that
names the file and says what to do.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import subprocess
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from studio.errors import InputError
from studio.request.render_request import IMAGE_SUFFIXES, FrameSelection

VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi", ".gif")
#: Frame rate assumed for a folder of frames (it carries none of its own).
FOLDER_FPS = 30.0

# imageio-ffmpeg logs a warning for every rotated video ("frame size for reading ... is different"): expected.
logging.getLogger("imageio_ffmpeg").setLevel(logging.ERROR)


@dataclass(frozen=True)
class VideoInfo:
    """What a driving clip holds. ``width``/``height`` are the upright frame size (after rotation)."""

    path: str
    fps: float
    frame_count: int
    duration: float
    width: int
    height: int
    rotation: int = 0
    has_audio: bool = False
    kind: str = "video"  # "video" | "frames" (a folder of images) | "image" | "animation" (animated WebP/PNG)
    #: False while ``frame_count`` and ``duration`` are the header's estimate (``count_frames`` makes them exact).
    exact: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


def is_video_path(path: str | Path) -> bool:
    path = Path(path)
    return path.is_dir() or path.suffix.lower() in VIDEO_SUFFIXES


def ffmpeg_exe() -> str:
    """The ffmpeg binary the studio uses everywhere (imageio-ffmpeg's, so no system ffmpeg is needed)."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _natural_key(path: Path) -> list:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def _folder_frames(folder: Path) -> list[Path]:
    return sorted((p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), key=_natural_key)


def _check_exists(path: Path, what: str = "video") -> None:
    if not path.exists():
        raise InputError(f"{path}: file not found; check the path")
    if not (path.is_file() or path.is_dir()):  # a FIFO would block a reader, a device would never end
        raise InputError(f"{path}: not a regular file (a pipe or a device); choose a {what} file")
    if path.is_file() and path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty (0 bytes); choose another {what}")


def ffmpeg_header(path: str | Path) -> str:
    """ffmpeg's description of the file (it prints it to stderr when given no output)."""
    result = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True, errors="replace",
        timeout=60,
    )
    return result.stderr


def count_video_frames(path: str | Path) -> int:
    """Video frames a file holds, counted from its packets (no decoding: fast on a long video); 0 without one."""
    result = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:v:0", "-c", "copy",
                             "-f", "null", "-"], capture_output=True, text=True, errors="replace")
    counts = re.findall(r"frame=\s*(\d+)", result.stderr)
    return int(counts[-1]) if result.returncode == 0 and counts else 0


def _header_has_audio(header: str) -> bool:
    return any("Audio:" in line and "Stream #" in line for line in header.splitlines())


def has_audio(path: str | Path) -> bool:
    """Whether the file holds an audio stream (cached per file and modification time)."""
    path = Path(path)
    if not path.is_file():
        return False
    return _has_audio_version(str(path), path.stat().st_mtime)


@functools.lru_cache(maxsize=256)
def _has_audio_version(path: str, _mtime: float) -> bool:
    """Memoised per file version (the modification time is part of the key, so an edited file is read again)."""
    return _header_has_audio(ffmpeg_header(Path(path)))


def probe_video(path: str | Path) -> VideoInfo:
    """Frame rate, frame count, duration and upright size of a video, a folder of frames or a single image."""
    path = Path(path)
    _check_exists(path)
    if path.is_dir():
        frames = _folder_frames(path)
        if not frames:
            raise InputError(f"{path}: the folder holds no images ({', '.join(IMAGE_SUFFIXES)})")
        first = load_image(frames[0])
        return VideoInfo(
            str(path), FOLDER_FPS, len(frames), len(frames) / FOLDER_FPS, first.shape[1], first.shape[0],
            kind="frames",
        )
    if path.suffix.lower() in IMAGE_SUFFIXES:
        animation = _animation_info(path)
        if animation is not None:
            return animation
        image = load_image(path)
        return VideoInfo(str(path), FOLDER_FPS, 1, 1 / FOLDER_FPS, image.shape[1], image.shape[0], kind="image")

    header = ffmpeg_header(path)
    video_line = next((line for line in header.splitlines() if "Video:" in line and "Stream #" in line), None)
    if video_line is None:
        detail = header.strip().splitlines()[-1] if header.strip() else "no details"
        raise InputError(f"{path}: not a readable video (ffmpeg: {detail}); re-export it as mp4 (H.264)")
    # the frame size follows a comma ("yuv420p, 8x8 [SAR…"); a codec tag like 0x31637661 never matches
    size = re.search(r",\s*(\d{1,5})x(\d{1,5})\b", video_line)
    fps_match = re.search(r"([\d.]+) fps", video_line) or re.search(r"([\d.]+) tbr", video_line)
    rotation_match = re.search(r"rotation of (-?[\d.]+) degrees", header)
    rotation = int(round(float(rotation_match.group(1)))) % 360 if rotation_match else 0
    width, height = (int(size.group(1)), int(size.group(2))) if size else (0, 0)
    if rotation in (90, 270):
        width, height = height, width
    fps = float(fps_match.group(1)) if fps_match else 0.0
    if width <= 0 or height <= 0:
        raise InputError(f"{path}: the video's frame size cannot be read; re-export it as mp4 (H.264)")
    stated = _header_duration(header)
    if fps > 0 and stated is not None and stated > 0:
        # the header's estimate: counting exactly demuxes the whole file (minutes for hours of video), which
        # only a selection reaching near the end needs (``selected_indices``)
        return VideoInfo(str(path), fps, max(1, round(stated * fps)), stated, width, height, rotation,
                         _header_has_audio(header), exact=False)
    return count_frames(VideoInfo(str(path), fps, 0, 0.0, width, height, rotation, _header_has_audio(header)))


def _animation_info(path: Path) -> VideoInfo | None:
    """An animated WebP/PNG (the studio writes animated WebP) as a clip; None for a still image."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            count = getattr(image, "n_frames", 1)
            if count <= 1:
                return None
            image.load()  # (WebP states a frame's duration once the frame is read)
            milliseconds = image.info.get("duration") or 0
            width, height = image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None  # load_image says what is wrong with it
    fps = 1000.0 / milliseconds if milliseconds > 0 else FOLDER_FPS
    return VideoInfo(str(path), fps, count, count / fps, width, height, kind="animation")


def _header_duration(header: str) -> float | None:
    match = re.search(r"Duration:\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)", header)
    if not match:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


@functools.lru_cache(maxsize=256)
def _frames_and_seconds(path: str, _size: int, _mtime_ns: int) -> tuple[int, float]:
    """Memoised per file version (size and modification time are part of the key); a failure is not memoised."""
    import imageio_ffmpeg

    return imageio_ffmpeg.count_frames_and_secs(path)


def count_frames(info: VideoInfo) -> VideoInfo:
    """``info`` with its frames counted exactly (demuxes the whole file, no decoding; once per file version)."""
    path = Path(info.path)
    stat = path.stat()
    try:
        frame_count, duration = _frames_and_seconds(str(path), stat.st_size, stat.st_mtime_ns)
    except (RuntimeError, OSError) as error:
        raise InputError(f"{path}: the video could not be decoded ({error}); re-export it as mp4 (H.264)") \
            from None
    if frame_count <= 0:
        raise InputError(f"{path}: the video holds no frames; choose another video")
    fps = info.fps if info.fps > 0 else (frame_count / duration if duration > 0 else FOLDER_FPS)
    duration = float(duration) if duration > 0 else frame_count / fps
    return replace(info, fps=fps, frame_count=int(frame_count), duration=duration, exact=True)


def select_frames(count: int, fps: float, selection: FrameSelection) -> list[int]:
    """The one frame-selection rule: positions among ``count`` frames at ``fps`` that the trim window
    [start, end) in seconds, the stride and the frame limit pick (a video, a skeleton-image folder or an
    extract-motion file all select the same way)."""
    first = int(math.floor(selection.start * fps + 1e-6))
    last = count if selection.end is None else min(count, int(math.ceil(selection.end * fps - 1e-6)))
    positions = list(range(first, last, selection.stride))
    return positions[: selection.max_frames] if selection.max_frames is not None else positions


#: A selection ending this many seconds before the header's estimated end does not need the exact count.
ESTIMATE_MARGIN_S = 2.0


def selected_indices(info: VideoInfo, selection: FrameSelection = FrameSelection()) -> list[int]:
    """The source frame indices a selection picks, in order. The whole file is counted only when the selection
    may reach near its end; ``--frames 4`` of a four-hour clip reads four frames' worth."""
    indices = select_frames(info.frame_count, info.fps, selection)
    margin = ESTIMATE_MARGIN_S * info.fps + 2
    if not info.exact and (not indices or indices[-1] >= info.frame_count - margin):
        info = count_frames(info)
        indices = select_frames(info.frame_count, info.fps, selection)
    if not indices:
        raise InputError(
            f"{info.path}: the trim window {selection.start}–{selection.end} s selects no frames "
            f"(the clip lasts {info.duration:.2f} s)"
        )
    return indices


#: A trim starting later than this seeks instead of decoding the frames before it.
SEEK_AFTER_S = 5.0


def iter_frames(
    path: str | Path, selection: FrameSelection = FrameSelection(), info: VideoInfo | None = None
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(source frame index, upright RGB uint8 frame)`` for the selected frames, decoding as it goes."""
    path = Path(path)
    info = info or probe_video(path)
    wanted = selected_indices(info, selection)
    if info.kind == "image":
        yield 0, load_image(path)
        return
    if info.kind == "frames":
        frames = _folder_frames(path)
        for index in wanted:
            yield index, load_image(frames[index])
        return
    if info.kind == "animation":
        from PIL import Image

        with Image.open(path) as image:
            for index in wanted:
                image.seek(index)
                yield index, _to_rgb8(image)
        return

    import imageio_ffmpeg

    wanted_set = set(wanted)
    last = wanted[-1]
    first = wanted[0] if wanted[0] / info.fps >= SEEK_AFTER_S else 0
    # ffmpeg seeks (and decodes from the keyframe before, exactly) to half a frame before the first wanted one
    seek = ["-ss", f"{(first - 0.5) / info.fps:.6f}"] if first else None
    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24", input_params=seek)
    try:
        meta = next(reader)
        width, height = meta["size"]
        for index, raw in enumerate(reader, start=first):
            if index > last:
                break
            if index in wanted_set:
                frame = np.frombuffer(raw, dtype=np.uint8)
                if frame.size != width * height * 3:
                    raise InputError(f"{path}: frame {index} could not be decoded (truncated file?)")
                yield index, frame.reshape(height, width, 3).copy()
    except RuntimeError as error:
        raise InputError(f"{path}: decoding failed ({error}); re-export it as mp4 (H.264)") from None
    finally:
        reader.close()


def read_frames(path: str | Path, selection: FrameSelection = FrameSelection()) -> list[np.ndarray]:
    """All selected frames in memory (for short clips; prefer ``iter_frames`` for long ones)."""
    return [frame for _, frame in iter_frames(path, selection)]


def load_image(path: str | Path) -> np.ndarray:
    """A photo as upright RGB uint8 [H, W, 3]: EXIF orientation applied, transparent pixels composited onto
    black (the colour hidden under alpha 0 is never used), 16-bit greyscale scaled to 8 bits."""
    import warnings

    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    _check_exists(path, "photo")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not an image")
    try:
        with warnings.catch_warnings():
            # past Pillow's warning size the image still loads (and the error below stops real bombs)
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as opened:
                array = _to_rgb8(ImageOps.exif_transpose(opened))
    except Image.DecompressionBombError as error:
        raise InputError(f"{path}: the image is too large to open safely ({error}); use a smaller photo") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        # ValueError: Pillow's refusal of a text chunk that decompresses to too much (a PNG "bomb")
        raise InputError(f"{path}: not a readable image ({error}); use a PNG or JPEG") from None
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise InputError(f"{path}: the image is empty")
    return array


def _to_rgb8(image) -> np.ndarray:
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: Pillow's convert("RGB") clips values above 255 (almost all white); scale instead
        grey = np.asarray(image, dtype=np.float64)
        grey = np.clip(np.round(grey / 257.0), 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float64)
        return np.round(rgba[..., :3] * (rgba[..., 3:] / 255.0)).astype(np.uint8)  # onto black
    return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def fit_to_size(image: np.ndarray, width: int, height: int, mode: str = "crop") -> tuple[np.ndarray, np.ndarray]:
    """Scale ``image`` to exactly ``width``×``height`` keeping its aspect ratio.

    ``crop`` fills the frame and cuts the overflow equally on both sides; ``pad`` fits the whole image
    and pads with black. Returns the result and the 2×3 affine matrix mapping source to output pixels,
    so keypoints found in the source can follow (``studio.motion.transform_pose``).
    """
    import cv2

    src_h, src_w = image.shape[:2]
    if mode not in ("crop", "pad"):
        raise ValueError(f"fit mode must be 'crop' or 'pad', got {mode!r}")
    scale = (max if mode == "crop" else min)(width / src_w, height / src_h)
    tx = (width - src_w * scale) / 2
    ty = (height - src_h * scale) / 2
    matrix = np.array([[scale, 0.0, tx], [0.0, scale, ty]], dtype=np.float64)
    source = image
    step = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    if scale < 0.5:
        # Shrink by area averaging first (warpAffine would alias), then place with the remaining affine.
        small_w, small_h = max(1, round(src_w * scale)), max(1, round(src_h * scale))
        source = cv2.resize(image, (small_w, small_h), interpolation=cv2.INTER_AREA)
        step = np.array([[small_w / src_w, 0.0, 0.0], [0.0, small_h / src_h, 0.0]])
    # The affine from ``source`` pixels to output pixels: matrix ∘ inverse(step).
    remaining = matrix.copy()
    remaining[0, 0] = scale / step[0, 0]
    remaining[1, 1] = scale / step[1, 1]
    # warpAffine maps pixel centres; shift by half a pixel so the matrix holds for pixel corners too.
    remaining[:, 2] += 0.5 * np.diag(remaining[:, :2]) - 0.5
    out = cv2.warpAffine(
        source, remaining, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    return out, matrix
