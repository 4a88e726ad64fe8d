"""The HJB face-refinement settings (docs/model.md §11): one frozen type for the pipeline, the studio's render request and
the sidecar beside every video. No torch here, so a request can be read and checked without the model code."""

from __future__ import annotations

import math
from dataclasses import dataclass

DECODE_MODES = ("exact", "fast")
#: Latent pixels added around the face box in fast mode (the decoder's effective receptive field; see bench).
DEFAULT_FAST_MARGIN = 4


@dataclass(frozen=True)
class HJBConfig:
    """Which denoising steps are refined and how (validated by :meth:`validate`).

    ``decode_mode`` defaults to "exact" here, as the original decodes whole frames; the studio's render request
    defaults to "fast" (``studio.request.DEFAULT_HJB``)."""

    enabled: bool = False
    #: Adam iterations per refined step.
    iterations: int = 3
    #: First and last refined denoising step, both inclusive.
    start_step: int = 0
    end_step: int = 20
    #: Multiplier of the original's learning rate ``eta · (1 − step/steps)``.
    lr_scale: float = 1.0
    #: "exact" decodes whole frames; "fast" only a window of ``fast_margin`` latent pixels around each face.
    decode_mode: str = "exact"
    fast_margin: int = DEFAULT_FAST_MARGIN
    #: The original's base learning rate.
    eta: float = 0.1

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
