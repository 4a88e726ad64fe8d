"""Where the time between "Render" and the first denoising step goes, in the log.

A person waits from the click until the first UNet call starts; on a release-size model that is minutes on a CPU,
and one "first UNet call done" line hid which part was loading and which was the call itself (at 256² fp32 on two
shared cores the first call alone takes minutes). :class:`StageClock` hooks the pipeline's modules for one call
and logs, at INFO, when the first denoising step begins (seconds after the Render and after the load phase began)
and how long each conditioning model took before it (CLIP image encoder, face encoder, VAE encoder, PoseNet), then
when the first UNet call is done. ``bench/release_run.py`` reads these lines.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger("studio.render.diffusion_engine")

#: The pipeline's modules run before the first denoising step, as the person knows them.
CONDITIONING = (("image_encoder", "CLIP image encoder"), ("face_encoder", "face encoder"),
                ("vae.encoder", "VAE encoder"), ("pose_net", "PoseNet"))


class StageClock:
    """Times the conditioning models and marks the start and end of the first UNet call of one pipeline call.

    ``render_started`` and ``load_started`` are ``time.perf_counter()`` values; ``clock`` is replaceable in tests."""

    def __init__(self, pipe, render_started: float | None, load_started: float,
                 clock: Callable[[], float] = time.perf_counter):
        self._pipe, self._clock = pipe, clock
        self._render_started, self._load_started = render_started, load_started
        self.seconds: dict[str, float] = {}  # conditioning model → seconds spent in it before the first step
        self.calls: dict[str, int] = {}  # … and how often it ran (once each: a second run is wasted minutes)
        self.first_step_at: float | None = None
        self._entered: dict[str, float] = {}
        self._handles: list = []

    def __enter__(self) -> StageClock:
        for attribute, label in CONDITIONING:
            module = _submodule(self._pipe, attribute)
            if module is not None:
                self._handles.append(module.register_forward_pre_hook(self._enter_hook(label)))
                self._handles.append(module.register_forward_hook(self._leave_hook(label)))
        unet = getattr(self._pipe, "unet", None)
        if unet is not None:
            self._handles.append(unet.register_forward_pre_hook(self._first_step))
        return self

    def __exit__(self, *_exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _enter_hook(self, label: str):
        def hook(_module, _args) -> None:
            self._entered[label] = self._clock()
        return hook

    def _leave_hook(self, label: str):
        def hook(_module, _args, _output) -> None:
            if self.first_step_at is None and label in self._entered:  # HJB's VAE calls later are not conditioning
                self.seconds[label] = self.seconds.get(label, 0.0) + self._clock() - self._entered.pop(label)
                self.calls[label] = self.calls.get(label, 0) + 1
        return hook

    def _first_step(self, _module, _args) -> None:
        if self.first_step_at is not None:
            return
        self.first_step_at = now = self._clock()
        since_render = (f"{now - self._render_started:.2f} s after Render, "
                        if self._render_started is not None else "")
        log.info("first denoising step began %s%.2f s after the render's load phase began", since_render,
                 now - self._load_started)
        log.info("before it: %s", ", ".join(
            f"{label} {seconds:.2f} s" + (f" ({self.calls[label]} runs)" if self.calls[label] > 1 else "")
            for label, seconds in self.seconds.items()) or "no conditioning model ran")


def _submodule(pipe, dotted: str):
    owner = pipe
    for part in dotted.split("."):
        owner = getattr(owner, part, None)
        if owner is None:
            return None
    return owner if hasattr(owner, "register_forward_pre_hook") else None
