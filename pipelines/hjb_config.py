"""The HJB face-refinement settings (docs/model.md §11): one frozen type for the pipeline, the studio's render request and
the sidecar beside every video. No torch here, so a request can be read and checked without the model code."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

DECODE_MODES = ("exact", "fast")
#: Latent pixels added around the face box in fast mode (the decoder's effective receptive field; see bench).
DEFAULT_FAST_MARGIN = 4


@dataclass(frozen=True)
class HJBConfig:
    """Which denoising steps are refined and how (validated by :meth:`validate`).

    ``decode_mode`` defaults to "exact" here, as the original decodes whole frames; the studio's render request
    defaults to "fast" (``studio.request.DEFAULT_HJB``)."""

    # Each field carries its setting declaration as plain metadata (the keys of ``studio.schema.SETTING_KEYS``;
    # this package never imports ``studio``): the studio's validation, CLI and window read it from here.
    enabled: bool = field(default=False, metadata={
        "help": "Identity-preserving optimisation of the face during denoising (the paper's HJB step; needs "
                "glintr100). Better likeness; slower.", "cli": "--hjb", "group": "Identity",
        "label": "Face refinement (HJB)"})
    #: Adam iterations per refined step.
    iterations: int = field(default=3, metadata={
        "help": "Gradient steps of the face refinement per refined denoising step.", "minimum": 1, "maximum": 20,
        "cli": "--hjb-iterations", "group": "Identity", "label": "HJB iterations"})
    #: First and last refined denoising step, both inclusive.
    start_step: int = field(default=0, metadata={
        "help": "First refined denoising step, inclusive.", "minimum": 0, "maximum": 1000, "cli": "--hjb-start"})
    end_step: int = field(default=20, metadata={
        "help": "Last refined denoising step, inclusive.", "minimum": 0, "maximum": 1000, "cli": "--hjb-end"})
    #: Multiplier of the original's learning rate ``eta · (1 − step/steps)``.
    lr_scale: float = field(default=1.0, metadata={
        "help": "Multiplier of the original's HJB learning rate eta·(1 − step/steps).", "minimum": 1e-6,
        "maximum": 1000.0, "cli": "--hjb-lr-scale"})
    #: "exact" decodes whole frames; "fast" only a window of ``fast_margin`` latent pixels around each face.
    decode_mode: str = field(default="exact", metadata={
        "help": "fast: decode only a window around each face for the refinement (much faster, memory independent "
                "of the frame size). exact: decode whole frames, as the original does.", "choices": DECODE_MODES,
        "cli": "--hjb-mode", "group": "Identity", "label": "HJB decode"})
    fast_margin: int = field(default=DEFAULT_FAST_MARGIN, metadata={
        "help": "Latent pixels added around the face box in fast decoding.", "minimum": 0, "maximum": 64})
    #: The original's base learning rate.
    eta: float = field(default=0.1, metadata={
        "help": "The original's base learning rate of the face refinement.", "minimum": 1e-9, "maximum": 100.0})

    def problems(self, num_inference_steps: int | None = None) -> list[str]:
        """Every wrong value as a sentence naming the setting (empty when valid)."""
        p: list[str] = []
        if not isinstance(self.enabled, bool):
            p.append(f"hjb enabled must be True or False, got {self.enabled!r}")
        bad = set()
        for name in ("iterations", "start_step", "end_step", "fast_margin"):
            value, least = getattr(self, name), 1 if name == "iterations" else 0
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                p.append(f"hjb {name} must be an integer >= {least}, got {value!r}")
                bad.add(name)
        if not bad & {"start_step", "end_step"}:  # both whole numbers: compare them
            if self.end_step < self.start_step:
                p.append(f"hjb end_step ({self.end_step}) must be >= start_step ({self.start_step}); "
                         "both are inclusive")
            if num_inference_steps is not None and self.enabled and self.start_step >= num_inference_steps:
                p.append(f"hjb start_step ({self.start_step}) must be below num_inference_steps "
                         f"({num_inference_steps}); no step would be refined")
        for name in ("lr_scale", "eta"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                p.append(f"hjb {name} must be a finite number > 0, got {value!r}")
        if self.decode_mode not in DECODE_MODES:
            p.append(f"hjb decode_mode must be one of {', '.join(DECODE_MODES)}, got {self.decode_mode!r}")
        return p

    def validate(self, num_inference_steps: int | None = None) -> None:
        problems = self.problems(num_inference_steps)
        if problems:
            raise ValueError("; ".join(problems))

    def is_refined(self, step_index: int) -> bool:
        return self.enabled and self.start_step <= step_index <= self.end_step

    def learning_rate(self, step_index: int, num_inference_steps: int) -> float:
        lr = self.eta * (1 - step_index / num_inference_steps)
        # Multiplying by exactly 1.0 is a no-op, but keep the original's float expression untouched anyway.
        return lr if self.lr_scale == 1 else lr * self.lr_scale
