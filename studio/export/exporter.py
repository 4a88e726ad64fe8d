"""Export: frames stream straight into ffmpeg (a format of ``studio.export.formats``), audio, JSON sidecar.

Nothing is buffered in Python: each frame is written to ffmpeg's stdin as it arrives, so memory does not
grow with clip length. Every output is written under a temporary name in the destination folder and
renamed only when complete; on any error or cancel the temporaries are removed, so no half file ever
poses as finished. ``cleanup_partials`` removes leftovers of a crashed process (the queue calls it on resume).

Nothing the studio did not make is ever deleted or replaced: temporary names are unique per render and
created exclusively (``tempfile.mkstemp``/``mkdtemp``: ``O_CREAT|O_EXCL``, never through a symlink), a render
removes only its own temporaries, an existing output is replaced only when asked (``overwrite``) and only
when it is a file (a folder at an output name is never removed, except a frames folder the studio wrote),
and an output that is one of the render's inputs is refused (``check_outputs``).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from studio.errors import ExportError, OutputExists
from studio.export.formats import (
    PNG_PATTERN,
    audio_args,
    carries_metadata,
    choose_encoder,
    export_format,
    video_args,
)
from studio.export.output_names import (
    claim_is_stale,
    claim_path,
    create_partial,
    output_paths,
    owner_is_gone,
    owns_claim,
    partial_prefix,
    sidecar_path,
    too_long_names,
)
from studio.media.video_io import count_video_frames, ffmpeg_exe, ffmpeg_header, has_audio
from studio.request.render_request import ExportOptions
from studio.system.folders import folder_problem, full_disk
from studio.system.platform import no_follow_flag

log = logging.getLogger(__name__)

SIDECAR_VERSION = 1


def cleanup_partials(out: str | Path) -> list[Path]:
    """Remove every temporary file/folder left by an interrupted export of ``out``; returns what was removed.

    Only for leftovers of a dead process (the queue's recovery): a live render removes its own temporaries."""
    out = Path(out)
    removed: list[Path] = []
    if not out.parent.is_dir():
        return removed
    prefix = partial_prefix(out)
    for item in out.parent.iterdir():
        if item.name.startswith(prefix) or item.name == prefix[:-1]:  # (a partial_path folder has no suffix)
            if item.is_dir() and not item.is_symlink():
                shutil.rmtree(item, ignore_errors=True)
            else:
                item.unlink(missing_ok=True)
            removed.append(item)
    return removed


def cleanup_dead_partials(out: str | Path) -> list[Path]:
    """Remove the temporaries (and a name claim) of ``out`` whose writer on this machine has ended — a render
    killed by SIGKILL or SIGHUP, a crash. A live render's temporaries, or another machine's, are kept."""
    out = Path(out)
    removed: list[Path] = []
    prefix = partial_prefix(out)
    try:
        items = [item for item in out.parent.iterdir() if item.name.startswith(prefix)]
    except OSError:
        return removed
    for item in items:
        dead = claim_is_stale(item) if item == claim_path(out) else owner_is_gone(item.name, prefix)
        if not dead:
            continue
        if item.is_dir() and not item.is_symlink():
            shutil.rmtree(item, ignore_errors=True)
        else:
            item.unlink(missing_ok=True)
        removed.append(item)
    if removed:
        log.info("removed %d temporaries of an earlier render of %s that did not finish", len(removed), out)
    return removed


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    try:
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError):  # a symbolic link loop: no file, so not the same as any other
        return False


def _studio_sidecar(path: Path) -> dict | None:
    """The sidecar's contents when ``path`` is a sidecar a studio render wrote (a JSON object with a request)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("request"), dict) else None


def is_studio_sidecar(path: Path) -> bool:
    return _studio_sidecar(path) is not None


def unfinished_render_files(out: Path) -> set[str]:
    """The names a crashed render of ``out`` left in place: an export renames the extras, then the sidecar (which
    lists them under ``files``), then the video last. A studio sidecar without its video is such a leftover, and so
    is every file it lists; they describe nothing that exists, so a new render of ``out`` may replace them."""
    side = sidecar_path(out)
    data = None if out.exists() or out.is_symlink() or side.is_symlink() else _studio_sidecar(side)
    if data is None:
        return set()
    files = data.get("files")
    listed = {str(n) for n in files.values()} if isinstance(files, dict) else set()
    return {side.name} | {n for n in listed if n != out.name}


def is_studio_frames(path: Path) -> bool:
    """A folder holding nothing but the ``frame_N.png`` files an export writes."""
    try:
        return all(item.is_file() and not item.is_symlink() and re.fullmatch(r"frame_\d+\.png", item.name)
                   for item in path.iterdir())
    except OSError:
        return False


def check_outputs(out: str | Path, options: ExportOptions | None = None, inputs: tuple = (),
                  overwrite: bool = False) -> None:
    """Refuse an output that is one of the render's ``inputs``, that exists without ``overwrite``, or that
    the studio did not make (a folder, a device, someone's JSON at the sidecar's name)."""
    # a PNG-sequence output is a folder of frames, like the --png extra
    folders = {"png_sequence"} | ({"mp4"} if options and export_format(options.format).muxer == "image2" else set())
    too_long = too_long_names(output_paths(out, options).values())
    if too_long:  # (before any look at the files: the system refuses even to say whether they exist)
        raise ExportError(f"{too_long[0]}; choose a shorter output name")
    leftovers = unfinished_render_files(Path(out))
    for kind, path in output_paths(out, options).items():
        for source in inputs:
            if source and _same_file(path, Path(source)):
                raise ExportError(f"the output {path} is also an input of this render ({source}); "
                                  "choose another output name")
        if not (path.exists() or path.is_symlink()):
            continue
        if kind in folders and path.is_dir() and not path.is_symlink():
            if not is_studio_frames(path):
                raise ExportError(f"{path} is a folder holding files the studio did not write; it is never "
                                  "replaced. Move it away or choose another output name")
        elif path.is_dir() or not (path.is_file() or path.is_symlink()):
            raise ExportError(f"{path} exists and is not a file; it is never replaced. Move it away or choose "
                              "another output name")
        elif kind == "sidecar" and not path.is_symlink() and not is_studio_sidecar(path):
            raise ExportError(f"{path} exists and is not a studio sidecar; it is never replaced. Move it away "
                              "or choose another output name")
        if not overwrite and path.name not in leftovers:
            raise OutputExists(path, f"{path} already exists; pass --overwrite to replace it, or choose another "
                               "output name")
        if path.name in leftovers:
            log.info("replacing %s: left by a render of %s that did not finish", path, out)


def _free_bytes(folder: Path) -> int:
    return shutil.disk_usage(folder).free


def check_writable(out: Path, min_free_bytes: int = 1 << 20) -> None:
    """Fail early with a clear message when ``out``'s folder cannot take the output (the studio's one folder check,
    ``studio.system.folders``) or its disk has less than ``min_free_bytes`` left."""
    folder = out.parent
    problem = folder_problem(folder, "output folder")
    if problem is None and (free := _free_bytes(folder)) < min_free_bytes:
        problem = full_disk(folder, "output folder", free)
    if problem:
        raise ExportError(problem)


def _even(value: int) -> int:
    return value - (value % 2)


class _FfmpegPipe:
    """One ffmpeg process fed raw RGB frames on stdin."""

    def __init__(self, width: int, height: int, fps: float, output_args: list[str], target: Path,
                 extra_inputs: list[str] | None = None, final: Path | None = None, channels: int = 3):
        self.width, self.height, self.target, self.channels = width, height, target, channels
        self.final = final or target
        self.written = 0  # frames sent; finish() checks the file holds them all
        cmd = [
            ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgba" if channels == 4 else "rgb24", "-s", f"{width}x{height}",
            "-r", f"{fps:.6f}", "-i", "pipe:0",
            *(extra_inputs or []), *output_args, str(target),
        ]
        log.info("ffmpeg: %s", shlex.join(cmd))
        # A file, not a pipe: a chatty ffmpeg can never block us. Anonymous and in the system's temp folder,
        # not beside the output: on a full output disk the log must still hold ffmpeg's "No space left".
        self._stderr = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=self._stderr, stdout=subprocess.DEVNULL)
        except OSError as error:
            self._stderr.close()
            raise ExportError(f"cannot start ffmpeg ({cmd[0]}): {error}") from None
        assert self.proc.stdin is not None  # (stdin=PIPE)
        self._stdin: IO[bytes] = self.proc.stdin

    def write(self, frame: np.ndarray) -> None:
        if frame.shape != (self.height, self.width, self.channels):
            raise ExportError(f"frame has shape {frame.shape}, the video expects "
                              f"{(self.height, self.width, self.channels)}")
        try:
            self._stdin.write(np.ascontiguousarray(frame, dtype=np.uint8).tobytes())
            self.written += 1
        except (BrokenPipeError, OSError) as error:
            self.proc.wait()
            raise self._error(error) from None

    def finish(self) -> None:
        try:
            self._stdin.close()
        except OSError as error:
            self.proc.wait()
            raise self._error(error) from None
        if self.proc.wait() != 0:
            raise self._error(None)
        self._close_log()
        if self.target.is_file():  # (a PNG sequence's target is a pattern inside a folder)
            held = count_video_frames(self.target)
            if held != self.written:  # never a short or stream-less video under a final name, reported as done
                raise ExportError(f"ffmpeg wrote {held} of the {self.written} frames of {self.final.name}; "
                                  "nothing was replaced (see the log for ffmpeg's command)")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        try:
            self._stdin.close()
        except OSError:
            pass
        self._close_log()

    def _close_log(self) -> None:
        if not self._stderr.closed:
            self._stderr.close()

    def _error(self, error: OSError | None) -> ExportError:
        try:
            self._stderr.flush()
            self._stderr.seek(0)
            log = self._stderr.read().decode(errors="replace").strip()
        except (OSError, ValueError):
            log = ""
        try:
            no_room = _free_bytes(self.target.parent) < (1 << 20)
        except OSError:
            no_room = False
        # ffmpeg dying of a full disk shows up here as a broken pipe; its log or the free space says why
        if (error is not None and error.errno == errno.ENOSPC) or "No space left" in log or no_room:
            return ExportError(f"the disk is full: could not finish writing {self.final}; free some space")
        detail = log.splitlines()[-1] if log else (str(error) if error else "unknown error")
        return ExportError(f"ffmpeg failed writing {self.final.name}: {detail}")


@dataclass
class AudioSource:
    """The driving clip's audio, trimmed to the rendered range."""

    path: str
    start_s: float
    duration_s: float


@dataclass
class ExportResult:
    path: Path
    sidecar: Path
    frames: int
    fps: float
    width: int
    height: int
    audio: bool
    extras: dict[str, Path] = field(default_factory=dict)


class VideoExporter:
    """Streams frames into ``out`` (mp4) and the optional extras; ``finish`` renames them into place.

    Use as a context manager or call ``abort()`` on failure; either way no partial file survives.
    ``crop`` (x0, y0, x1, y1) undoes the renderer's pad: only that region of each frame is written.
    With ``alpha`` the frames are RGBA and the main output keeps the alpha (a format that has one; see
    ``studio.request.settings.alpha_problem``); the side-by-side video and the GIF extra take the RGB, the PNG extra the RGBA.
    """

    def __init__(self, out: str | Path, fps: float, width: int, height: int, options: ExportOptions,
                 audio: AudioSource | None = None, metadata: dict[str, Any] | None = None,
                 crop: tuple[int, int, int, int] | None = None, overwrite: bool = False, inputs: tuple = (),
                 alpha: bool = False):
        self.out = Path(out)
        self.format = export_format(options.format)
        self.alpha = alpha
        self.channels = 4 if alpha else 3
        if self.out.suffix.lower() != self.format.extension:
            raise ExportError(
                f"a {self.format.label} output must end in {self.format.extension}, got {self.out.name}"
                if self.format.extension else
                f"a PNG sequence is written into a folder: give a name without an extension, got {self.out.name}")
        self.overwrite, self.inputs = overwrite, tuple(inputs)
        self.fps, self.options, self.audio = float(fps), options, audio
        x0, y0, x1, y1 = crop if crop is not None else (0, 0, width, height)
        self.crop = (x0, y0, x0 + _even(x1 - x0), y0 + _even(y1 - y0))
        self.width, self.height = self.crop[2] - self.crop[0], self.crop[3] - self.crop[1]
        self.metadata = metadata or {}
        self.frames = 0
        self._pipes: dict[str, _FfmpegPipe] = {}
        self._png_dir: Path | None = None
        self._main_partial: Path | None = None
        self._partials: list[Path] = []  # this render's own temporaries, the only files abort removes
        self._done = False
        self._audio_used = False
        #: Raw frames kept for the backward half of a ping-pong loop (a file, so memory stays flat).
        self._spool: IO[bytes] | None = None

    # ----------------------------------------------------------------- lifecycle
    def __enter__(self) -> VideoExporter:
        self.start()
        return self

    def __exit__(self, kind, value, tb) -> None:
        if kind is not None or not self._done:
            self.abort()

    def start(self) -> None:
        for path in output_paths(self.out).values():  # leftovers of killed renders of these names
            cleanup_dead_partials(path)
        if owns_claim(self.out):  # the name this process claimed ({counter}): released when the export ends
            self._partials.append(claim_path(self.out))
        check_writable(self.out)
        check_outputs(self.out, self.options, self.inputs, self.overwrite)
        o, fmt = self.options, self.format
        finals = output_paths(self.out, o)
        x264 = ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", str(o.crf), "-preset", o.preset]
        comment = json.dumps(self.metadata, sort_keys=True, separators=(",", ":"))
        meta = ["-metadata", f"comment={comment}", "-metadata", "title=StableAnimator Studio render"]
        extra_inputs: list[str] = []
        maps = ["-map", "0:v:0"]
        # Ping-pong plays the frames twice over; the driving clip's audio would no longer fit, so it is left out.
        if (self.audio is not None and o.audio and fmt.audio_codec and not o.pingpong
                and has_audio(self.audio.path)):
            extra_inputs = ["-ss", f"{self.audio.start_s:.6f}", "-t", f"{self.audio.duration_s:.6f}",
                            "-i", str(self.audio.path)]
            # cut (-t above) or padded with silence to the video's length, never the video cut to the audio's
            maps += ["-map", "1:a:0", "-af", f"apad=whole_dur={self.audio.duration_s:.6f}", *audio_args(fmt)]
            self._audio_used = True
        encoder = choose_encoder(fmt, o.encoder, ffmpeg_exe())
        primary = [*maps, *video_args(fmt, o, encoder, self.alpha), *(meta if carries_metadata(fmt) else []),
                   "-f", fmt.muxer]
        try:
            main = finals["mp4"]
            if fmt.muxer == "image2":  # the PNG sequence: a partial folder renamed into place when complete
                self._main_partial = self._partial(main, folder=True)
                primary = [*primary, "-start_number", "0"]
                target = self._main_partial / PNG_PATTERN
            else:
                self._main_partial = target = self._partial(main)
            self._pipes["mp4"] = _FfmpegPipe(self.width, self.height, self.fps, primary, target, extra_inputs,
                                             final=main, channels=self.channels)
            if o.pingpong:  # (named like the output's other temporaries, so recovery after a crash finds it)
                self._spool = open(self._partial(self.out.with_name(self.out.stem + ".raw")), "rb+")
            if o.side_by_side:
                self._pipes["side_by_side"] = _FfmpegPipe(
                    self.width * 3, self.height, self.fps, [*x264, *meta, "-f", "mp4"],
                    self._partial(finals["side_by_side"]), final=finals["side_by_side"])
            if o.gif and fmt.name != "gif":  # a GIF main output already is the GIF
                self._pipes["gif"] = _FfmpegPipe(
                    self.width, self.height, self.fps,
                    ["-vf", "split[a][b];[a]palettegen[p];[b][p]paletteuse", "-f", "gif"],
                    self._partial(finals["gif"]), final=finals["gif"])
            if o.png_sequence:
                self._png_dir = self._partial(finals["png_sequence"], folder=True)
        except BaseException:
            self.abort()
            raise

    @property
    def audio_muxed(self) -> bool:
        """Whether an audio track goes into the video (known once started): what the sidecar may claim."""
        return self._audio_used

    def write(self, frame: np.ndarray, reference: np.ndarray | None = None, pose: np.ndarray | None = None) -> None:
        """Write one result frame (model size); ``reference`` and ``pose`` feed the side-by-side video."""
        x0, y0, x1, y1 = self.crop
        if frame.ndim != 3 or frame.shape[2] != self.channels:
            raise ExportError(f"frame has shape {frame.shape}, the export expects {self.channels} channels")
        result = np.ascontiguousarray(frame[y0:y1, x0:x1])
        self._pipes["mp4"].write(result)
        if self._spool is not None:
            self._spool.write(result.tobytes())
        png = result
        result = np.ascontiguousarray(result[..., :3])  # the extras without alpha
        if "side_by_side" in self._pipes:
            ref = reference[y0:y1, x0:x1] if reference is not None else np.zeros_like(result)
            pos = pose[y0:y1, x0:x1] if pose is not None else np.zeros_like(result)
            self._pipes["side_by_side"].write(np.concatenate([ref, pos, result], axis=1))
        if "gif" in self._pipes:
            self._pipes["gif"].write(result)
        if self._png_dir is not None:
            from PIL import Image

            try:
                Image.fromarray(png).save(self._png_dir / f"frame_{self.frames}.png")
            except OSError as error:
                raise ExportError(f"cannot write PNG frames into {self.out.parent}: {error.strerror or error}") from None
        self.frames += 1

    def _partial(self, final: Path, folder: bool = False) -> Path:
        path = create_partial(final, folder=folder)
        self._partials.append(path)
        return path

    def finish(self, sidecar: dict[str, Any] | None = None) -> ExportResult:
        """Close the encoders, write the sidecar, then rename every output into place."""
        if self.frames == 0:
            self.abort()
            raise ExportError("no frames were rendered, nothing to export")
        try:
            self._write_backward_half()
            for pipe in self._pipes.values():
                pipe.finish()
            finals: dict[str, tuple[Path, Path]] = {}
            for name, pipe in self._pipes.items():
                finals[name] = (pipe.target, pipe.final)
            assert self._main_partial is not None  # (``start`` names it before any frame)
            finals["mp4"] = (self._main_partial, self.out)  # (the PNG sequence's target is a pattern inside)
            if self._png_dir is not None:
                finals["png_sequence"] = (self._png_dir, output_paths(self.out)["png_sequence"])
            side = sidecar_path(self.out)
            if sidecar is not None:
                # what this render puts in place, so that a retry knows them if it dies before the video's rename
                sidecar = {**sidecar, "files": {n: d.name for n, (_s, d) in finals.items()}}
                tmp = self._partial(side)
                _write_text(tmp, json.dumps(sidecar, indent=2, sort_keys=True, default=_json_default))
                finals["sidecar"] = (tmp, side)
            # Again, just before replacing: something may have appeared at an output name during the render.
            check_outputs(self.out, self.options, self.inputs, self.overwrite)
            # The mp4 goes last: its presence means everything else is complete.
            for name in [n for n in finals if n != "mp4"] + ["mp4"]:
                src, dst = finals[name]
                if dst.is_dir() and not dst.is_symlink():
                    # only a frames folder of the studio's own gets here (check_outputs): move it aside first
                    old = create_partial(dst, folder=True)
                    os.replace(dst, old)
                    self._partials.append(old)
                os.replace(src, dst)
            self._remove_partials()  # a replaced frames folder moved aside; the rest are renamed already
        except OSError as error:
            self.abort()
            if error.errno == errno.ENOSPC:
                raise ExportError(f"the disk is full: could not write {self.out}; free some space") from None
            raise ExportError(f"cannot write {self.out}: {error.strerror or error}") from None
        except BaseException:
            self.abort()
            raise
        self._done = True
        return ExportResult(
            path=self.out, sidecar=side, frames=self.frames, fps=self.fps, width=self.width, height=self.height,
            audio=self._audio_used, extras={n: d for n, (_, d) in finals.items() if n not in ("mp4", "sidecar")},
        )

    def _write_backward_half(self) -> None:
        """Ping-pong: frames n-2 … 1 after 0 … n-1, so the loop neither repeats nor skips its ends."""
        if self._spool is None:
            return
        size = self.width * self.height * self.channels
        for index in range(self.frames - 2, 0, -1):
            self._spool.seek(index * size)
            frame = np.frombuffer(self._spool.read(size), np.uint8).reshape(self.height, self.width, self.channels)
            self._pipes["mp4"].write(frame)
        self._close_spool()

    def _close_spool(self) -> None:
        if self._spool is not None:
            self._spool.close()
            Path(self._spool.name).unlink(missing_ok=True)
            self._spool = None

    def abort(self) -> None:
        self._close_spool()
        for pipe in self._pipes.values():
            pipe.kill()
        self._pipes.clear()
        self._remove_partials()

    def _remove_partials(self) -> None:
        for path in self._partials:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        self._partials.clear()


def _write_text(path: Path, text: str) -> None:
    # O_NOFOLLOW: ``path`` is this render's own exclusive temporary; a symlink swapped in is refused
    with open(os.open(path, os.O_WRONLY | os.O_TRUNC | no_follow_flag()), "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


# --------------------------------------------------------------------- probing
@dataclass
class VideoInfo:
    frames: int
    fps: float
    duration_s: float
    width: int
    height: int
    audio: bool
    video_codec: str
    pix_fmt: str
    comment: str


def probe_video(path: str | Path) -> VideoInfo:
    """Frame count (decoded), fps, duration, size, audio presence, codec and comment metadata of a video."""
    import imageio_ffmpeg

    info = ffmpeg_header(path)
    video = re.search(r"Stream #\S+.*: Video: (\w+)[^,]*, (\w+)[^,]*,[^\n]*?(\d{2,5})x(\d{2,5})", info)
    fps = re.search(r"([\d.]+) fps", info)
    comment = re.search(r"^\s*comment\s*:\s*(.*)$", info, re.MULTILINE)
    duration = re.search(r"Duration: (\d+):(\d+):([\d.]+)", info)
    if not video:
        raise ExportError(f"{path} holds no readable video stream")
    frames, _secs = imageio_ffmpeg.count_frames_and_secs(str(path))
    dur = 0.0
    if duration:
        h, m, s = duration.groups()
        dur = int(h) * 3600 + int(m) * 60 + float(s)
    return VideoInfo(
        frames=frames, fps=float(fps.group(1)) if fps else 0.0, duration_s=dur,
        width=int(video.group(3)), height=int(video.group(4)), audio=has_audio(path),
        video_codec=video.group(1), pix_fmt=video.group(2), comment=comment.group(1) if comment else "",
    )


def export_frames(frames, out: str | Path, fps: float, options: ExportOptions | None = None,
                  sidecar: dict[str, Any] | None = None, metadata: dict[str, Any] | None = None,
                  audio: AudioSource | None = None, overwrite: bool = False) -> ExportResult:
    """Export an iterable of equally sized RGB (or RGBA: kept as alpha) uint8 frames (for simple callers)."""
    iterator = iter(frames)
    first = next(iterator, None)
    if first is None:
        raise ExportError("no frames to export")
    h, w = first.shape[:2]
    exporter = VideoExporter(out, fps, w, h, options or ExportOptions(), audio=audio, metadata=metadata,
                             overwrite=overwrite, alpha=first.ndim == 3 and first.shape[2] == 4)
    with exporter:
        exporter.write(first)
        for frame in iterator:
            exporter.write(frame)
        return exporter.finish(sidecar)


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
