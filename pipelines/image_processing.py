"""Image preparation used by the pipeline: the CLIP anti-aliased resize, the VAE conditioning image and the
pose tensor (docs/model.md §4, §10 steps 2, 5, 11). Written from that description; each step notes why it is done that way."""

from __future__ import annotations

import numpy as np
import PIL.Image
import torch
import torch.nn.functional as F

ImageLike = PIL.Image.Image | np.ndarray


def to_pil_rgb(image: ImageLike, what: str = "image") -> PIL.Image.Image:
    """Accept a PIL image or a uint8 ``[H, W, 3]`` array; return an RGB PIL image."""
    if isinstance(image, PIL.Image.Image):
        return image.convert("RGB") if image.mode != "RGB" else image
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(
                f"{what} must be a uint8 array [H, W, 3], got dtype {image.dtype} shape {image.shape}"
            )
        return PIL.Image.fromarray(image)
    raise ValueError(f"{what} must be a PIL image or a uint8 numpy array, got {type(image).__name__}")


def pil_to_tensor01(image: PIL.Image.Image) -> torch.Tensor:
    """``[1, 3, H, W]`` float32 in [0, 1] (``/255`` done in float32 numpy, as diffusers' image processors do)."""
    array = np.array(image).astype(np.float32) / 255.0
    return torch.from_numpy(array[None].transpose(0, 3, 1, 2))


def _gaussian_kernel1d(size: int, sigma: torch.Tensor) -> torch.Tensor:
    """Normalised 1-D Gaussian of ``size`` taps, centred (half-integer offsets for even sizes)."""
    x = torch.arange(size, dtype=sigma.dtype, device=sigma.device) - size // 2
    if size % 2 == 0:
        x = x + 0.5
    g = torch.exp(-x.pow(2.0) / (2 * sigma.pow(2.0)))
    return g / g.sum(-1, keepdim=True)


def _depthwise_filter(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Convolve every channel of ``x`` with the 2-D ``kernel`` ``[kh, kw]`` after reflect padding ("same" size)."""
    b, c, h, w = x.shape
    kh, kw = kernel.shape
    pad = [(kw - 1) // 2, (kw - 1) - (kw - 1) // 2, (kh - 1) // 2, (kh - 1) - (kh - 1) // 2]
    x = F.pad(x, pad, mode="reflect")
    weight = kernel.to(dtype=x.dtype, device=x.device)[None, None].expand(c, 1, kh, kw)
    return F.conv2d(x, weight, groups=c).view(b, c, h, w)


# Counterpart of diffusers.pipelines.stable_video_diffusion.pipeline_stable_video_diffusion._resize_with_antialiasing, written from
# docs/model.md §10 (tests/pipelines/test_image_processing.py checks that the two agree).
def resize_with_antialiasing(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Gaussian blur (σ from the downscale factor, reflect padding, width pass then height pass) followed by bicubic
    interpolation with ``align_corners=True`` — the resize SVD's CLIP path uses (docs/model.md §10 step 2)."""
    h, w = x.shape[-2:]
    sigma_h = max((h / size[0] - 1.0) / 2.0, 0.001)
    sigma_w = max((w / size[1] - 1.0) / 2.0, 0.001)
    k_h, k_w = int(max(2.0 * 2 * sigma_h, 3)), int(max(2.0 * 2 * sigma_w, 3))
    k_h += 1 - k_h % 2  # odd sizes only
    k_w += 1 - k_w % 2
    sigmas = torch.tensor([[sigma_h, sigma_w]], dtype=x.dtype)
    kernel_w = _gaussian_kernel1d(k_w, sigmas[:, 1].view(1, 1))[0]
    kernel_h = _gaussian_kernel1d(k_h, sigmas[:, 0].view(1, 1))[0]
    x = _depthwise_filter(x, kernel_w[None, :])
    x = _depthwise_filter(x, kernel_h[:, None])
    return F.interpolate(x, size=size, mode="bicubic", align_corners=True)


def clip_pixel_values(
    image: PIL.Image.Image, mean: list[float], std: list[float], size: int = 224
) -> torch.Tensor:
    """Reference image at its original size → CLIP input ``[1, 3, size, size]`` float32 (normalised)."""
    x = pil_to_tensor01(image) * 2.0 - 1.0  # the blur works in [-1, 1] like the original
    x = resize_with_antialiasing(x, (size, size))
    x = (x + 1.0) / 2.0
    mean_t = torch.tensor(mean, dtype=torch.float32)[None, :, None, None]
    std_t = torch.tensor(std, dtype=torch.float32)[None, :, None, None]
    return (x - mean_t) / std_t


def vae_conditioning_image(image: PIL.Image.Image, height: int, width: int) -> torch.Tensor:
    """LANCZOS resize to ``(width, height)`` (skipped when already that size), ``[-1, 1]``, ``[1, 3, H, W]``."""
    if image.size != (width, height):
        image = image.resize((width, height), resample=PIL.Image.Resampling.LANCZOS)
    return pil_to_tensor01(image) * 2.0 - 1.0


def pose_pixel_tensor(poses: list[PIL.Image.Image], height: int, width: int) -> torch.Tensor:
    """Pose frames → ``[F, 3, H, W]`` in [-1, 1].

    Built as ``[F, H, W, 3]`` and permuted without ``.contiguous()``: the channels-last strides select the same CPU
    convolution kernels as the reference, which keeps PoseNet's output bit-identical (docs/model.md §18 item 4).
    """
    frames = []
    for pose in poses:
        if pose.size != (width, height):
            pose = pose.resize((width, height), resample=PIL.Image.Resampling.BICUBIC)
        frames.append(np.array(pose))
    pixels = torch.from_numpy(np.stack(frames)).float() / 127.5 - 1
    return pixels.permute(0, 3, 1, 2)
