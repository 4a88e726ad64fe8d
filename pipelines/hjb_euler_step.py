"""Euler step with a hook that replaces the predicted ``x0`` before the update (HJB, spec §11).

:func:`refined_euler_step` works on any diffusers ``EulerDiscreteScheduler`` (the pipeline calls it on its own
scheduler, so no component changes class). :class:`EulerDiscreteSchedulerHJB` wraps it as a scheduler whose
``step`` is diffusers' unchanged unless a refiner is installed for that step, so HJB-disabled runs are
bit-identical to the basic ones. On a refined step ``x0`` is computed exactly like diffusers, handed to
``refiner(x0, step_index, num_inference_steps)``, and the Euler step ``x + (x − x0')/σ · (σ_next − σ)`` uses
the returned ``x0'``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from diffusers.schedulers.scheduling_euler_discrete import (
    EulerDiscreteScheduler,
    EulerDiscreteSchedulerOutput,
)

X0Refiner = Callable[[torch.Tensor, int, int], torch.Tensor]


def euler_step_from_x0(
    sample: torch.Tensor, pred_x0: torch.Tensor, sigma: torch.Tensor, sigma_next: torch.Tensor
) -> torch.Tensor:
    """The Euler update with a given ``x0``, in the scheduler's op order: ``x + (x − x0)/σ · (σ' − σ)``."""
    sample = sample.to(torch.float32)
    derivative = (sample - pred_x0) / sigma
    return sample + derivative * (sigma_next - sigma)


def v_prediction_x0(model_output: torch.Tensor, sample: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """``x0 = v·(−σ/√(σ²+1)) + x/(σ²+1)`` exactly as the Euler scheduler computes it."""
    sample = sample.to(torch.float32)
    return model_output * (-sigma / (sigma**2 + 1) ** 0.5) + (sample / (sigma**2 + 1))


def refined_euler_step(
    scheduler: EulerDiscreteScheduler,
    model_output: torch.Tensor,
    timestep: torch.Tensor | float,
    sample: torch.Tensor,
    refiner: X0Refiner,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One Euler step (``s_churn = 0``) of a v-prediction scheduler with ``x0`` replaced by ``refiner(x0, i, N)``.

    Returns ``(prev_sample, refined_x0)`` and advances the scheduler's step index like ``scheduler.step``.
    """
    if scheduler.config.prediction_type != "v_prediction":
        raise ValueError(
            f"HJB refinement needs a v-prediction scheduler, got prediction_type={scheduler.config.prediction_type!r}"
        )
    if scheduler.step_index is None:
        scheduler._init_step_index(timestep)
    index = scheduler.step_index
    sample = sample.to(torch.float32)
    sigma = scheduler.sigmas[index]
    pred_original_sample = v_prediction_x0(model_output, sample, sigma)
    refined = refiner(pred_original_sample, index, scheduler.num_inference_steps)
    refined = refined.to(device=sample.device, dtype=torch.float32)
    prev_sample = euler_step_from_x0(sample, refined, sigma, scheduler.sigmas[index + 1]).to(model_output.dtype)
    scheduler._step_index += 1
    return prev_sample, refined


class EulerDiscreteSchedulerHJB(EulerDiscreteScheduler):
    """``EulerDiscreteScheduler`` + an optional ``x0`` refiner (set per generation with :meth:`set_x0_refiner`)."""

    x0_refiner: X0Refiner | None = None
    refine_step: Callable[[int], bool] | None = None

    def set_x0_refiner(self, refiner: X0Refiner | None, refine_step: Callable[[int], bool] | None = None) -> None:
        """Install (or with ``None`` remove) the hook; ``refine_step(i)`` says which step indices it handles."""
        self.x0_refiner = refiner
        self.refine_step = refine_step

    def step(self, model_output, timestep, sample, *args, return_dict: bool = True, **kwargs):
        if self.step_index is None:
            self._init_step_index(timestep)
        churn = args[0] if args else kwargs.get("s_churn", 0.0)
        refine = self.x0_refiner is not None and (self.refine_step is None or self.refine_step(self.step_index))
        if not refine or churn != 0.0:
            return super().step(model_output, timestep, sample, *args, return_dict=return_dict, **kwargs)
        prev_sample, refined = refined_euler_step(self, model_output, timestep, sample, self.x0_refiner)
        if not return_dict:
            return prev_sample, refined
        return EulerDiscreteSchedulerOutput(prev_sample=prev_sample, pred_original_sample=refined)
