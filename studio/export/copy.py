"""Export a finished render into another file, in the format its name asks for (``take.gif`` is a GIF, not an
mp4 with a GIF's name) or the one named where a suffix has several (``.mp4``: H.264 or H.265; ``.webm``: VP9 or
AV1; a PNG sequence is a folder without a suffix), through the studio's own exporter, with a sidecar beside it.

What may be replaced: a file the studio made (its sidecar beside it names it), and only when the caller says so
(``overwrite``); never a file without such a sidecar, never someone's JSON, and never the sidecar of another
render (``take.gif`` beside ``take.mp4`` would take ``take.json``, the record of ``take.mp4``).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from studio.errors import ExportError, InputError
from studio.export.exporter import (
    AudioSource,
    ExportResult,
    VideoExporter,
    is_studio_frames,
    is_studio_sidecar,
    now_iso,
)
from studio.export.formats import FORMATS, ExportFormat, export_format, format_for_path
from studio.export.output_names import sidecar_path
from studio.media.video_io import has_audio, iter_frames, probe_video
from studio.request.render_request import ExportOptions, RenderRequest
from studio.system.progress import CancelToken, Progress, ProgressCallback, ignore_progress


def _sidecar_data(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _described_video(sidecar: Path) -> str | None:
    """The name of the video a studio sidecar records (its ``files`` list), None when it names none."""
    data = _sidecar_data(sidecar) if is_studio_sidecar(sidecar) else None
    files = (data or {}).get("files")
    name = files.get("mp4") if isinstance(files, dict) else None
    return str(name) if name else None


def studio_made(path: str | Path) -> bool:
    """True when ``path`` is a file (or a PNG sequence's folder of frames) a studio render or export wrote: its
    sidecar beside it names it."""
    path = Path(path)
    if path.is_symlink() or not (path.is_file() or path.is_dir() and is_studio_frames(path)):
        return False
    return _described_video(sidecar_path(path)) == path.name


def target_format(target: str | Path, format_name: str | None = None) -> ExportFormat | None:
    """The format an export into ``target`` writes: ``format_name`` when given, else the one its suffix names (a
    name without a suffix names none: a PNG-sequence folder is written only when asked for)."""
    if format_name:
        return export_format(format_name)
    return format_for_path(target) if Path(target).suffix else None


def _name_problem(target: Path, fmt: ExportFormat | None) -> str | None:
    if fmt is None or fmt.extension and not target.suffix:
        suffixes = ", ".join(sorted({f.extension for f in FORMATS.values() if f.extension}))
        return f"{target.name}: the name must end in one of {suffixes} (it chooses the format)"
    if not fmt.extension and target.suffix:
        return f"{target.name}: a PNG sequence is a folder of frames; give a name without an extension"
    if target.suffix.lower() != fmt.extension:
        return f"{target.name}: a {fmt.label} file ends in {fmt.extension}"
    return None


def export_problem(source: str | Path, target: str | Path,
                   format_name: str | None = None) -> tuple[str, str] | None:
    """Why exporting ``source`` into ``target`` (as ``format_name``, or the format its suffix names) cannot simply
    go ahead: ("refused", why) when it never may, ("exists", why) when it replaces an earlier studio export (ask
    first), None when nothing is in the way."""
    source, target = Path(source), Path(target)
    bad_name = _name_problem(target, target_format(target, format_name))
    if bad_name is not None:
        return "refused", bad_name
    if target.resolve() == source.resolve():
        return "refused", f"{target} is the result itself; choose another name"
    side = sidecar_path(target)
    owner = _described_video(side) if side.exists() else None
    if side.exists() and owner is None:
        return "refused", (f"{side} exists and is not a studio sidecar; it is never replaced. Choose another "
                           "name or folder")
    if owner is not None and owner != target.name and (target.parent / owner).exists():
        return "refused", (f"{side.name} is the record of {owner} (another render); exporting as {target.name} "
                           f"would replace it. Choose another name, e.g. {target.stem}_export{target.suffix}")
    if target.exists() or target.is_symlink():
        if not studio_made(target):
            return "refused", (f"{target} exists and was not made by the studio; it is never replaced. Choose "
                               "another name or folder")
        return "exists", f"{target.name} (a studio export) already exists"
    return None


def _source_request(sidecar: dict, path: Path) -> RenderRequest | None:
    """The render request a source's sidecar records, read as every saved request is (``RenderRequest.from_dict``:
    an older version goes through the schema's migrations, so its export settings mean what they meant then);
    None when the sidecar records none (the defaults apply)."""
    data = sidecar.get("request")
    if not data:
        return None
    try:
        request = RenderRequest.from_dict(data)
    except InputError as error:
        raise ExportError(f"{path}: the render's record cannot be read ({error}); export the render again from "
                          "the studio that made it, or move the sidecar aside to export with default settings"
                          ) from None
    bad = [p.message for p in request.field_problems() if p.path.startswith("export.")]
    if bad:
        raise ExportError(f"{path}: the render's export settings are invalid ({'; '.join(bad)}); fix them in the "
                          "sidecar, or move it aside to export with default settings")
    return request


def export_result(source: str | Path, target: str | Path, overwrite: bool = False,
                  report: ProgressCallback = ignore_progress, cancel: CancelToken | None = None,
                  format_name: str | None = None) -> ExportResult:
    """Re-encode the render ``source`` into ``target`` as ``format_name`` (default: the format of ``target``'s
    suffix), with a sidecar (the source's, noting where it came from). Raises ``ExportError`` with the reason when
    it may not (a name that does not fit the format, a file the studio did not make, an encoder this ffmpeg
    lacks)."""
    source, target = Path(source), Path(target)
    problem = export_problem(source, target, format_name)
    if problem is not None and (problem[0] == "refused" or not overwrite):
        raise ExportError(problem[1])
    cancel = cancel or CancelToken()
    info = probe_video(source)
    fmt = target_format(target, format_name)
    assert fmt is not None  # (export_problem refused a name of no format)
    sidecar = _sidecar_data(sidecar_path(source)) or {}
    request = _source_request(sidecar, sidecar_path(source))
    if request is not None:
        sidecar = {**sidecar, "request": request.to_dict()}  # the record in this studio's version, as it was used
    options = replace(request.export if request is not None else ExportOptions(),
                      format=fmt.name, side_by_side=False, png_sequence=False, gif=False, pingpong=False)
    audio = AudioSource(str(source), 0.0, info.duration) if has_audio(source) else None
    exporter = VideoExporter(target, info.fps, info.width, info.height, options, audio=audio,
                             overwrite=overwrite, inputs=(str(source),))
    with exporter:
        for index, frame in iter_frames(source, info=info):
            cancel.raise_if_cancelled()
            exporter.write(frame)
            report(Progress("export", index + 1, info.frame_count, f"exporting {target.name}"))
        record = {**sidecar, "exported": {"from": str(source), "format": fmt.name, "created": now_iso()}}
        return exporter.finish(record)
