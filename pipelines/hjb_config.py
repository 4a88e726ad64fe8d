"""The HJB face-refinement settings (docs/model.md §11): one frozen type for the pipeline, the studio's render request and
the sidecar beside every video. No torch here, so a request can be read and checked without the model code."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

DECODE_MODES = ("exact", "fast")
#: Latent pixels added around the face box in fast mode (the decoder's effective receptive field; see bench).
DEFAULT_FAST_MARGIN = 4


@dataclass(frozen=True)
class HJBConfig:
    """Which denoising steps are refined and how (validated by :meth:`validate`).

    ``decode_mode`` defaults to "exact" here, as the original decodes whole frames; the studio's render request
    defaults to "fast" (``studio.request.render_request.DEFAULT_HJB``)."""

    # Each field carries its setting declaration as plain metadata (the keys of ``studio.request.schema.SETTING_KEYS``;
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
        """Every wrong value as a sentence naming the setting (empty when valid); each value against its field's
        declared kind, range and choices (the metadata above, which the studio checks the same way)."""
        p: list[str] = []
        bad = set()
        for f in fields(self):
            problem = _value_problem(getattr(self, f.name), f.default, f.metadata)
            if problem:
                p.append(f"hjb {f.name} must be {problem}, got {getattr(self, f.name)!r}")
                bad.add(f.name)
        if not bad & {"start_step", "end_step"}:  # both whole numbers: compare them
            if self.end_step < self.start_step:
                p.append(f"hjb end_step ({self.end_step}) must be >= start_step ({self.start_step}); "
                         "both are inclusive")
            if num_inference_steps is not None and self.enabled and self.start_step >= num_inference_steps:
                p.append(f"hjb start_step ({self.start_step}) must be below num_inference_steps "
                         f"({num_inference_steps}); no step would be refined")
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


def _value_problem(value: object, default: object, declared: Mapping[str, Any]) -> str | None:
    """What ``value`` must be, when it is not what its field declares (None when it is)."""
    if "choices" in declared:
        return None if value in declared["choices"] else f"one of {', '.join(declared['choices'])}"
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "True or False"
    low, high = declared["minimum"], declared["maximum"]
    if isinstance(default, int):
        whole = isinstance(value, int) and not isinstance(value, bool)
        return None if whole and low <= value <= high else f"an integer from {low} to {high}"
    number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return None if number and low <= value <= high else f"a finite number from {low:g} to {high:g}"
