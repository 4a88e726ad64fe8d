"""Every name the studio gives what it writes, in one place: an output and the files beside it (the sidecar and the
extras), the numbered variant of a taken name, the name of a new render, and the hidden temporaries a render writes
before it renames them into place. Nothing here touches a file except ``create_partial``."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from studio.request import ExportOptions

#: Marks a temporary: ``.<stem>.partial.<random><suffix>``; hidden, and never a finished output's name.
PARTIAL_TAG = ".partial"


def sidecar_path(out: str | Path) -> Path:
    """``OUT.json`` beside ``OUT.mp4``: the request and results of the render that wrote OUT."""
    return Path(out).with_suffix(".json")


def output_paths(out: str | Path, options: ExportOptions | None = None) -> dict[str, Path]:
    """Every file or folder a render into ``out`` writes: the video, its sidecar and the chosen extras (all of
    them when ``options`` is None)."""
    out = Path(out)
    paths = {"mp4": out, "sidecar": sidecar_path(out)}
    if options is None or options.side_by_side:
        paths["side_by_side"] = out.with_name(out.stem + "_side_by_side.mp4")
    if options is None or options.gif:
        paths["gif"] = out.with_suffix(".gif")
    if options is None or options.png_sequence:
        paths["png_sequence"] = out.with_name(out.stem + "_frames")
    return paths


def numbered(out: str | Path, n: int) -> Path:
    """``take.mp4`` → ``take_2.mp4`` (n = 2): the name used when ``out`` is taken (by a file or another job)."""
    out = Path(out)
    return out.with_name(f"{out.stem}_{n}{out.suffix}")


def render_name(reference: str | Path, motion: str | Path, extension: str, variant: str | None = None) -> str:
    """A new render's file name: ``<photo>__<motion>[__<variant>]<extension>`` (a preset's name as the variant)."""
    stem = f"{Path(reference).stem}__{Path(motion).stem}" + (f"__{variant}" if variant else "")
    return stem + extension


def partial_prefix(out: Path) -> str:
    # the full stem then the tag then a dot: ``take``'s temporaries never match ``take_2``'s
    return f".{out.stem}{PARTIAL_TAG}."


def partial_path(out: Path, suffix: str | None = None) -> Path:
    """The fixed temporary name of ``out`` (hidden, recognisable): for writers that create it exclusively
    themselves (``open(…, "xb")``, ``mkdir``). A render uses ``create_partial``'s unique names instead."""
    return out.parent / f".{out.stem}{PARTIAL_TAG}{suffix if suffix is not None else out.suffix}"


def create_partial(out: Path, folder: bool = False) -> Path:
    """A new, unique temporary name for ``out`` (same folder, hidden, recognisable), created exclusively:
    ``O_CREAT|O_EXCL`` fails on anything already there, a planted symlink included, so nothing is followed."""
    if folder:
        return Path(tempfile.mkdtemp(prefix=partial_prefix(out), dir=out.parent))
    handle, name = tempfile.mkstemp(prefix=partial_prefix(out), suffix=out.suffix, dir=out.parent)
    os.close(handle)
    return Path(name)
