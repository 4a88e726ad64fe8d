"""What travels between the submitter and the workers: inputs in, finished files out, all as bytes.

Inputs go into Ray's object store once per distinct content (sha256 of the file, or of a folder's names and
bytes, as in the request's ``reference_hash``/``motion_hash``); a worker unpacks each one once into its node's
cache under the hash, so a photo used by ten jobs is sent and written once per node. A worker sends the
finished mp4, its sidecar and the extras back as ``{relative name: bytes}``; the submitter writes them
under temporary names in the output folder and renames them into place with the mp4 last, exactly like the
local exporter, so a crash at any point leaves no file posing as finished.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from studio.errors import ExportError, InputError
from studio.export.exporter import check_writable, cleanup_partials, is_studio_frames, is_studio_sidecar
from studio.export.output_names import partial_path, sidecar_path
from studio.request.render_request import content_hash

#: A packed input: {"name": the file or folder name, "folder": bool, "files": {relative posix path: bytes}}.
Packed = dict[str, Any]


def pack(path: str | Path) -> Packed:
    path = Path(path)
    if path.is_dir():
        files = {item.relative_to(path).as_posix(): item.read_bytes()
                 for item in sorted(path.rglob("*")) if item.is_file()}
        return {"name": path.name, "folder": True, "files": files}
    if path.is_file():
        return {"name": path.name, "folder": False, "files": {path.name: path.read_bytes()}}
    raise InputError(f"{path} does not exist; check the path")


class InputStore:
    """Submitter side: one object-store reference per distinct input content."""

    def __init__(self, put: Callable[[Any], Any]) -> None:
        self._put = put  # ray.put (injected: this module never imports Ray)
        self._hash_by_file: dict[tuple[str, int, int], str] = {}
        self._ref_by_hash: dict[str, Any] = {}

    def ref(self, path: str | Path) -> tuple[str, Any]:
        path = Path(path)
        try:
            stat = path.stat()
        except OSError:
            raise InputError(f"{path} does not exist; check the path") from None
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        try:
            digest = self._hash_by_file.get(key) or content_hash(path)
        except OSError as error:
            raise InputError(f"cannot read {path}: {error.strerror or error}") from None
        self._hash_by_file[key] = digest
        if digest not in self._ref_by_hash:
            try:
                packed = pack(path)
            except OSError as error:
                raise InputError(f"cannot read {path}: {error.strerror or error}") from None
            self._ref_by_hash[digest] = self._put(packed)
        return digest, self._ref_by_hash[digest]

    @property
    def uploads(self) -> int:
        """How many inputs went into the object store (one per distinct content)."""
        return len(self._ref_by_hash)


def _safe_relative(name: str) -> PurePosixPath:
    rel = PurePosixPath(name)
    if rel.is_absolute() or not rel.parts or any(part in ("", ".", "..") for part in rel.parts):
        raise ExportError(f"refusing an unsafe file name from a worker: {name!r}")
    return rel


def unpack(packed: Packed, digest: str, cache: Path) -> Path:
    """Worker side: the input's local path, unpacked into ``cache/inputs/<hash>/`` on first use."""
    home = cache / "inputs" / digest.replace(":", "-")
    target = home / _safe_relative(packed["name"])
    if home.is_dir():
        return target
    (cache / "inputs").mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=cache / "inputs"))
    try:
        root = staging / packed["name"] if packed["folder"] else staging
        for name, data in packed["files"].items():
            dest = root / _safe_relative(name)
            dest.parent.mkdir(parents=True, exist_ok=True)
            with open(dest, "xb") as handle:
                handle.write(data)
        try:
            os.rename(staging, home)
        except OSError as error:  # another worker process of this node unpacked it first
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def collect(folder: Path) -> dict[str, bytes]:
    """Worker side: every file a render left in its private folder, by relative name."""
    return {item.relative_to(folder).as_posix(): item.read_bytes()
            for item in sorted(folder.rglob("*")) if item.is_file()}


def install(files: dict[str, bytes], out: str | Path) -> list[Path]:
    """Submitter side: write a finished job's files beside ``out`` atomically, the mp4 last. Returns the
    final paths. On any error every temporary is removed and ``ExportError`` says what failed."""
    out = Path(out)
    check_writable(out)
    tops: dict[str, list[tuple[PurePosixPath, bytes]]] = {}
    for name, data in files.items():
        rel = _safe_relative(name)
        if not rel.parts[0].startswith(out.stem):
            raise ExportError(f"a worker sent {name!r}, which does not belong to {out.name}")
        tops.setdefault(rel.parts[0], []).append((rel, data))
    if out.name not in tops:
        raise ExportError(f"the worker sent no {out.name}")
    for top in tops:
        _refuse_what_the_studio_did_not_make(out.parent / top, out)
    staged: list[tuple[Path, Path]] = []
    try:
        for top, entries in tops.items():
            final = out.parent / top
            is_folder = any(len(rel.parts) > 1 for rel, _ in entries)
            temp = partial_path(final, "" if is_folder else None)
            if is_folder:
                temp.mkdir()
            for rel, data in entries:
                dest = temp.joinpath(*rel.parts[1:]) if is_folder else temp
                dest.parent.mkdir(parents=True, exist_ok=True)
                with open(dest, "xb") as handle:  # exclusive: never through a planted file or symlink
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
            staged.append((temp, final))
        staged.sort(key=lambda pair: pair[1] == out)  # the mp4 last: its presence means all is in place
        for temp, final in staged:
            if final.is_dir() and temp.is_dir():
                shutil.rmtree(final)
            os.replace(temp, final)
    except OSError as error:
        for top in tops:
            cleanup_partials(out.parent / top)
        if error.errno == errno.ENOSPC:
            raise ExportError(f"the disk is full: could not write {out}; free some space") from None
        raise ExportError(f"cannot write {out}: {error.strerror or error}") from None
    return [final for _, final in staged]


def _refuse_what_the_studio_did_not_make(final: Path, out: Path) -> None:
    """The queue gives every job a name that was free when it was added; something at that name now is
    somebody's, except what a studio render left there (a retried job's own files): a frames folder of
    ``frame_N.png``, a studio sidecar, or a file beside one."""
    if not (final.exists() or final.is_symlink()) or final.is_symlink():
        return  # nothing there, or a link: os.replace swaps the link itself, never writes through it
    if final.is_dir() and is_studio_frames(final):
        return
    sidecar = sidecar_path(out)
    if final.is_file() and sidecar.is_file() and not sidecar.is_symlink() and is_studio_sidecar(sidecar):
        return
    raise ExportError(f"{final} appeared while the job ran and the studio did not make it; it is never "
                      "replaced. Move it away and run the batch again")
