"""Peak tensor memory of a computation, found by running it on the meta device (no data, no arithmetic).

Every ATen op's outputs are seen by a dispatch mode, which adds each new storage's bytes to a running total and
takes them off again when the storage is freed (a weak-reference finaliser). The result is the largest total of
simultaneously live tensors — what an eager run allocates on top of the tensors that existed before it (weights,
inputs). Two things differ from a real device run and are handled here:

* ``F.scaled_dot_product_attention`` on meta tensors falls back to the math path, which materialises the whole
  ``[heads, L, L]`` score matrix; real CPU and CUDA runs use a fused (flash / memory-efficient) kernel whose only
  output is ``[…, L, d]``. The trace stands in an output-only allocation for it, like the fused kernels.
* Allocator overheads (CUDA caching-allocator rounding, glibc arenas, kernel workspaces) are not tensors; the
  memory model adds them separately.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten


class _FusedAttentionOnMeta(TorchFunctionMode):
    """Replace SDPA by what a fused kernel allocates: the output only (see module docstring)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is F.scaled_dot_product_attention:
            query, value = args[0], args[2] if len(args) > 2 else kwargs["value"]
            return query.new_empty((*query.shape[:-1], value.shape[-1]))
        return func(*args, **kwargs)


class _LiveTensorBytes(TorchDispatchMode):
    def __init__(self, existing: Iterable[torch.Tensor]):
        super().__init__()
        self.live = 0
        self.peak = 0
        # Storages that existed before (weights, inputs): views of them allocate nothing.
        self._known: dict[int, Any] = {t.untyped_storage()._cdata: None for t in existing}

    def _track(self, tensor: torch.Tensor) -> None:
        storage = tensor.untyped_storage()
        key = storage._cdata
        if key in self._known:
            return
        size = storage.nbytes()
        self.live += size
        self.peak = max(self.peak, self.live)

        def release(key: int = key, size: int = size) -> None:
            self.live -= size
            self._known.pop(key, None)

        self._known[key] = weakref.finalize(storage, release)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for item in tree_flatten(out)[0]:
            if isinstance(item, torch.Tensor):
                self._track(item)
        return out


def traced_peak_bytes(fn: Callable[[], Any], existing: Iterable[torch.Tensor] = ()) -> int:
    """Peak bytes of tensors ``fn()`` holds at once beyond ``existing`` (pass the modules' parameters, buffers
    and the inputs). ``fn`` must work on meta tensors; its result is dropped before returning."""
    mode = _LiveTensorBytes(existing)
    with _FusedAttentionOnMeta(), mode:
        result = fn()
    del result
    return mode.peak


def module_tensors(*modules: torch.nn.Module) -> list[torch.Tensor]:
    """Parameters and buffers of ``modules`` (the tensors a traced call does not allocate)."""
    return [t for m in modules for t in (*m.parameters(), *m.buffers())]
