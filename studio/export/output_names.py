"""Every name the studio gives what it writes, in one place: an output and the files beside it (the sidecar and the
extras), the numbered variant of a taken name, the name of a new render, and the hidden temporaries a render writes
before it renames them into place. Nothing here touches a file except ``create_partial``."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import tempfile
import time
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

from studio.errors import ExportError
from studio.request.render_request import ExportOptions, RenderRequest
from studio.system.platform import no_follow_flag, process_alive, usual_permissions

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


#: The file name of a new render (the format's extension is added): ``<photo>__<motion>``; a batch with presets
#: adds ``__<preset>`` (``studio.batch.plan``).
DEFAULT_NAME_TEMPLATE = "{reference}__{motion}"
TEMPLATE_FIELDS = ("reference", "motion", "preset", "seed", "engine", "format", "date", "counter")


def template_fields(request: RenderRequest, preset: str | None = None) -> dict[str, Any]:
    """What an output name template can use, for ``request`` (``{counter}`` is filled by the expansion)."""
    return {"reference": Path(request.reference).stem, "motion": Path(request.motion).stem, "preset": preset or "",
            "seed": request.seed, "engine": request.engine, "format": request.export.format,
            "date": time.strftime("%Y%m%d-%H%M%S")}


def expand_output_template(template: str | Path, fields: dict[str, Any], taken: AbstractSet[Path] = frozenset(),
                           folder: Path | None = None, claim: bool = False) -> Path:
    """Fill ``{reference}``, ``{motion}``, ``{seed}``, ``{engine}``, ``{format}``, ``{date}`` … and a counter.

    ``{counter}`` (or ``{counter:05d}``) becomes the smallest number ≥ 1 for which neither the output nor its
    sidecar exists yet and that is not in ``taken`` (names given to other jobs of the same batch), so repeated
    renders never overwrite each other (like VideoHelperSuite's counter). With ``folder`` the template is a file
    name inside it, and the folder's own name is taken as it is (braces included). With ``claim`` the number
    is claimed (``claim_name``), so two renders started together never pick the same one.
    """
    text = str(template)
    place = (lambda name: folder / name) if folder is not None else Path
    try:
        if "{counter" not in text:
            return place(text.format(**fields))
        for counter in range(1, 1_000_000):
            candidate = place(text.format(**fields, counter=counter))
            if candidate not in taken and not candidate.exists() and not sidecar_path(candidate).exists():
                if not claim or claim_name(candidate):
                    return candidate
    except (KeyError, IndexError, ValueError, AttributeError) as error:
        raise ExportError(f"the output name template {text!r} is not valid ({error}); it can use "
                          f"{', '.join('{' + k + '}' for k in [*fields, 'counter'])}") from None
    raise ExportError(f"no free output name for {text!r} below counter 1000000")


def claim_path(out: Path) -> Path:
    """The hidden file by which a render claims the name ``out`` before it has written anything."""
    return partial_path(out, ".claim")


def claim_name(out: Path) -> bool:
    """Claim ``out`` for this process (created exclusively, holding the owner); False when a live render has it.
    A claim whose owner is gone is removed and taken over. Where no claim can be written (a read-only folder),
    the name is used unclaimed and the export's own checks say what is wrong."""
    path = claim_path(out)
    for _ in range(2):
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | no_follow_flag(), 0o644)
        except FileExistsError:
            if not claim_is_stale(path):
                return False
            path.unlink(missing_ok=True)
            continue
        except OSError:
            return True
        with os.fdopen(handle, "w") as f:
            f.write(owner_tag())
        return True
    return False


def claim_is_stale(path: Path) -> bool:
    """A claim written by a process of this machine that has ended."""
    try:
        owner = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return False
    return owner_is_gone(owner + "-", "")


def owns_claim(out: Path) -> bool:
    try:
        return claim_path(out).read_text(encoding="utf-8", errors="replace").strip() == owner_tag()
    except OSError:
        return False


def template_problem(template: str) -> str | None:
    """Why ``template`` cannot name a file (None when it can): unknown fields, bad braces, a folder separator."""
    if not template.strip():
        return "file name template is empty; e.g. " + DEFAULT_NAME_TEMPLATE
    if "/" in template or "\\" in template:
        return f"file name template {template!r} holds a folder separator; choose the folder with Output folder"
    sample = {name: "x" for name in TEMPLATE_FIELDS} | {"seed": 1, "counter": 1}
    try:
        template.format(**sample)
    except (KeyError, IndexError, ValueError, AttributeError) as error:
        return (f"file name template {template!r} is not valid ({error}); it can use "
                + ", ".join("{" + k + "}" for k in TEMPLATE_FIELDS))
    return None


#: The longest file name most file systems take (ext4, APFS, NTFS: 255 bytes or UTF-16 units).
NAME_MAX = 255
#: Room a temporary's name needs beyond the output's stem: ".", ".partial.", the owner, a random part, the suffix.
_PARTIAL_ROOM = 1 + len(PARTIAL_TAG) + 1 + 24 + 10


def _partial_stem(out: Path) -> str:
    """The output's stem as its temporaries spell it: whole when it fits, else cut and followed by a hash of the
    whole stem, so a valid long output name never fails because its temporary name is too long, and two long
    names that share a beginning still have temporaries of their own."""
    stem = out.stem
    raw = os.fsencode(stem)  # the bytes the file system stores (a non-UTF-8 name included)
    room = NAME_MAX - _PARTIAL_ROOM - len(os.fsencode(out.suffix))
    if len(raw) <= room:
        return stem
    digest = hashlib.blake2b(raw, digest_size=4).hexdigest()
    return os.fsdecode(raw[: room - 9]) + "~" + digest


def partial_prefix(out: Path) -> str:
    # the full stem then the tag then a dot: ``take``'s temporaries never match ``take_2``'s
    return f".{_partial_stem(out)}{PARTIAL_TAG}."


def owner_tag() -> str:
    """Who writes a temporary: this machine (a short hash of its name: folders may be shared) and process id.
    A later render of the same output removes temporaries whose owner on this machine is gone."""
    host = hashlib.blake2b(socket.gethostname().encode(), digest_size=2).hexdigest()
    return f"{host}-{os.getpid()}"


_OWNER = re.compile(r"([0-9a-f]{4})-(\d+)-")


def owner_is_gone(name: str, prefix: str) -> bool:
    """Whether the temporary ``name`` (of an output whose prefix is ``prefix``) was written by a process of this
    machine that has ended (killed, crashed). A temporary of another machine or without an owner is kept."""
    match = _OWNER.match(name, len(prefix))
    if match is None:
        return False
    mine = owner_tag().split("-")[0]
    return match.group(1) == mine and not process_alive(int(match.group(2)))


def too_long_names(paths) -> list[str]:
    """The file names among ``paths`` longer than the file system allows, as sentences."""
    problems = []
    for path in paths:
        size = len(os.fsencode(Path(path).name))
        if size > NAME_MAX:
            problems.append(f"the name {Path(path).name!r} is {size} bytes long and file systems allow {NAME_MAX}")
    return problems


def partial_path(out: Path, suffix: str | None = None) -> Path:
    """The fixed temporary name of ``out`` (hidden, recognisable): for writers that create it exclusively
    themselves (``open(…, "xb")``, ``mkdir``). A render uses ``create_partial``'s unique names instead."""
    return out.parent / f".{_partial_stem(out)}{PARTIAL_TAG}{suffix if suffix is not None else out.suffix}"


def create_partial(out: Path, folder: bool = False) -> Path:
    """A new, unique temporary name for ``out`` (same folder, hidden, recognisable), created exclusively:
    ``O_CREAT|O_EXCL`` fails on anything already there, a planted symlink included, so nothing is followed."""
    prefix = f"{partial_prefix(out)}{owner_tag()}-"
    if folder:
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=out.parent))
    else:
        handle, name = tempfile.mkstemp(prefix=prefix, suffix=out.suffix, dir=out.parent)
        os.close(handle)
        path = Path(name)
    usual_permissions(path, folder)  # renamed into place when finished: a normal file, not a private one
    return path
