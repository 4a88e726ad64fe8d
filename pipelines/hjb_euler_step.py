"""The Euler step of an HJB-refined denoising step: the predicted ``x0`` is replaced before the update.

:func:`refined_euler_step` works on the pipeline's own diffusers ``EulerDiscreteScheduler`` (no component changes
class); the HJB pipeline calls it on refined steps only and diffusers' ``scheduler.step`` on all others, so
HJB-disabled runs are bit-identical to the basic ones. ``x0`` is computed exactly like diffusers, handed to
``refiner(x0, step_index, num_inference_steps)``, and the Euler step ``x + (x − x0')/σ · (σ_next − σ)`` uses the
returned ``x0'`` (docs/model.md §11).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from diffusers.schedulers.scheduling_euler_discrete import EulerDiscreteScheduler

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
    prediction_type = scheduler.config["prediction_type"]
    if prediction_type != "v_prediction":
        raise ValueError(f"HJB refinement needs a v-prediction scheduler, got prediction_type={prediction_type!r}")
    if scheduler.step_index is None:
        scheduler._init_step_index(timestep)
    index: int = scheduler.step_index
    sample = sample.to(torch.float32)
    sigma = scheduler.sigmas[index]
    pred_original_sample = v_prediction_x0(model_output, sample, sigma)
    steps: int = scheduler.num_inference_steps  # type: ignore[assignment]  # set by set_timesteps before any step
    refined = refiner(pred_original_sample, index, steps)
    refined = refined.to(device=sample.device, dtype=torch.float32)
    prev_sample = euler_step_from_x0(sample, refined, sigma, scheduler.sigmas[index + 1]).to(model_output.dtype)
    scheduler._step_index = index + 1  # type: ignore[assignment]  # diffusers declares it as None only
    return prev_sample, refined
