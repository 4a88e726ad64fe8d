"""The CLIP path's anti-aliased resize equals the one SVD uses (diffusers keeps it as a private helper)."""

from __future__ import annotations

import numpy as np
import PIL.Image
import pytest
import torch
from diffusers.pipelines.stable_video_diffusion.pipeline_stable_video_diffusion import (
    _resize_with_antialiasing,
)

from pipelines.image_processing import pose_pixel_tensor, resize_with_antialiasing


@pytest.mark.parametrize("size", [(144, 96), (500, 300), (224, 224), (1024, 576), (230, 900)])
def test_resize_matches_svd(size):
    x = torch.rand(1, 3, *size, generator=torch.Generator().manual_seed(0)) * 2 - 1
    ours = resize_with_antialiasing(x, (224, 224))
    svd = _resize_with_antialiasing(x, (224, 224))
    assert ours.shape == (1, 3, 224, 224)
    torch.testing.assert_close(ours, svd, rtol=0, atol=0)


def test_pose_tensor_layout_and_range():
    rng = np.random.default_rng(0)
    poses = [PIL.Image.fromarray(rng.integers(0, 256, (16, 8, 3), dtype=np.uint8)) for _ in range(3)]
    x = pose_pixel_tensor(poses, 16, 8)
    assert x.shape == (3, 3, 16, 8) and not x.is_contiguous(), "channels-last strides, as in the reference"
    assert x.min() >= -1 and x.max() <= 1
    torch.testing.assert_close(x[1, :, 2, 3], torch.from_numpy(np.array(poses[1])[2, 3]).float() / 127.5 - 1)
