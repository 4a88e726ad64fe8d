"""The StableAnimator UNet keeps no state between calls and uses its inputs where docs/model.md §3 says."""

from __future__ import annotations

import torch

from pipelines.testing.tiny import unet_call_inputs


def test_a_call_made_inside_another_call_leaves_the_outer_pose_alone(small_pipe):
    """Re-entrant: a nested call (a hook, another thread) cannot replace or clear the outer call's pose latents.

    Fails with a UNet that parks the pose on ``conv_in`` for the duration of a call: the nested call clears it.
    """
    unet = small_pipe.unet
    sample, t, states, ids, pose = unet_call_inputs(unet, seed=1)
    with torch.no_grad():
        expected = unet(sample, t, states, ids, pose_latents=pose, return_dict=False)[0]
        nested: list[torch.Tensor] = []
        entered = []

        def call_again_once(module, args):
            if not entered:
                entered.append(True)  # before the call: the nested call passes through this hook too
                nested.append(unet(sample, t, states, ids, pose_latents=None, return_dict=False)[0])

        handle = unet.conv_in.register_forward_pre_hook(call_again_once)
        try:
            outer = unet(sample, t, states, ids, pose_latents=pose, return_dict=False)[0]
        finally:
            handle.remove()
    assert torch.equal(outer, expected)
    assert not torch.allclose(nested[0], expected), "the nested call had no pose, so its result must differ"


def test_pose_latents_are_added_to_the_input_convolution(small_pipe):
    """Adding pose latents P is the same as adding P to conv_in's output: a shifted conv_in bias for a constant P."""
    unet = small_pipe.unet
    sample, t, states, ids, _ = unet_call_inputs(unet, seed=1)
    shift = torch.linspace(-0.5, 0.5, unet.config.block_out_channels[0])
    pose = shift[None, :, None, None].expand(sample.shape[0] * sample.shape[1], -1, *sample.shape[-2:])
    with torch.no_grad():
        with_pose = unet(sample, t, states, ids, pose_latents=pose, return_dict=False)[0]
        bias = unet.conv_in.bias.clone()
        unet.conv_in.bias += shift
        try:
            shifted_bias = unet(sample, t, states, ids, pose_latents=None, return_dict=False)[0]
        finally:
            unet.conv_in.bias.copy_(bias)
    # The same sums in a different order: float32 rounding of O(1) activations through a few dozen layers.
    assert (with_pose - shifted_bias).abs().max() <= 1e-4 * max(1.0, shifted_bias.abs().max().item())


def test_face_tokens_reach_only_the_spatial_cross_attention(small_pipe):
    """The temporal cross-attention sees the CLIP token alone: every temporal attn2 gets a one-token context."""
    unet = small_pipe.unet
    sample, t, states, ids, pose = unet_call_inputs(unet, seed=1)
    temporal, spatial = [], []
    hooks = []
    for name, module in unet.named_modules():
        if name.endswith("attn2"):
            seen = temporal if ".temporal_transformer_blocks." in name else spatial
            hooks.append(module.register_forward_pre_hook(
                lambda m, args, kwargs, seen=seen: seen.append(kwargs["encoder_hidden_states"].shape[1]),
                with_kwargs=True,
            ))  # fmt: skip
    try:
        with torch.no_grad():
            unet(sample, t, states, ids, pose_latents=pose, return_dict=False)
    finally:
        for hook in hooks:
            hook.remove()
    assert temporal and set(temporal) == {1}
    assert spatial and set(spatial) == {1 + unet.config.num_face_tokens}
