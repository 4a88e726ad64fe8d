"""The official StableAnimator weights layout (docs/model.md §2), without importing torch.

```
models_dir/
  SVD/  (or stable-video-diffusion-img2vid-xt/)   diffusers-format SVD-xt: vae, image_encoder, scheduler, unet config
  Animation/pose_net.pth, face_encoder.pth, unet.pth   (or .safetensors)
```

This is the one definition of that layout: ``missing_files`` and ``weight_files`` (what the loader reads) serve the
loader, the studio's doctor, its render pre-check and the window's check, so they accept exactly what loads. It
only looks at names on disk, so the window can check a folder on its GUI thread without importing torch/diffusers
(``pipelines/__init__`` exports its model classes lazily for the same reason).
"""

from __future__ import annotations

import os
from pathlib import Path

SVD_FOLDER_NAMES = ("SVD", "stable-video-diffusion-img2vid-xt")
ANIMATION_FOLDER = "Animation"
ANIMATION_FILES = ("pose_net", "face_encoder", "unet")
WEIGHT_EXTENSIONS = (".safetensors", ".pth")
#: Files read from the SVD folder, per subfolder (the UNet's weights come from Animation/unet, only its config here).
SVD_REQUIRED = {
    "vae": ("config.json", "diffusion_pytorch_model.safetensors"),
    "image_encoder": ("config.json", "model.safetensors"),
    "scheduler": ("scheduler_config.json",),
    "unet": ("config.json",),
}
SVD_PARTS = {"vae": "VAE", "image_encoder": "CLIP image encoder", "scheduler": "scheduler", "unet": "UNet config"}
ANIMATION_PARTS = {"pose_net": "PoseNet weights", "face_encoder": "face encoder (FusionFaceId) weights",
                   "unet": "StableAnimator UNet weights"}


def find_svd_dir(models_dir: str | os.PathLike) -> Path | None:
    """``models_dir/SVD`` or ``models_dir/stable-video-diffusion-img2vid-xt`` (first that exists)."""
    for name in SVD_FOLDER_NAMES:
        candidate = Path(models_dir) / name
        if candidate.is_dir():
            return candidate
    return None


def find_animation_file(models_dir: str | os.PathLike, stem: str) -> Path | None:
    """``Animation/<stem>.safetensors`` (preferred) or ``Animation/<stem>.pth``."""
    for ext in WEIGHT_EXTENSIONS:
        candidate = Path(models_dir) / ANIMATION_FOLDER / f"{stem}{ext}"
        if candidate.is_file():
            return candidate
    return None


def missing_files(models_dir: str | os.PathLike) -> list[str]:
    """Every file the loader needs that is absent, as ``relative/path — what it is`` (empty: all present).
    Checks names only (fast); ``check_model_folder`` also reads them."""
    models_dir = Path(models_dir)
    missing = []
    svd = find_svd_dir(models_dir)
    if svd is None:
        missing.append(f"SVD/ — the Stable Video Diffusion folder (also accepted: {SVD_FOLDER_NAMES[1]}/)")
    else:
        for sub, files in SVD_REQUIRED.items():
            missing += [f"{svd.name}/{sub}/{name} — {SVD_PARTS[sub]}" for name in files
                        if not (svd / sub / name).is_file()]
    for stem in ANIMATION_FILES:
        if find_animation_file(models_dir, stem) is None:
            missing.append(f"{ANIMATION_FOLDER}/{stem}.pth (or .safetensors) — {ANIMATION_PARTS[stem]}")
    return missing


def weight_files(models_dir: str | os.PathLike) -> list[Path]:
    """The weight files the loader reads that are present (SVD safetensors, then the Animation checkpoints)."""
    models_dir = Path(models_dir)
    files = []
    svd = find_svd_dir(models_dir)
    if svd is not None:
        files += [svd / sub / name for sub, names in SVD_REQUIRED.items() for name in names
                  if name.endswith(WEIGHT_EXTENSIONS) and (svd / sub / name).is_file()]
    files += [path for stem in ANIMATION_FILES if (path := find_animation_file(models_dir, stem)) is not None]
    return files
