"""FusionFaceId: turns an ArcFace identity embedding plus the CLIP image embedding into face tokens (docs/model.md §5)."""

from __future__ import annotations

from typing import cast

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

_DIM_HEAD = 64  # hard-coded in the original Perceiver


class PerceiverAttention(nn.Module):
    """Latents attend to [image tokens; latents] (keys/values from both), scaled as (q·s)(k·s)ᵀ with s = d^-¼."""

    def __init__(self, dim: int, dim_head: int = _DIM_HEAD, heads: int = 8):
        super().__init__()
        self.dim_head = dim_head
        self.heads = heads
        inner = dim_head * heads
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_kv = nn.Linear(dim, inner * 2, bias=False)
        self.to_out = nn.Linear(inner, dim, bias=False)

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        b, length, _ = x.shape
        return x.reshape(b, length, self.heads, -1).transpose(1, 2)

    def forward(self, x: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
        x = self.norm1(x)
        latents = self.norm2(latents)
        b, n_lat, _ = latents.shape
        q = self.to_q(latents)
        k, v = self.to_kv(torch.cat((x, latents), dim=-2)).chunk(2, dim=-1)
        q, k, v = self._split_heads(q), self._split_heads(k), self._split_heads(v)
        # Scaling both factors (rather than the product) is what the original does; it is more stable in fp16.
        s = 1 / (self.dim_head**0.25)
        weight = (q * s) @ (k * s).transpose(-2, -1)
        weight = torch.softmax(weight.float(), dim=-1).type(weight.dtype)
        out = (weight @ v).permute(0, 2, 1, 3).reshape(b, n_lat, -1)
        return self.to_out(out)


def _feed_forward(dim: int, mult: int = 4) -> nn.Sequential:
    inner = dim * mult
    return nn.Sequential(
        nn.LayerNorm(dim), nn.Linear(dim, inner, bias=False), nn.GELU(), nn.Linear(inner, dim, bias=False)
    )


class FacePerceiver(nn.Module):
    """Four (PerceiverAttention, FeedForward) pairs with residuals between ``proj_in`` and ``proj_out``/``norm_out``."""

    def __init__(
        self,
        dim: int,
        depth: int,
        dim_head: int,
        heads: int,
        embedding_dim: int,
        output_dim: int,
        ff_mult: int,
    ):
        super().__init__()
        self.proj_in = nn.Linear(embedding_dim, dim)
        self.proj_out = nn.Linear(dim, output_dim)
        self.norm_out = nn.LayerNorm(output_dim)
        self.layers = nn.ModuleList(
            [
                nn.ModuleList(
                    [PerceiverAttention(dim=dim, dim_head=dim_head, heads=heads), _feed_forward(dim, ff_mult)]
                )
                for _ in range(depth)
            ]
        )

    def forward(self, latents: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        x = self.proj_in(x)
        # each layer is a ModuleList [attention, feed-forward] (the official keys ``layers.i.0`` / ``layers.i.1``)
        for attn, ff in cast("list[tuple[nn.Module, nn.Module]]", self.layers):
            latents = attn(x, latents) + latents
            latents = ff(latents) + latents
        return self.norm_out(self.proj_out(latents))


class FusionFaceId(ModelMixin, ConfigMixin):  # type: ignore[misc]  # diffusers types config_name differently in the two mixins
    """``forward(id_embeds [B, E], clip_embeds [B, 1, Dc]) -> [B, num_tokens, cross_attention_dim]``."""

    @register_to_config
    def __init__(
        self,
        cross_attention_dim: int = 1024,
        id_embeddings_dim: int = 512,
        clip_embeddings_dim: int = 1024,
        num_tokens: int = 4,
        depth: int = 4,
        ff_mult: int = 4,
    ):
        super().__init__()
        if cross_attention_dim % _DIM_HEAD:
            raise ValueError(
                f"cross_attention_dim must be a multiple of {_DIM_HEAD}, got {cross_attention_dim}"
            )
        self.num_tokens = num_tokens
        self.cross_attention_dim = cross_attention_dim
        self.proj = nn.Sequential(
            nn.Linear(id_embeddings_dim, id_embeddings_dim * 2),
            nn.GELU(),
            nn.Linear(id_embeddings_dim * 2, cross_attention_dim * num_tokens),
        )
        self.norm = nn.LayerNorm(cross_attention_dim)
        self.fusion_model = FacePerceiver(
            dim=cross_attention_dim,
            depth=depth,
            dim_head=_DIM_HEAD,
            heads=cross_attention_dim // _DIM_HEAD,
            embedding_dim=clip_embeddings_dim,
            output_dim=cross_attention_dim,
            ff_mult=ff_mult,
        )

    def forward(self, id_embeds: torch.Tensor, clip_embeds: torch.Tensor) -> torch.Tensor:
        tokens = self.proj(id_embeds).reshape(-1, self.num_tokens, self.cross_attention_dim)
        tokens = self.norm(tokens)
        return self.fusion_model(tokens, clip_embeds)
