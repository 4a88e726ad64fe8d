"""StableAnimator with HJB face refinement (docs/model.md §11): :class:`StableAnimatorHJBPipeline` and its loader.

The subclass adds a ``face_embedder`` component (the ArcFace IResNet of ``Animation/glintr100_torch.pth``) and HJB
keyword arguments to ``__call__``; it overrides only the pipeline's Euler step. With HJB disabled (the default)
the call is the basic pipeline's call, bit for bit.

Example::

    pipe = load_stable_animator_hjb_pipeline("checkpoints")
    out = pipe(image, poses, id_embedding, height=512, width=512, tile_size=16,
               hjb=HJBConfig(enabled=True, iterations=3, start_step=0, end_step=20, decode_mode="fast"),
               face_boxes_xyxy=[frame.face_box for frame in motion],      # or face_masks="faces/"
               reference_face_mask="reference_mask.png")                  # or reference_face_box(_xyxy)=...
    frames, losses = out.frames, out.hjb_losses
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import PIL.Image
import torch

from .face_embedder import IResNetFaceEmbedder
from .hjb import HJBConfig, HJBFaceRefiner, vae_decode_fn
from .hjb_euler_step import refined_euler_step
from .hjb_faces import (
    face_box_from_xyxy,
    face_boxes_from_masks,
    load_reference_pixels,
    reference_embedding,
    validate_boxes,
)
from .image_processing import ImageLike
from .pipeline_stable_animator import StableAnimatorPipeline, StableAnimatorPipelineOutput

FACE_EMBEDDER_STEM = "glintr100_torch"


@dataclass
class StableAnimatorHJBPipelineOutput(StableAnimatorPipelineOutput):
    """``frames`` as in the basic pipeline; ``hjb_losses``: every HJB iteration's loss in order (empty if off)."""

    hjb_losses: list[float] | None = None


class StableAnimatorHJBPipeline(StableAnimatorPipeline):
    """:class:`StableAnimatorPipeline` + HJB face refinement of the predicted ``x0`` on chosen steps."""

    _optional_components = [*StableAnimatorPipeline._optional_components, "face_embedder"]

    def __init__(
        self,
        vae: Any,
        image_encoder: Any,
        unet: Any,
        scheduler: Any,
        pose_net: Any,
        face_encoder: Any,
        feature_extractor: Any = None,
        face_embedder: IResNetFaceEmbedder | None = None,
    ):
        super().__init__(vae, image_encoder, unet, scheduler, pose_net, face_encoder, feature_extractor)
        self.register_modules(face_embedder=face_embedder)
        self._hjb_refiner: HJBFaceRefiner | None = None
        #: losses of the last call's HJB iterations (empty when HJB was off)
        self.hjb_losses: list[float] = []

    # ------------------------------------------------------------------ the refined step
    def _scheduler_step(self, model_output, t, latents, step_index):
        refiner = self._hjb_refiner
        if refiner is None or not refiner.config.is_refined(step_index):
            return super()._scheduler_step(model_output, t, latents, step_index)
        return refined_euler_step(self.scheduler, model_output, t, latents, refiner.refine_x0)[0]

    # ------------------------------------------------------------------ inputs
    def _hjb_config(self, hjb: HJBConfig | dict | bool | None) -> HJBConfig:
        if hjb is None or hjb is False:
            return HJBConfig(enabled=False)
        if hjb is True:
            return HJBConfig(enabled=True)
        if isinstance(hjb, dict):
            unknown = sorted(set(hjb) - set(HJBConfig.__dataclass_fields__))
            if unknown:
                raise ValueError(f"`hjb` has unknown settings {unknown}; allowed: {sorted(HJBConfig.__dataclass_fields__)}")
            return HJBConfig(**{"enabled": True, **hjb})
        if isinstance(hjb, HJBConfig):
            return hjb
        raise ValueError(f"`hjb` must be an HJBConfig, a dict of its fields, a bool or None, got {type(hjb).__name__}")

    def _target_boxes(self, face_boxes, face_boxes_xyxy, face_masks, num_frames: int, height: int, width: int):
        given = [n for n, v in (("face_boxes", face_boxes), ("face_boxes_xyxy", face_boxes_xyxy),
                                ("face_masks", face_masks)) if v is not None]  # fmt: skip
        if len(given) != 1:
            raise ValueError(
                "HJB needs the per-frame target faces as exactly one of `face_boxes` ((y0, y1, x0, x1) inclusive), "
                f"`face_boxes_xyxy` ((x0, y0, x1, y1) pixels) or `face_masks` (folder or list); got {given or 'none'}"
            )
        if face_masks is not None:
            return face_boxes_from_masks(face_masks, num_frames=num_frames, size=(height, width))
        if face_boxes_xyxy is not None:
            if len(face_boxes_xyxy) < num_frames:
                raise ValueError(f"{num_frames} frames need {num_frames} entries in `face_boxes_xyxy`, got {len(face_boxes_xyxy)}")
            boxes = []
            for k, box in enumerate(face_boxes_xyxy[:num_frames]):
                if box is None:
                    raise ValueError(f"`face_boxes_xyxy[{k}]` is None: frame {k} has no face box (HJB needs one per frame)")
                boxes.append(face_box_from_xyxy(box, width, height))
            return boxes
        return validate_boxes(face_boxes, num_frames, height, width)

    def _reference_embedding(self, image, embedding, box, box_xyxy, mask) -> torch.Tensor:
        given = [n for n, v in (("reference_face_embedding", embedding), ("reference_face_box", box),
                                ("reference_face_box_xyxy", box_xyxy), ("reference_face_mask", mask)) if v is not None]  # fmt: skip
        if len(given) != 1:
            raise ValueError(
                "HJB needs the reference face as exactly one of `reference_face_embedding` (the extractor's output), "
                "`reference_face_box` ((y0, y1, x0, x1) in reference-image pixels), `reference_face_box_xyxy` or "
                f"`reference_face_mask`; got {given or 'none'}"
            )
        features = self.face_embedder.config.num_features
        if embedding is not None:
            tensor = torch.as_tensor(np.asarray(embedding) if not torch.is_tensor(embedding) else embedding)
            if tensor.numel() != features:
                raise ValueError(f"`reference_face_embedding` must hold {features} values, got shape {list(tensor.shape)}")
            return tensor.reshape(1, features).float()
        pixels = load_reference_pixels(image if isinstance(image, PIL.Image.Image) else np.asarray(image))
        height, width = pixels.shape[-2:]
        if box_xyxy is not None:
            box = face_box_from_xyxy(box_xyxy, width, height)
        if mask is not None:
            return reference_embedding(self.face_embedder, pixels, mask=mask)
        return reference_embedding(self.face_embedder, pixels, box=tuple(box))

    # ------------------------------------------------------------------ call
    def __call__(
        self,
        image: ImageLike,
        pose_images: list[ImageLike],
        id_embedding: np.ndarray | torch.Tensor | None,
        height: int = 512,
        width: int = 512,
        num_frames: int | None = None,
        tile_size: int = 16,
        tile_overlap: int = 4,
        num_inference_steps: int = 25,
        min_guidance_scale: float = 3.0,
        max_guidance_scale: float = 3.0,
        fps: int = 7,
        motion_bucket_id: float = 127.0,
        noise_aug_strength: float = 0.02,
        decode_chunk_size: int | None = 4,
        generator: torch.Generator | list[torch.Generator] | None = None,
        latents: torch.Tensor | None = None,
        output_type: str = "np",
        return_dict: bool = True,
        batched_cfg: bool = True,
        callback_on_step_end: Callable[[StableAnimatorPipeline, int, torch.Tensor, dict], dict] | None = None,
        callback_on_step_end_tensor_inputs: list[str] | None = None,
        callback_on_unet_call: Callable[[int, int], None] | None = None,
        *,
        hjb: HJBConfig | dict | bool | None = None,
        face_boxes: Sequence[Sequence[int]] | None = None,
        face_boxes_xyxy: Sequence[Sequence[float] | None] | None = None,
        face_masks: str | os.PathLike | Sequence[Any] | None = None,
        reference_face_embedding: np.ndarray | torch.Tensor | None = None,
        reference_face_box: Sequence[int] | None = None,
        reference_face_box_xyxy: Sequence[float] | None = None,
        reference_face_mask: str | os.PathLike | np.ndarray | PIL.Image.Image | None = None,
        callback_on_hjb_iteration: Callable[[int, int, float], None] | None = None,
    ) -> StableAnimatorHJBPipelineOutput | tuple:
        """The basic pipeline's call (:meth:`StableAnimatorPipeline.__call__`, same arguments and defaults) plus HJB
        face refinement; the HJB arguments are keyword-only.

        Args:
            hjb: :class:`HJBConfig` (or a dict of its fields, implying ``enabled=True``); None/False = off.
            face_boxes / face_boxes_xyxy / face_masks: one target face per frame (exactly one of them).
            reference_face_*: the identity target — a ready embedding, or a box/mask on ``image`` (original size).
            callback_on_hjb_iteration: ``fn(step_index, iteration, loss)`` after every Adam iteration (may raise
                to cancel).
        """
        config = self._hjb_config(hjb)
        config.validate(num_inference_steps if isinstance(num_inference_steps, int) else None)

        def basic_call():
            return super(StableAnimatorHJBPipeline, self).__call__(
                image, pose_images, id_embedding, height=height, width=width, num_frames=num_frames,
                tile_size=tile_size, tile_overlap=tile_overlap, num_inference_steps=num_inference_steps,
                min_guidance_scale=min_guidance_scale, max_guidance_scale=max_guidance_scale, fps=fps,
                motion_bucket_id=motion_bucket_id, noise_aug_strength=noise_aug_strength,
                decode_chunk_size=decode_chunk_size, generator=generator, latents=latents, output_type=output_type,
                return_dict=return_dict, batched_cfg=batched_cfg, callback_on_step_end=callback_on_step_end,
                callback_on_step_end_tensor_inputs=callback_on_step_end_tensor_inputs,
                callback_on_unet_call=callback_on_unet_call,
            )  # fmt: skip

        self.hjb_losses = []
        if not config.enabled:
            return self._with_losses(basic_call(), return_dict)
        if self.face_embedder is None:
            raise ValueError(
                "HJB refinement needs the face embedder (Animation/glintr100_torch.pth); load the pipeline with "
                "load_stable_animator_hjb_pipeline(...) or pass face_embedder=IResNetFaceEmbedder.from_checkpoint(...)"
            )
        frames = num_frames if num_frames is not None else len(pose_images)
        if not isinstance(frames, int) or not 1 <= frames <= len(pose_images):
            raise ValueError(f"`num_frames` must be between 1 and len(pose_images)={len(pose_images)}, got {frames!r}")
        boxes = self._target_boxes(face_boxes, face_boxes_xyxy, face_masks, frames, height, width)
        e_ref = self._reference_embedding(
            image, reference_face_embedding, reference_face_box, reference_face_box_xyxy, reference_face_mask
        )
        self.face_embedder.eval().requires_grad_(False)
        refiner = HJBFaceRefiner(
            embedder=self.face_embedder,
            reference_embedding=e_ref.to(self._execution_device),
            face_boxes=boxes,
            decode=vae_decode_fn(self.vae),
            config=config,
            decode_chunk_size=decode_chunk_size,
            vae_scale=self.vae_scale_factor,
            on_iteration=callback_on_hjb_iteration,
        )
        self._hjb_refiner = refiner
        try:
            result = basic_call()
        finally:
            self._hjb_refiner = None
            self.hjb_losses = list(refiner.losses)
        return self._with_losses(result, return_dict)

    def _with_losses(self, result, return_dict: bool):
        if not return_dict:
            return result
        return StableAnimatorHJBPipelineOutput(frames=result.frames, hjb_losses=list(self.hjb_losses))


def load_face_embedder(
    models_dir: str | os.PathLike,
    device: str | torch.device = "cpu",
    face_embedder_path: str | os.PathLike | None = None,
    required: bool = True,
) -> IResNetFaceEmbedder | None:
    """The HJB face embedder from ``Animation/glintr100_torch.pth`` (or ``.safetensors``, or ``face_embedder_path``),
    frozen, in float32 on ``device``; None when the file is missing and not ``required``."""
    from .loading import CheckpointError, find_animation_file

    path = face_embedder_path or find_animation_file(models_dir, FACE_EMBEDDER_STEM)
    if path is None or not os.path.isfile(path):
        if required:
            raise CheckpointError(
                models_dir,
                [f"Animation/{FACE_EMBEDDER_STEM}.pth is missing (the HJB face embedder; it ships with the official "
                 "StableAnimator weights)"],
            )  # fmt: skip
        return None
    try:
        embedder = IResNetFaceEmbedder.from_checkpoint(path)
    except ValueError as error:
        raise CheckpointError(models_dir, [str(error)]) from error
    embedder.requires_grad_(False)
    return torch.nn.Module.to(embedder, device=device)


def hjb_pipeline_from(pipe: StableAnimatorPipeline, face_embedder: IResNetFaceEmbedder | None) -> StableAnimatorHJBPipeline:
    """An HJB pipeline sharing ``pipe``'s modules (no weights loaded or copied twice) plus ``face_embedder``.

    Only the scheduler is a fresh copy: it holds per-call state (timesteps, step index), so the two pipelines must
    not share it. Running both at once through the same modules is still the caller's business (the studio's
    diffusion engine serialises its renders)."""
    components = {name: module for name, module in pipe.components.items() if name != "face_embedder"}
    components["scheduler"] = type(pipe.scheduler).from_config(pipe.scheduler.config)
    hjb = StableAnimatorHJBPipeline(**components, face_embedder=face_embedder)
    hjb.set_progress_bar_config(**getattr(pipe, "_progress_bar_config", {}))
    return hjb


def load_stable_animator_hjb_pipeline(
    models_dir: str | os.PathLike,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    face_embedder_path: str | os.PathLike | None = None,
    require_face_embedder: bool = True,
) -> StableAnimatorHJBPipeline:
    """Load the pipeline like :func:`pipelines.loading.load_stable_animator_pipeline`, plus the HJB face embedder
    from ``Animation/glintr100_torch.pth`` (or ``.safetensors``, or ``face_embedder_path``).

    With ``require_face_embedder=False`` a missing file gives a pipeline that only runs with HJB off.
    The embedder always runs in float32 (the HJB loss is computed in fp32, like the original's op script).
    """
    from .loading import load_stable_animator_pipeline

    embedder = load_face_embedder(models_dir, device, face_embedder_path, required=require_face_embedder)
    pipe = load_stable_animator_pipeline(
        models_dir, device=device, dtype=dtype, pipeline_class=StableAnimatorHJBPipeline, face_embedder=None
    )
    if embedder is not None:
        pipe.register_modules(face_embedder=embedder)
    return pipe
