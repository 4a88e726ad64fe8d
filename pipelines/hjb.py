"""HJB face refinement: optimise the predicted clean latents of a denoising step for identity (docs/model.md §11).

At every refined step ``i`` the Euler step's ``x0`` is replaced by the result of a few Adam iterations on
``mean_k |1 − cos(extractor(crop_k(decode(z))), e_ref)|``, started from ``x0`` with a fresh optimiser and
``lr = lr_scale · 0.1 · (1 − i/N)``.

Beyond the original:

* **Chunked backward.** The loss is a mean of per-frame terms and every decode chunk depends only on its own
  latents, so each chunk runs forward + backward on its own and its gradient is written into ``z.grad``. The
  gradient equals the whole-graph backward, and memory is bounded by one decode chunk, not the clip length.
* **Fast mode.** Decode only a latent window around each chunk's face boxes (plus a margin for the decoder's
  receptive field) instead of whole frames. The decoder's GroupNorms, its global mid-block attention and the
  zero padding at the window border make this an approximation of the exact loss; ``bench/hjb.py`` measures how
  close it is. Only latents inside the windows receive gradients, so the background is left untouched.
* The refinement works on the full latent video after tile blending, so it is independent of temporal tiles.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from diffusers.models.autoencoders.autoencoder_kl_temporal_decoder import AutoencoderKLTemporalDecoder

from .hjb_config import DECODE_MODES, DEFAULT_FAST_MARGIN, HJBConfig  # noqa: F401  (re-exported; defined there)
from .hjb_euler_step import euler_step_from_x0, v_prediction_x0  # noqa: F401  (re-exported; defined there)
from .hjb_faces import FaceBox, crop_faces, decoded_to_extractor_range, face_loss_terms

DecodeFn = Callable[[torch.Tensor], torch.Tensor]
"""``[n, 4, h, w]`` consecutive latent frames (already the unscaled latents) → ``[n, 3, 8h, 8w]`` in ``[-1, 1]``."""


def vae_decode_fn(vae: AutoencoderKLTemporalDecoder) -> DecodeFn:
    """Decode like the pipeline's final decode: ``vae.decode(z · (1/scaling_factor), num_frames=n)``."""
    scale = 1 / vae.config["scaling_factor"]
    dtype = next(vae.parameters()).dtype

    def decode(latents: torch.Tensor) -> torch.Tensor:
        decoded = vae.decode((scale * latents).to(dtype), num_frames=latents.shape[0]).sample
        return decoded.float()

    return decode


def decode_chunks(num_frames: int, decode_chunk_size: int | None) -> list[range]:
    """Frame ranges of the decode chunks ``[0:c], [c:2c], …`` (``None`` ⇒ all frames at once)."""
    size = num_frames if decode_chunk_size is None else decode_chunk_size
    if size < 1:
        raise ValueError(f"decode_chunk_size must be >= 1, got {decode_chunk_size}")
    return [range(s, min(s + size, num_frames)) for s in range(0, num_frames, size)]


def latent_window(
    boxes: Sequence[FaceBox], margin: int, scale: int, latent_size: tuple[int, int]
) -> tuple[int, int, int, int]:
    """Inclusive latent window ``(y0, y1, x0, x1)`` covering all pixel boxes plus ``margin`` latent pixels."""
    h, w = latent_size
    y0 = max(0, min(b[0] for b in boxes) // scale - margin)
    y1 = min(h - 1, max(b[1] for b in boxes) // scale + margin)
    x0 = max(0, min(b[2] for b in boxes) // scale - margin)
    x1 = min(w - 1, max(b[3] for b in boxes) // scale + margin)
    return y0, y1, x0, x1


@dataclass
class HJBFaceRefiner:
    """Runs the HJB optimisation of ``x0`` for the refined steps of one generation.

    ``face_boxes`` are ``(y0, y1, x0, x1)`` inclusive output-pixel boxes, one per frame of the full video.
    ``losses`` collects every iteration's loss (evaluated before that iteration's Adam update), in order.
    """

    embedder: torch.nn.Module
    reference_embedding: torch.Tensor
    face_boxes: Sequence[FaceBox]
    decode: DecodeFn
    config: HJBConfig
    decode_chunk_size: int | None = None
    vae_scale: int = 8
    record_embeddings: bool = False
    on_iteration: Callable[[int, int, float], None] | None = None
    losses: list[float] = field(default_factory=list)
    embeddings: list[torch.Tensor] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.config.validate()
        self.face_boxes = [(int(y0), int(y1), int(x0), int(x1)) for y0, y1, x0, x1 in self.face_boxes]
        self.reference_embedding = self.reference_embedding.detach().float()

    # ------------------------------------------------------------------ loss and gradient

    def loss_and_grad(self, latents: torch.Tensor) -> tuple[float, torch.Tensor, torch.Tensor]:
        """Loss, ``∂loss/∂latents`` and the per-frame embeddings for ``[F, 4, h, w]`` latents, chunk by chunk."""
        num_frames, _, h, w = latents.shape
        if len(self.face_boxes) < num_frames:
            raise ValueError(f"{num_frames} frames need {num_frames} face boxes, got {len(self.face_boxes)}")
        grad = torch.zeros_like(latents, dtype=torch.float32)
        terms, embeddings = [], []
        fast = self.config.decode_mode == "fast"
        reference = self.reference_embedding.to(latents.device)
        for chunk in decode_chunks(num_frames, self.decode_chunk_size):
            boxes = [self.face_boxes[k] for k in chunk]
            if fast:
                y0, y1, x0, x1 = latent_window(boxes, self.config.fast_margin, self.vae_scale, (h, w))
                part = latents[chunk.start : chunk.stop, :, y0 : y1 + 1, x0 : x1 + 1]
                oy, ox = y0 * self.vae_scale, x0 * self.vae_scale
                boxes = [(b[0] - oy, b[1] - oy, b[2] - ox, b[3] - ox) for b in boxes]
            else:
                part = latents[chunk.start : chunk.stop]
            part = part.detach().float().requires_grad_(True)
            with torch.enable_grad():
                pixels = decoded_to_extractor_range(self.decode(part))
                embedding = self.embedder(crop_faces(pixels, boxes).to(next(self.embedder.parameters()).dtype))
                chunk_terms = face_loss_terms(embedding.float(), reference)
                # Sum / F has the same per-term gradient (1/F) as the whole-video mean.
                (chunk_terms.sum() / num_frames).backward()
            part_grad = part.grad
            assert part_grad is not None  # part requires grad and the loss depends on it
            if fast:
                grad[chunk.start : chunk.stop, :, y0 : y1 + 1, x0 : x1 + 1] = part_grad
            else:
                grad[chunk.start : chunk.stop] = part_grad
            terms.append(chunk_terms.detach())
            embeddings.append(embedding.detach())
        loss = float(torch.cat(terms).mean())
        return loss, grad, torch.cat(embeddings)

    # ------------------------------------------------------------------ one refined step

    def refine_x0(self, x0: torch.Tensor, step_index: int, num_inference_steps: int) -> torch.Tensor:
        """Optimise ``x0`` (``[1, F, 4, h, w]`` or ``[F, 4, h, w]``) for the face loss; returns a new tensor."""
        lr = self.config.learning_rate(step_index, num_inference_steps)
        z = x0.detach().clone().to(torch.float32).requires_grad_(True)
        optimizer = torch.optim.Adam([z], lr=lr)  # fresh optimiser every refined step, like the original
        frames = z.shape[-4]
        for iteration in range(self.config.iterations):
            optimizer.zero_grad()
            loss, grad, embeddings = self.loss_and_grad(z.detach().reshape(frames, *z.shape[-3:]))
            z.grad = grad.reshape(z.shape)
            optimizer.step()
            self.losses.append(loss)
            if self.record_embeddings:
                self.embeddings.append(embeddings)
            if self.on_iteration is not None:
                self.on_iteration(step_index, iteration, loss)
        return z.detach().to(x0.dtype)

    def face_loss(self, latents: torch.Tensor) -> float:
        """The loss of ``latents`` without a gradient step (for evaluation)."""
        frames = latents.shape[-4]
        return self.loss_and_grad(latents.reshape(frames, *latents.shape[-3:]))[0]
