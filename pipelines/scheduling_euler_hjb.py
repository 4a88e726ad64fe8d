"""Euler scheduler with an optional hook that replaces the predicted ``x0`` before the update (HJB, spec §11).

Without a refiner (or on a step the refiner skips) :meth:`step` is diffusers' ``EulerDiscreteScheduler.step``
unchanged, so a pipeline using this class with HJB disabled is bit-identical to the basic one. On a refined step
it computes ``x0`` exactly like diffusers, hands it to ``x0_refiner(x0, step_index, num_inference_steps)`` and
takes the Euler step ``x + (x − x0')/σ · (σ_next − σ)`` with the returned ``x0'``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from diffusers.schedulers.scheduling_euler_discrete import (
    EulerDiscreteScheduler,
    EulerDiscreteSchedulerOutput,
)

X0Refiner = Callable[[torch.Tensor, int, int], torch.Tensor]


class EulerDiscreteSchedulerHJB(EulerDiscreteScheduler):
    """``EulerDiscreteScheduler`` + ``x0_refiner`` / ``refine_steps`` (set per generation, cleared after)."""

    x0_refiner: X0Refiner | None = None
    refine_step: Callable[[int], bool] | None = None

    def set_x0_refiner(self, refiner: X0Refiner | None, refine_step: Callable[[int], bool] | None = None) -> None:
        """Install (or with ``None`` remove) the hook; ``refine_step(i)`` says which step indices it handles."""
        self.x0_refiner = refiner
        self.refine_step = refine_step

    def step(self, model_output, timestep, sample, *args, return_dict: bool = True, **kwargs):
        if self.step_index is None:
            self._init_step_index(timestep)
        index = self.step_index
        churn = args[0] if args else kwargs.get("s_churn", 0.0)
        refine = self.x0_refiner is not None and (self.refine_step is None or self.refine_step(index))
        if not refine or self.config.prediction_type != "v_prediction" or churn != 0.0:
            return super().step(model_output, timestep, sample, *args, return_dict=return_dict, **kwargs)

        sample = sample.to(torch.float32)
        sigma = self.sigmas[index]
        pred_original_sample = model_output * (-sigma / (sigma**2 + 1) ** 0.5) + (sample / (sigma**2 + 1))
        refined = self.x0_refiner(pred_original_sample, index, self.num_inference_steps)
        refined = refined.to(device=sample.device, dtype=torch.float32)
        derivative = (sample - refined) / sigma
        dt = self.sigmas[index + 1] - sigma
        prev_sample = (sample + derivative * dt).to(model_output.dtype)
        self._step_index += 1
        if not return_dict:
            return prev_sample, refined
        return EulerDiscreteSchedulerOutput(prev_sample=prev_sample, pred_original_sample=refined)
