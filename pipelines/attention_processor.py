"""Attention processors of the StableAnimator UNet and the rule that installs them (docs/model.md §3.4–3.7).

* spatial self-attention (``transformer_blocks.0.attn1``): softmax attention through PyTorch's memory-efficient
  ``F.scaled_dot_product_attention`` (:class:`AnimationAttnProcessor`);
* spatial cross-attention (``transformer_blocks.0.attn2``): the distribution-aware ID adapter
  (:class:`AnimationIDAttnNormalizedProcessor`), which owns the ``id_to_k``/``id_to_v`` weights of ``unet.pth``;
* temporal attention (``temporal_transformer_blocks.*``): diffusers' SDPA processor.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers.models.attention_processor import Attention, AttnProcessor2_0
from torch import nn

NUM_FACE_TOKENS = 4


class AnimationAttnProcessor(AttnProcessor2_0):
    """Spatial self-attention ``softmax(QKᵀ·d^-½)·V`` through ``F.scaled_dot_product_attention``.

    The reference runs xformers' memory-efficient attention on GPU; materialising the full ``[heads, L, L]`` score
    matrix instead (diffusers' classic ``AttnProcessor``, kept only as a test oracle) needs 4× the activation memory
    of a whole UNet call at 512² (L = 4096 tokens per frame). The results agree to rounding (docs/model.md §17).
    Parameter-free; the reference's LoRA hooks are commented out there, so none exist here."""


def _attention(attn: Attention, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """Multi-head SDPA on ``[N·heads, L, d]`` tensors, merged back to ``[N, L, heads·d]``."""
    out = F.scaled_dot_product_attention(
        attn.head_to_batch_dim(query), attn.head_to_batch_dim(key), attn.head_to_batch_dim(value)
    )
    return attn.batch_to_head_dim(out)


class AnimationIDAttnNormalizedProcessor(nn.Module):
    """Cross-attention to the CLIP token plus a separate attention to the face tokens, whose output is
    re-normalised to the CLIP branch's per-frame mean and (unbiased) std before being added (docs/model.md §3.6).

    ``encoder_hidden_states`` is ``[N, T, D]`` whose last ``num_tokens`` tokens are the face tokens.
    """

    def __init__(
        self,
        hidden_size: int,
        cross_attention_dim: int,
        num_tokens: int = NUM_FACE_TOKENS,
        scale: float = 1.0,
    ):
        super().__init__()
        self.hidden_size = hidden_size
        self.cross_attention_dim = cross_attention_dim
        self.num_tokens = num_tokens
        self.scale = scale
        self.id_to_k = nn.Linear(cross_attention_dim, hidden_size, bias=False)
        self.id_to_v = nn.Linear(cross_attention_dim, hidden_size, bias=False)

    def __call__(
        self,
        attn: Attention,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        temb: torch.Tensor | None = None,
        *args,
        **kwargs,
    ) -> torch.Tensor:
        if encoder_hidden_states is None:
            raise ValueError(
                "AnimationIDAttnNormalizedProcessor needs encoder_hidden_states (CLIP token + face tokens)"
            )
        split = encoder_hidden_states.shape[1] - self.num_tokens
        clip_tokens, face_tokens = encoder_hidden_states[:, :split], encoder_hidden_states[:, split:]

        query = attn.to_q(hidden_states)
        clip_out = _attention(attn, query, attn.to_k(clip_tokens), attn.to_v(clip_tokens))
        face_out = _attention(attn, query, self.id_to_k(face_tokens), self.id_to_v(face_tokens))

        # Distribution-aware fusion: give the ID branch the CLIP branch's statistics, per frame.
        dims = tuple(range(1, clip_out.ndim))
        clip_mean, clip_std = clip_out.mean(dim=dims, keepdim=True), clip_out.std(dim=dims, keepdim=True)
        face_mean, face_std = face_out.mean(dim=dims, keepdim=True), face_out.std(dim=dims, keepdim=True)
        face_out = (face_out - face_mean) * (clip_std / (face_std + 1e-5)) + clip_mean

        hidden_states = attn.to_out[0](clip_out + self.scale * face_out)
        return attn.to_out[1](hidden_states)


def hidden_size_for_layer(name: str, block_out_channels: tuple[int, ...] | list[int]) -> int:
    """Channel width of the attention layer called ``name`` (the reference derives it from the name)."""
    channels = list(block_out_channels)
    if name.startswith("mid_block"):
        return channels[-1]
    for prefix, table in (("up_blocks.", channels[::-1]), ("down_blocks.", channels)):
        if name.startswith(prefix):
            return table[int(name[len(prefix) :].split(".", 1)[0])]
    raise ValueError(f"cannot tell the hidden size of attention layer {name!r}")


def stable_animator_processors(unet, num_tokens: int = NUM_FACE_TOKENS) -> dict[str, object]:
    """The processor dict for ``unet.set_attn_processor`` following the reference's assignment by layer name."""
    processors: dict[str, object] = {}
    cross_dim = unet.config.cross_attention_dim
    for name in unet.attn_processors:
        if ".temporal_transformer_blocks." in name:
            processors[name] = AttnProcessor2_0()
        elif name.endswith("attn1.processor"):
            processors[name] = AnimationAttnProcessor()
        elif name.endswith("attn2.processor"):
            hidden = hidden_size_for_layer(name, unet.config.block_out_channels)
            processors[name] = AnimationIDAttnNormalizedProcessor(hidden, cross_dim, num_tokens=num_tokens)
        else:
            raise ValueError(f"unexpected attention layer {name!r} in the UNet")
    return processors


def install_stable_animator_processors(unet, num_tokens: int = NUM_FACE_TOKENS) -> None:
    """Install the StableAnimator processors; the ID processors' weights become part of ``unet.state_dict()``."""
    processors = stable_animator_processors(unet, num_tokens=num_tokens)
    params = next(unet.parameters())
    unet.set_attn_processor(processors)
    for proc in processors.values():
        if isinstance(proc, nn.Module):
            proc.to(device=params.device, dtype=params.dtype)
