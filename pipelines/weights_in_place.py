"""Checkpoints put straight into modules built without weights: one copy of the weights in memory, ever.

The naive way — build a module (its initialisers fill every parameter), read the checkpoint (a second full copy),
``load_state_dict`` (copy over the first) — holds the weights twice and spends seconds initialising numbers that are
overwritten at once; for the 6.2 GB UNet that is 12.4 GB at the peak. Here:

1. modules are built with their parameters on the meta device (``accelerate.init_empty_weights``: shapes only;
   buffers stay real because non-persistent ones, such as CLIP's ``position_ids``, are never in a checkpoint);
2. checkpoints are opened memory-mapped (``torch.load(mmap=True, weights_only=True)``, safetensors' ``safe_open``),
   copy-on-write (``MAP_PRIVATE``: nothing the process does reaches the file), so opening them costs nothing;
3. a tensor the module wants at the file's dtype on the CPU *is* the mapped tensor: the parameter's memory is the
   file's pages in the page cache. Nothing is read or copied (copying the 9.35 GB release into fresh memory cost as
   much as reading it again, and needed the weights twice — page cache plus copy: on this 24 GB machine the cache
   was evicted under that pressure and the next load read the disk); a second render or a second process shares
   the same pages;
4. a tensor that must be cast or moved (bf16, a GPU) is read once with plain file reads into one staging buffer,
   cast into its own memory, and the pages of the map it touched are handed back to the kernel
   (``madvise(MADV_DONTNEED)``: clean file pages, nothing is lost); the module takes the copies by
   ``load_state_dict(assign=True)``.

So the resident memory while loading is the finished weights plus one tensor, and each component's dtype is the one
asked for here — never a config file's ``torch_dtype``. Whether every number is finite is checked on the values as
they are placed (a separate pass over the checkpoints first read the 9 GB release twice).

The price of (3): the loaded weights depend on their files. Deleting a file or replacing it by a rename (what
downloaders do) changes nothing — the map keeps the old file alive; a file rewritten in place would show through (or,
cut short, end the process), so the studio's engine keys its loaded pipeline on each file's identity, size and
modification time and loads again when one changed (``weight_files_signature``).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import mmap
import os
import struct
import sys
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import torch

from .weight_checks import all_finite

_PAGE = mmap.PAGESIZE
_MADV_DONTNEED = 4  # Linux's values; only used on Linux
_MADV_POPULATE_READ = 22  # Linux 5.14+: map a range's (cached) file pages in one call instead of a fault per page


def build_empty(factory: Callable[[], torch.nn.Module]) -> torch.nn.Module:
    """``factory()`` with every parameter on the meta device (no memory, no initialisation cost); buffers real."""
    from accelerate import init_empty_weights  # type: ignore[import-untyped]  # accelerate ships no type hints

    with init_empty_weights(include_buffers=False):
        return factory()


@contextlib.contextmanager
def _one_torch_thread() -> Iterator[None]:
    """Torch's intra-op threads at 1 while copying: a cast of one tensor is memory-bound, and every parallel region
    waits for all its threads to be scheduled — with other processes on the cores, 6× slower than one thread over the
    VAE's 374 tensors (measured), seconds over the UNet's. Restored afterwards (the render wants them all)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def _libc_madvise() -> Iterator[Callable[[int, int], None] | None]:
    if not sys.platform.startswith("linux"):
        yield None
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)

    def advise(start: int, length: int, advice: int = _MADV_DONTNEED) -> None:
        libc.madvise(start, length, advice)  # advice only: a failure changes speed or residency, never data

    yield advise


def _page_range(tensor: torch.Tensor) -> tuple[int, int]:
    """The whole pages under ``tensor``'s bytes: (first page address, length); length 0 when there are none."""
    start = tensor.data_ptr()
    end = start + tensor.numel() * tensor.element_size()
    first = (start + _PAGE - 1) // _PAGE * _PAGE
    return first, max(0, end // _PAGE * _PAGE - first)


def prefetch_mapped_pages(tensor: torch.Tensor, advise: Callable[..., None] | None) -> None:
    """Map the pages under a memory-mapped ``tensor`` in one call (a 4 KiB page fault each is ~2× slower)."""
    if advise is not None and tensor.device.type == "cpu" and tensor.numel():
        first, length = _page_range(tensor)
        if length:
            advise(first, length, _MADV_POPULATE_READ)


def release_mapped_pages(tensor: torch.Tensor, advise: Callable[..., None] | None) -> None:
    """Give the whole pages under a memory-mapped, file-backed ``tensor`` back to the kernel (Linux).

    Only for tensors of a file opened with ``mmap``: for those the pages are clean copies of the file, so dropping
    them loses nothing. (On anonymous memory ``MADV_DONTNEED`` would zero the data — never call it there.) Pages
    shared with a neighbouring tensor at either end are kept."""
    if advise is None or tensor.device.type != "cpu" or tensor.numel() == 0:
        return
    first, length = _page_range(tensor)
    if length:
        advise(first, length)


def put_in_place(
    module: torch.nn.Module,
    state: Mapping[str, torch.Tensor],
    dtype: torch.dtype,
    device: str | torch.device = "cpu",
    source: str | os.PathLike | None = None,
) -> list[str]:
    """Give ``module`` (built by :func:`build_empty`) the tensors of ``state`` at ``dtype`` (floating point) on
    ``device``. Returns the keys of the floating-point tensors holding NaN or ±infinity in the file (checked on the
    values as read, before any cast; the module takes them all the same, the caller refuses).

    ``source``: the file ``state`` was memory-mapped from. A tensor already at its dtype and device, stored
    contiguously, is then *kept where the map has it*: the module's parameter is the file's bytes in the page cache,
    mapped copy-on-write (no read, no copy, no fresh memory; the weights occupy the page cache once instead of the
    cache plus a copy). Its pages are mapped in one call and every number checked (the only pass over its bytes).
    A tensor that must be cast or moved is read with plain file reads into one staging buffer (what ``torch.load``
    costs, about half of copying out of the map page by page) and the pages of the map it touched handed back.
    Without ``source`` the tensors are copied as they are.

    The caller has checked keys and shapes (``state`` holds exactly the module's state-dict keys, minus BatchNorm
    counters the module does not track)."""
    wanted = module.state_dict(keep_vars=True)
    offsets = file_offsets(source, state) if source is not None else {}
    placed: dict[str, torch.Tensor] = {}
    non_finite: list[str] = []
    staging = torch.empty(0, dtype=torch.uint8)
    on_cpu = torch.device(device).type == "cpu"
    with contextlib.ExitStack() as stack:
        stack.enter_context(_one_torch_thread())
        advise = stack.enter_context(_libc_madvise())
        reader = stack.enter_context(open(source, "rb", buffering=0)) if offsets and source is not None else None
        for key, target in wanted.items():
            if key not in state:
                continue
            given = state[key]
            to_dtype = dtype if given.is_floating_point() else target.dtype
            if source is not None and on_cpu and to_dtype == given.dtype and given.is_contiguous():
                prefetch_mapped_pages(given, advise)
                if not all_finite(given):
                    non_finite.append(key)
                placed[key] = given  # the map's own pages: kept, never released
                continue
            copy = torch.empty(given.shape, dtype=to_dtype, device=device)
            if key in offsets:
                direct = to_dtype == given.dtype and copy.device.type == "cpu"
                if not direct and staging.numel() < given.nbytes:
                    staging = torch.empty(given.nbytes, dtype=torch.uint8)
                landing = copy.view(-1).view(torch.uint8) if direct else staging[:given.nbytes]
                _read_exactly(reader, offsets[key], landing)
                _check_same_start(given, landing, source, key)
                read = copy if direct else landing.view(given.dtype).view(given.shape)
                if not direct:
                    copy.copy_(read)
            else:
                if source is not None:
                    prefetch_mapped_pages(given, advise)
                copy.copy_(given)
                read = given
            if not all_finite(read):
                non_finite.append(key)
            if source is not None:
                release_mapped_pages(given, advise)
            placed[key] = copy
    missing = [key for key, target in wanted.items() if key not in placed and target.is_meta]
    if missing:  # _compare_state lets no such state through; this guards against a caller that skipped it
        raise ValueError(f"no values for {len(missing)} parameter(s), e.g. {missing[0]}")
    module.load_state_dict(placed, strict=False, assign=True)
    return non_finite


def _read_exactly(reader, offset: int, landing: torch.Tensor) -> None:
    view = memoryview(landing.numpy()).cast("B")  # type: ignore[arg-type]  # numpy: ndarray is a buffer, undeclared
    reader.seek(offset)
    done = 0
    while done < len(view):
        count = reader.readinto(view[done:])
        if not count:
            raise OSError(f"{reader.name}: ended {len(view) - done} bytes early at offset {offset + done}")
        done += count


def _check_same_start(given: torch.Tensor, landing: torch.Tensor, source, key: str) -> None:
    """The bytes read must be the mapped tensor's: compare the first few (one page of the map touched)."""
    count = min(64, landing.numel())
    if count and not torch.equal(given.reshape(-1).view(torch.uint8)[:count], landing[:count]):
        raise OSError(f"{source}: the bytes of {key} at its computed file offset differ from the mapped ones")


def file_offsets(path: str | os.PathLike, state: Mapping[str, torch.Tensor]) -> dict[str, int]:
    """Where each contiguous tensor of ``state`` (memory-mapped from ``path``) starts in the file; {} when unknown.

    safetensors: from the header. A zip ``.pth`` from ``torch.load(mmap=True)``: torch maps the whole file and
    every storage is the bytes of one stored (uncompressed) ``…/data/<n>`` record, so the lowest storage address
    belongs to the lowest record; that fixes where the map starts, and each tensor's offset follows from its
    address. :func:`put_in_place` checks every tensor's first bytes it reads against the map."""
    path = Path(path)
    if path.suffix == ".safetensors":
        with open(path, "rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            header = json.loads(handle.read(length))
        return {key: 8 + length + entry["data_offsets"][0] for key, entry in header.items()
                if key != "__metadata__" and key in state and state[key].is_contiguous()}
    if not zipfile.is_zipfile(path):
        return {}
    starts = []
    with zipfile.ZipFile(path) as archive, open(path, "rb") as handle:
        for info in archive.infolist():
            if "/data/" in info.filename and info.compress_type == zipfile.ZIP_STORED:
                handle.seek(info.header_offset + 26)
                name_length, extra_length = struct.unpack("<HH", handle.read(4))
                starts.append(info.header_offset + 30 + name_length + extra_length)
    tensors = [t for t in state.values() if t.numel()]
    if not starts or not tensors:
        return {}
    map_start = min(t.untyped_storage().data_ptr() for t in tensors) - min(starts)
    return {key: t.data_ptr() - map_start for key, t in state.items() if t.is_contiguous() and t.numel()}


def read_safetensors(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Every tensor of a safetensors file, memory-mapped (nothing is read until used)."""
    from safetensors import safe_open

    with safe_open(os.fspath(path), framework="pt", device="cpu") as handle:
        return {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118 - safe_open has no __iter__


def weight_files_signature(paths: list[Path]) -> tuple[tuple[str, int, int, int, int], ...]:
    """Each weight file's path, device, inode, size and modification time (ns): what changes when a file is replaced
    or rewritten, so a pipeline whose parameters are these files' maps can be loaded again instead of used stale."""
    signature = []
    for path in paths:
        info = os.stat(path)
        signature.append((str(path), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns))
    return tuple(signature)
