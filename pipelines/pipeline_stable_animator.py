"""StableAnimatorPipeline: identity-preserving pose-driven image animation on the SVD backbone (docs/model.md §10).

``__call__`` is a list of numbered steps over small helpers. By default it reproduces the official
``InferenceAnimationPipeline`` including its quirks (docs/model.md §16): the unconditional pass gets zero pose latents and
zero face tokens, every temporal tile starts with frame 0, the initial noise repeats with period ``tile_size``.
Beyond the original: batched CFG (one batch-2 UNet call per tile, ``batched_cfg=True``), PoseNet computed once per
call, per-UNet-call progress (``callback_on_unet_call``), and clear errors where the original crashes.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import PIL.Image
import torch
from diffusers import AutoencoderKLTemporalDecoder, EulerDiscreteScheduler
from diffusers.pipelines.pipeline_utils import DiffusionPipeline
from diffusers.utils import BaseOutput
from diffusers.utils.torch_utils import randn_tensor

from .face_encoder import FusionFaceId
from .image_processing import (
    ImageLike,
    clip_pixel_values,
    pose_pixel_tensor,
    to_pil_rgb,
    vae_conditioning_image,
)
from .pose_net import PoseNet
from .temporal_tiles import temporal_tiles, tile_weights
from .unet import StableAnimatorUNet

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
OUTPUT_TYPES = ("np", "pil", "pt", "latent")


@dataclass
class StableAnimatorPipelineOutput(BaseOutput):
    """``frames``: np ``[B, F, H, W, 3]`` float32 in [0, 1] ("np"), list of lists of PIL images ("pil"),
    tensor ``[B, F, 3, H, W]`` in [0, 1] ("pt"), or the final latents ``[B, F, 4, h, w]`` ("latent")."""

    frames: np.ndarray | list[list[PIL.Image.Image]] | torch.Tensor


def _no_grad_unless_enabled(fn: Callable) -> Callable:
    """``torch.no_grad`` around ``__call__`` unless the instance sets ``grad_enabled_in_call = True``
    (HJB refinement needs autograd through the VAE decoder inside the loop)."""

    @functools.wraps(fn)
    def wrapper(self, *args, **kwargs):
        if self.grad_enabled_in_call:
            return fn(self, *args, **kwargs)
        with torch.no_grad():
            return fn(self, *args, **kwargs)

    return wrapper


class StableAnimatorPipeline(DiffusionPipeline):
    """Animate a reference image along a sequence of pose (skeleton) images, keeping the face identity.

    Components: ``vae`` (AutoencoderKLTemporalDecoder), ``image_encoder`` (CLIPVisionModelWithProjection),
    ``unet`` (:class:`StableAnimatorUNet`), ``scheduler`` (EulerDiscreteScheduler), ``pose_net``
    (:class:`PoseNet`), ``face_encoder`` (:class:`FusionFaceId`), ``feature_extractor`` (optional
    CLIPImageProcessor; only its ``image_mean``/``image_std`` are used).
    """

    model_cpu_offload_seq = "image_encoder->face_encoder->pose_net->unet->vae"  # type: ignore[assignment]  # None in diffusers
    _optional_components = ["feature_extractor"]
    _callback_tensor_inputs = ["latents", "noise_pred", "image_latents"]
    #: Set to True (e.g. in a subclass) to run ``__call__`` with autograd enabled.
    grad_enabled_in_call = False

    def __init__(
        self,
        vae: AutoencoderKLTemporalDecoder,
        image_encoder: Any,
        unet: StableAnimatorUNet,
        scheduler: EulerDiscreteScheduler,
        pose_net: PoseNet,
        face_encoder: FusionFaceId,
        feature_extractor: Any = None,
    ):
        super().__init__()
        self.register_modules(
            vae=vae,
            image_encoder=image_encoder,
            unet=unet,
            scheduler=scheduler,
            pose_net=pose_net,
            face_encoder=face_encoder,
            feature_extractor=feature_extractor,
        )
        # Inference only, and numerically relevant: a weight with requires_grad=True selects another CPU matmul
        # kernel for strided inputs even under no_grad (differs by rounding), and the reference freezes everything.
        for module in (vae, image_encoder, unet, pose_net, face_encoder):
            if isinstance(module, torch.nn.Module):
                module.requires_grad_(False)
        # The reference ran CLIP with eager attention (transformers 4.35); transformers 5 defaults to SDPA, which
        # differs by rounding. The choice is not saved with the model, so enforce it here.
        if hasattr(image_encoder, "set_attn_implementation"):
            image_encoder.set_attn_implementation("eager")
        self.vae_scale_factor = 2 ** (len(self.vae.config.block_out_channels) - 1)
        self._interrupt = False
        self._guidance_scale: torch.Tensor | None = None
        self._num_timesteps = 0
        self._step_index: int | None = None
        self._num_frames = 0
        self._decode_chunk_size: int | None = None

    # ------------------------------------------------------------------ run state (read by callbacks / subclasses)
    @property
    def interrupt(self) -> bool:
        """Set ``pipe._interrupt = True`` (e.g. from ``callback_on_step_end``) to stop denoising after this step."""
        return self._interrupt

    @property
    def guidance_scale(self) -> torch.Tensor | None:
        """Per-frame guidance ``[1, F, 1, 1, 1]`` of the current call."""
        return self._guidance_scale

    @property
    def num_timesteps(self) -> int:
        return self._num_timesteps

    @property
    def step_index(self) -> int | None:
        """Index of the denoising step in progress (None outside the loop)."""
        return self._step_index

    @property
    def sigmas(self) -> torch.Tensor:
        """Noise levels of the current schedule, including the final 0."""
        return self.scheduler.sigmas

    # ------------------------------------------------------------------ validation
    def check_inputs(
        self,
        image: Any,
        pose_images: Any,
        id_embedding: Any,
        height: int,
        width: int,
        num_frames: int | None,
        tile_size: int,
        tile_overlap: int,
        num_inference_steps: int,
        min_guidance_scale: float,
        max_guidance_scale: float,
        noise_aug_strength: float,
        decode_chunk_size: int | None,
        output_type: str,
        latents: torch.Tensor | None,
        callback_on_step_end_tensor_inputs: list[str] | None,
    ) -> None:
        """Raise ``ValueError`` naming the first bad argument and its value."""
        if not isinstance(image, (PIL.Image.Image, np.ndarray)):
            raise ValueError(
                f"`image` must be a PIL image or a uint8 numpy array, got {type(image).__name__}"
            )
        if not isinstance(pose_images, (list, tuple)) or len(pose_images) == 0:
            raise ValueError(
                f"`pose_images` must be a non-empty list of images, got {type(pose_images).__name__}"
            )
        for name, value in (("height", height), ("width", width)):
            if not isinstance(value, int) or value <= 0 or value % self.vae_scale_factor:
                raise ValueError(
                    f"`{name}` must be a positive multiple of {self.vae_scale_factor}, got {value!r}"
                )
        if num_frames is not None and (
            not isinstance(num_frames, int) or not 1 <= num_frames <= len(pose_images)
        ):
            raise ValueError(
                f"`num_frames` must be between 1 and len(pose_images)={len(pose_images)}, got {num_frames!r}"
            )
        if not isinstance(tile_size, int) or tile_size < 1:
            raise ValueError(f"`tile_size` must be a positive integer, got {tile_size!r}")
        if not isinstance(tile_overlap, int) or tile_overlap < 0:
            raise ValueError(f"`tile_overlap` must be a non-negative integer, got {tile_overlap!r}")
        frames = num_frames if num_frames is not None else len(pose_images)
        effective_tile = min(tile_size, frames)
        if frames > effective_tile:
            if tile_overlap >= tile_size:
                raise ValueError(
                    f"`tile_overlap` must be smaller than tile_size={tile_size}, got {tile_overlap}"
                )
            covered = {f for tile in temporal_tiles(frames, effective_tile, tile_overlap) for f in tile}
            if len(covered) != frames:
                raise ValueError(
                    f"`tile_overlap`={tile_overlap} with tile_size={tile_size} leaves frames uncovered (every tile "
                    "starts with frame 0, so neighbouring tiles need tile_overlap >= 1 and tile_size >= 2)"
                )
        if not isinstance(num_inference_steps, int) or num_inference_steps < 1:
            raise ValueError(f"`num_inference_steps` must be a positive integer, got {num_inference_steps!r}")
        for guidance_name, guidance in (
            ("min_guidance_scale", min_guidance_scale),
            ("max_guidance_scale", max_guidance_scale),
        ):
            if not isinstance(guidance, (int, float)) or not math.isfinite(guidance) or guidance < 0:
                raise ValueError(f"`{guidance_name}` must be a finite number >= 0, got {guidance!r}")
        if max_guidance_scale <= 1:
            raise ValueError(
                f"`max_guidance_scale` must be > 1 (classifier-free guidance is always on; the original crashes "
                f"at exactly 1), got {max_guidance_scale!r}"
            )
        if (
            not isinstance(noise_aug_strength, (int, float))
            or not math.isfinite(noise_aug_strength)
            or noise_aug_strength < 0
        ):
            raise ValueError(f"`noise_aug_strength` must be a finite number >= 0, got {noise_aug_strength!r}")
        if decode_chunk_size is not None and (
            not isinstance(decode_chunk_size, int) or decode_chunk_size < 1
        ):
            raise ValueError(
                f"`decode_chunk_size` must be None or a positive integer, got {decode_chunk_size!r}"
            )
        if output_type not in OUTPUT_TYPES:
            raise ValueError(f"`output_type` must be one of {OUTPUT_TYPES}, got {output_type!r}")
        id_dim = self.face_encoder.config.id_embeddings_dim
        if id_embedding is not None:
            size = int(np.prod(tuple(id_embedding.shape))) if hasattr(id_embedding, "shape") else -1
            if size != id_dim:
                shape = (
                    tuple(id_embedding.shape)
                    if hasattr(id_embedding, "shape")
                    else type(id_embedding).__name__
                )
                raise ValueError(
                    f"`id_embedding` must hold {id_dim} values (face encoder input size), got {shape}"
                )
        if latents is not None:
            expected = (
                self.unet.config.out_channels,
                height // self.vae_scale_factor,
                width // self.vae_scale_factor,
            )
            if latents.ndim != 5 or latents.shape[0] != 1 or tuple(latents.shape[2:]) != expected:
                raise ValueError(
                    f"`latents` must have shape [1, frames, {', '.join(map(str, expected))}], got {tuple(latents.shape)}"
                )
        if callback_on_step_end_tensor_inputs is not None:
            bad = [k for k in callback_on_step_end_tensor_inputs if k not in self._callback_tensor_inputs]
            if bad:
                raise ValueError(
                    f"`callback_on_step_end_tensor_inputs` has unknown names {bad}; allowed: {self._callback_tensor_inputs}"
                )

    # ------------------------------------------------------------------ conditioning
    # Counterpart of diffusers.pipelines.stable_video_diffusion.pipeline_stable_video_diffusion.StableVideoDiffusionPipeline._encode_image: one
    # reference, no CFG duplication here (the caller builds the zero token).
    def _encode_image(self, image: PIL.Image.Image, device: torch.device) -> torch.Tensor:
        """CLIP ``image_embeds`` of the original-size reference, ``[1, 1, D]`` (docs/model.md §10 step 2)."""
        fe = self.feature_extractor
        mean = list(getattr(fe, "image_mean", None) or CLIP_MEAN)
        std = list(getattr(fe, "image_std", None) or CLIP_STD)
        size = self.image_encoder.config.image_size
        pixels = clip_pixel_values(image, mean, std, size=size).to(
            device=device, dtype=self.image_encoder.dtype
        )
        return self.image_encoder(pixels).image_embeds.unsqueeze(1)

    def _encode_face(self, id_embedding: Any, image_embeds: torch.Tensor) -> torch.Tensor:
        """FusionFaceId tokens ``[1, T, D]`` from the raw ArcFace embedding (zeros when None, like the reference's
        no-face fallback) and the conditional CLIP embedding."""
        dim = self.face_encoder.config.id_embeddings_dim
        if id_embedding is None:
            id_embeds = torch.zeros(1, dim)
        else:
            id_embeds = torch.as_tensor(np.asarray(id_embedding)).reshape(1, dim)
        id_embeds = id_embeds.to(device=image_embeds.device, dtype=self.face_encoder.dtype)
        return self.face_encoder(id_embeds, image_embeds.to(self.face_encoder.dtype))

    # Counterpart of StableVideoDiffusionPipeline._encode_vae_image: the noise augmentation happens here.
    def _encode_vae_image(
        self, image: PIL.Image.Image, height: int, width: int, noise_aug_strength: float, generator, device
    ) -> torch.Tensor:
        """``vae.encode(resized image + noise_aug_strength·noise).mode()``, ``[1, 4, h, w]``, not scaled.

        The noise is always drawn (the first generator draw, float32), even when ``noise_aug_strength`` is 0."""
        pixels = vae_conditioning_image(image, height, width).to(device)
        noise = randn_tensor(pixels.shape, generator=generator, device=device, dtype=pixels.dtype)
        pixels = pixels + noise_aug_strength * noise
        upcast = self.vae.dtype in (torch.float16, torch.bfloat16) and self.vae.config.force_upcast
        if upcast:
            torch.nn.Module.to(self.vae, dtype=torch.float32)  # ModelMixin.to warns needlessly
        try:
            latents = self.vae.encode(pixels.to(self.vae.dtype)).latent_dist.mode()
        finally:
            if upcast:
                torch.nn.Module.to(self.vae, dtype=self.unet.dtype)
        return latents

    # Counterpart of StableVideoDiffusionPipeline._get_add_time_ids (one row; the caller repeats it for CFG).
    def _get_add_time_ids(
        self, fps: int, motion_bucket_id: float, noise_aug_strength: float, dtype, device
    ) -> torch.Tensor:
        """``[[fps, motion_bucket_id, noise_aug_strength]]`` (``fps`` already decremented by the caller)."""
        ids = torch.tensor([[fps, motion_bucket_id, noise_aug_strength]], dtype=dtype, device=device)
        expected = self.unet.add_embedding.linear_1.in_features
        if self.unet.config.addition_time_embed_dim * ids.shape[1] != expected:
            raise ValueError(
                f"the UNet expects {expected // self.unet.config.addition_time_embed_dim} added time ids, got {ids.shape[1]}"
            )
        return ids

    # Counterpart of StableVideoDiffusionPipeline.prepare_latents: only ``tile_size`` frames are drawn and then
    # repeated along the frames (docs/model.md §16 item 6).
    def prepare_latents(
        self,
        num_frames: int,
        tile_size: int,
        height: int,
        width: int,
        dtype: torch.dtype,
        device: torch.device,
        generator,
        latents: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Initial noise ``[1, F, 4, h, w]``: ``tile_size`` frames drawn (second generator draw) or supplied, scaled by
        ``init_noise_sigma`` and repeated periodically along frames (docs/model.md §10 step 8)."""
        if latents is None:
            shape = (
                1,
                tile_size,
                self.unet.config.out_channels,
                height // self.vae_scale_factor,
                width // self.vae_scale_factor,
            )
            latents = randn_tensor(shape, generator=generator, device=device, dtype=dtype)
        else:
            latents = latents.to(device=device, dtype=dtype)
        latents = latents * self.scheduler.init_noise_sigma
        repeats = -(-num_frames // latents.shape[1])
        return latents.repeat(1, repeats, 1, 1, 1)[:, :num_frames]

    def _pose_latents(self, poses: list[PIL.Image.Image], height: int, width: int, device) -> torch.Tensor:
        """PoseNet output for every frame ``[F, C0, h, w]``, computed once per call (the reference recomputes it per
        tile per step with identical numbers)."""
        pixels = pose_pixel_tensor(poses, height, width).to(device=device, dtype=self.pose_net.dtype)
        return self.pose_net(pixels).to(self.unet.dtype)

    # ------------------------------------------------------------------ denoising
    def _predict_tile(
        self,
        latent_model_input: torch.Tensor,
        t: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        added_time_ids: torch.Tensor,
        pose_latents: torch.Tensor,
        batched_cfg: bool,
        on_unet_call: Callable[[], None],
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Unconditional and conditional v-predictions for one tile, each ``[1, T, 4, h, w]``.

        The unconditional half gets zero pose latents (the reference passes none; conv_in(x) + 0 is identical)."""
        if batched_cfg:
            poses = torch.cat([torch.zeros_like(pose_latents), pose_latents])
            out = self.unet(
                latent_model_input,
                t,
                encoder_hidden_states,
                added_time_ids,
                pose_latents=poses,
                return_dict=False,
            )[0]
            on_unet_call()
            return out[:1], out[1:]
        uncond = self.unet(
            latent_model_input[:1],
            t,
            encoder_hidden_states[:1],
            added_time_ids[:1],
            pose_latents=None,
            return_dict=False,
        )[0]
        on_unet_call()
        cond = self.unet(
            latent_model_input[1:],
            t,
            encoder_hidden_states[1:],
            added_time_ids[1:],
            pose_latents=pose_latents,
            return_dict=False,
        )[0]
        on_unet_call()
        return uncond, cond

    def _scheduler_step(
        self, model_output: torch.Tensor, t: torch.Tensor, latents: torch.Tensor, step_index: int
    ) -> torch.Tensor:
        """One Euler step. Override point for HJB face refinement (docs/model.md §11)."""
        return self.scheduler.step(model_output, t, latents, return_dict=False)[0]

    # Counterpart of StableVideoDiffusionPipeline.decode_latents (multiplies by 1/scaling_factor, docs/model.md §18).
    def decode_latents(
        self, latents: torch.Tensor, num_frames: int, decode_chunk_size: int | None = None
    ) -> torch.Tensor:
        """``[B, F, 4, h, w]`` latents → ``[B, 3, F, H, W]`` float32 in [-1, 1]; chunked along frames (the temporal
        decoder only sees the frames of one chunk, so results depend on the chunk size). Differentiable."""
        chunk = decode_chunk_size or num_frames
        latents = latents.flatten(0, 1)
        latents = 1 / self.vae.config.scaling_factor * latents
        latents = latents.to(self.vae.dtype)
        chunks = [
            self.vae.decode(latents[i : i + chunk], num_frames=latents[i : i + chunk].shape[0]).sample
            for i in range(0, latents.shape[0], chunk)
        ]
        frames = torch.cat(chunks, dim=0)
        return frames.reshape(-1, num_frames, *frames.shape[1:]).permute(0, 2, 1, 3, 4).float()

    @staticmethod
    def postprocess(frames: torch.Tensor, output_type: str):
        """``[B, 3, F, H, W]`` in [-1, 1] → the requested output type (clamped to [0, 1])."""
        video = (frames / 2 + 0.5).clamp(0, 1).permute(0, 2, 1, 3, 4)  # [B, F, 3, H, W]
        if output_type == "pt":
            return video
        array = video.permute(0, 1, 3, 4, 2).cpu().numpy()
        if output_type == "np":
            return array
        return [[PIL.Image.fromarray((f * 255).round().astype(np.uint8)) for f in clip] for clip in array]

    # ------------------------------------------------------------------ call
    @_no_grad_unless_enabled
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
    ) -> StableAnimatorPipelineOutput | tuple:
        """Generate ``num_frames`` frames of the reference ``image`` following ``pose_images``.

        Args:
            image: reference (PIL or uint8 HWC), at its original size.
            pose_images: skeleton frames (PIL or uint8 HWC); resized to ``width×height`` with bicubic if needed.
            id_embedding: raw (un-normalised) ArcFace embedding of the reference face; None → zeros.
            num_frames: how many of ``pose_images`` to use (default all).
            tile_size, tile_overlap: temporal tiles; ``tile_size`` is clamped to ``num_frames``.
            min_guidance_scale, max_guidance_scale: per-frame guidance ``linspace(min, max, F)``; max must be > 1.
            fps: frame rate micro-conditioning (the UNet gets ``fps − 1``, as in SVD).
            generator, latents: randomness; supplied ``latents`` ``[1, k, 4, h, w]`` are unscaled N(0, 1) noise,
                repeated with period k along frames.
            batched_cfg: run the unconditional and conditional passes as one batch-2 UNet call (default). False
                gives the reference's two batch-1 calls.
            callback_on_step_end: ``fn(pipe, step, t, kwargs) -> dict`` after each step; returned tensors
                (e.g. ``latents``) replace the pipeline's.
            callback_on_unet_call: ``fn(done, total)`` after every UNet call (total = steps × tiles × calls per tile).
        """
        # 0. Validate
        self.check_inputs(
            image, pose_images, id_embedding, height, width, num_frames, tile_size, tile_overlap,
            num_inference_steps, min_guidance_scale, max_guidance_scale, noise_aug_strength,
            decode_chunk_size, output_type, latents, callback_on_step_end_tensor_inputs,
        )  # fmt: skip
        image = to_pil_rgb(image, "image")
        num_frames = num_frames if num_frames is not None else len(pose_images)
        poses = [to_pil_rgb(p, f"pose_images[{i}]") for i, p in enumerate(pose_images[:num_frames])]
        tile_size = min(tile_size, num_frames)  # the reference crashes when num_frames < tile_size
        tensor_inputs = callback_on_step_end_tensor_inputs or ["latents"]
        device = self._execution_device
        dtype = self.unet.dtype
        self._interrupt = False
        self._num_frames = num_frames
        self._decode_chunk_size = decode_chunk_size

        # 1. CLIP embedding of the reference; unconditional = zeros
        image_embeds = self._encode_image(image, device).to(dtype)

        # 2. Face tokens; encoder states [uncond; cond] = [[0, 0…]; [clip, face…]]
        face_tokens = self._encode_face(id_embedding, image_embeds).to(dtype)
        cond_states = torch.cat([image_embeds, face_tokens], dim=1)
        encoder_hidden_states = torch.cat([torch.zeros_like(cond_states), cond_states])

        # 3. VAE conditioning latents (first generator draw), repeated over frames; unconditional = zeros
        image_latents = self._encode_vae_image(
            image, height, width, noise_aug_strength, generator, device
        ).to(dtype)
        image_latents = image_latents.unsqueeze(1).repeat(1, num_frames, 1, 1, 1)
        image_latents = torch.cat([torch.zeros_like(image_latents), image_latents])

        # 4. Added time ids (SVD micro-conditioning: fps − 1)
        added_time_ids = self._get_add_time_ids(fps - 1, motion_bucket_id, noise_aug_strength, dtype, device)
        added_time_ids = added_time_ids.repeat(2, 1)

        # 5. Schedule
        self.scheduler.set_timesteps(num_inference_steps, device=device)
        timesteps = self.scheduler.timesteps
        self._num_timesteps = len(timesteps)

        # 6. Initial latents (second generator draw unless supplied)
        latents = self.prepare_latents(
            num_frames, tile_size, height, width, dtype, device, generator, latents
        )

        # 7. Per-frame guidance [1, F, 1, 1, 1]
        guidance = torch.linspace(min_guidance_scale, max_guidance_scale, num_frames).unsqueeze(0)
        self._guidance_scale = guidance_scale = guidance.to(device, latents.dtype)[..., None, None, None]

        # 8. Tiles, blend weights, pose latents
        tiles = temporal_tiles(num_frames, tile_size, tile_overlap)
        weights = tile_weights(tile_size, device)
        pose_latents = self._pose_latents(poses, height, width, device)

        # 9. Denoising loop
        calls_per_tile = 1 if batched_cfg else 2
        total_calls = len(timesteps) * len(tiles) * calls_per_tile
        calls_done = 0

        def on_unet_call() -> None:
            nonlocal calls_done
            calls_done += 1
            if callback_on_unet_call is not None:
                callback_on_unet_call(calls_done, total_calls)

        noise_pred = None
        with self.progress_bar(total=len(timesteps)) as progress_bar:
            for i, t in enumerate(timesteps):
                if self.interrupt:
                    break
                self._step_index = i
                latent_model_input = self.scheduler.scale_model_input(torch.cat([latents] * 2), t)
                latent_model_input = torch.cat([latent_model_input, image_latents], dim=2)

                noise_pred = torch.zeros_like(image_latents)
                weight_sum = latents.new_zeros(num_frames)
                for idx in tiles:
                    uncond, cond = self._predict_tile(
                        latent_model_input[:, idx], t, encoder_hidden_states, added_time_ids,
                        pose_latents[idx], batched_cfg, on_unet_call,
                    )  # fmt: skip
                    w = weights[:, None, None, None]
                    noise_pred[:1, idx] += uncond * w
                    noise_pred[1:, idx] += cond * w
                    weight_sum[idx] += weights
                noise_pred.div_(weight_sum[:, None, None, None])
                noise_uncond, noise_cond = noise_pred.chunk(2)
                noise_pred = noise_uncond + guidance_scale * (noise_cond - noise_uncond)

                latents = self._scheduler_step(noise_pred, t, latents, i)

                if callback_on_step_end is not None:
                    local_vars = {
                        "latents": latents,
                        "noise_pred": noise_pred,
                        "image_latents": image_latents,
                    }
                    callback_kwargs = {k: local_vars[k] for k in tensor_inputs}
                    callback_outputs = callback_on_step_end(self, i, t, callback_kwargs) or {}
                    latents = callback_outputs.pop("latents", latents)
                progress_bar.update()
        self._step_index = None

        # 10. Decode and post-process
        if output_type == "latent":
            frames = latents
        else:
            frames = self.postprocess(
                self.decode_latents(latents, num_frames, decode_chunk_size), output_type
            )
        self.maybe_free_model_hooks()
        if not return_dict:
            return (frames,)
        return StableAnimatorPipelineOutput(frames=frames)
