"""Write a model folder with exactly the released StableAnimator layout, names, shapes and dtypes, but random values.

    nice python bench/synthetic_release.py /work/synthetic-release          # ~10.6 GB of disk, a few minutes
    nice python bench/synthetic_release.py DIR --spec ../shared/spec/stableanimator-keys --seed 0

What users get (the README's weights section, spec §2): ``SVD/`` in diffusers format as the Hugging Face repository
``stabilityai/stable-video-diffusion-img2vid-xt`` ships it (``model_index.json``, ``feature_extractor/``,
``image_encoder/`` and ``vae/`` safetensors with their ``.fp16`` variants beside the fp32 files, ``scheduler/``,
``unet/config.json``) and ``Animation/`` with ``pose_net.pth``, ``face_encoder.pth``, ``unet.pth`` and
``glintr100_torch.pth`` as ``torch.save``d state dicts. The SVD UNet's own 3 GB weights file is not written: no
StableAnimator script reads it (``Animation/unet.pth`` holds the whole UNet).

This script is deliberately independent of the studio's code (it is the input its loader is tested against): key
names, shapes and dtypes come from the key listings of the released files (``--spec``, one ``key  [shape]  dtype``
per line), the configs below are the released ones (spec §2.1), and the safetensors files are written by hand
(header, then each tensor's bytes) so no more than one tensor is ever in memory. ``.pth`` tensors are filled into a
file-backed memory map first (``torch.save`` needs every tensor at once; mapped pages are page cache the kernel can
write back and drop, not the writer's own memory), then the temporary map is removed.

Values: seeded per key (the same key always gets the same numbers), scaled like PyTorch's default initialisation
(uniform ±1/√fan_in for matrices and kernels, norms' weights 1, biases small, BatchNorm statistics 0/1) so the
real-depth networks' activations stay finite. Writes once: a file that exists is kept (each file appears
atomically, by rename, only when complete), so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import struct
import sys
import time
import zlib
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SPEC = REPO.parent / "shared" / "spec" / "stableanimator-keys"
DIFFUSERS_VERSION = "0.24.0.dev0"  # what the released SVD-xt configs record

# ---------------------------------------------------------------------------------------------- released configs
MODEL_INDEX = {
    "_class_name": "StableVideoDiffusionPipeline", "_diffusers_version": DIFFUSERS_VERSION,
    "feature_extractor": ["transformers", "CLIPImageProcessor"],
    "image_encoder": ["transformers", "CLIPVisionModelWithProjection"],
    "scheduler": ["diffusers", "EulerDiscreteScheduler"],
    "unet": ["diffusers", "UNetSpatioTemporalConditionModel"],
    "vae": ["diffusers", "AutoencoderKLTemporalDecoder"],
}
PREPROCESSOR = {
    "crop_size": {"height": 224, "width": 224}, "do_center_crop": True, "do_convert_rgb": True,
    "do_normalize": True, "do_rescale": True, "do_resize": True, "feature_extractor_type": "CLIPFeatureExtractor",
    "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_processor_type": "CLIPImageProcessor",
    "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3, "rescale_factor": 0.00392156862745098,
    "size": {"shortest_edge": 224},
}
# The released CLIP config says float16 (it was saved from an fp16 pipeline) although model.safetensors is fp32:
# a loader that obeys torch_dtype silently rounds the fp32 weights.
IMAGE_ENCODER = {
    "_name_or_path": "stabilityai/stable-video-diffusion-img2vid-xt", "architectures": ["CLIPVisionModelWithProjection"],
    "attention_dropout": 0.0, "dropout": 0.0, "hidden_act": "gelu", "hidden_size": 1280, "image_size": 224,
    "initializer_factor": 1.0, "initializer_range": 0.02, "intermediate_size": 5120, "layer_norm_eps": 1e-05,
    "model_type": "clip_vision_model", "num_attention_heads": 16, "num_channels": 3, "num_hidden_layers": 32,
    "patch_size": 14, "projection_dim": 1024, "torch_dtype": "float16", "transformers_version": "4.34.0.dev0",
}
SCHEDULER = {
    "_class_name": "EulerDiscreteScheduler", "_diffusers_version": DIFFUSERS_VERSION, "beta_end": 0.012,
    "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": False, "interpolation_type": "linear",
    "num_train_timesteps": 1000, "prediction_type": "v_prediction", "set_alpha_to_one": False, "sigma_max": 700.0,
    "sigma_min": 0.002, "skip_prk_steps": True, "steps_offset": 1, "timestep_spacing": "leading",
    "timestep_type": "continuous", "trained_betas": None, "use_karras_sigmas": True,
}
UNET = {
    "_class_name": "UNetSpatioTemporalConditionModel", "_diffusers_version": DIFFUSERS_VERSION,
    "addition_time_embed_dim": 256, "block_out_channels": [320, 640, 1280, 1280], "cross_attention_dim": 1024,
    "down_block_types": ["CrossAttnDownBlockSpatioTemporal"] * 3 + ["DownBlockSpatioTemporal"],
    "in_channels": 8, "layers_per_block": 2, "num_attention_heads": [5, 10, 20, 20], "num_frames": 25,
    "out_channels": 4, "projection_class_embeddings_input_dim": 768, "sample_size": 96,
    "transformer_layers_per_block": 1,
    "up_block_types": ["UpBlockSpatioTemporal"] + ["CrossAttnUpBlockSpatioTemporal"] * 3,
}
VAE = {
    "_class_name": "AutoencoderKLTemporalDecoder", "_diffusers_version": DIFFUSERS_VERSION,
    "block_out_channels": [128, 256, 512, 512], "down_block_types": ["DownEncoderBlock2D"] * 4,
    "force_upcast": True, "in_channels": 3, "latent_channels": 4, "layers_per_block": 2, "out_channels": 3,
    "sample_size": 768, "scaling_factor": 0.18215,
}
CONFIGS = {
    "SVD/model_index.json": MODEL_INDEX,
    "SVD/feature_extractor/preprocessor_config.json": PREPROCESSOR,
    "SVD/image_encoder/config.json": IMAGE_ENCODER,
    "SVD/scheduler/scheduler_config.json": SCHEDULER,
    "SVD/unet/config.json": UNET,
    "SVD/vae/config.json": VAE,
}
#: weight file → (key listing, stored dtype, format). ``None`` dtype: as listed (fp32, BatchNorm counters int64).
WEIGHTS = {
    "SVD/image_encoder/model.safetensors": ("clip_vit_h14_image_encoder.tsv", None, "safetensors"),
    "SVD/image_encoder/model.fp16.safetensors": ("clip_vit_h14_image_encoder.tsv", torch.float16, "safetensors"),
    "SVD/vae/diffusion_pytorch_model.safetensors": ("vae_svd_xt.tsv", None, "safetensors"),
    "SVD/vae/diffusion_pytorch_model.fp16.safetensors": ("vae_svd_xt.tsv", torch.float16, "safetensors"),
    "Animation/pose_net.pth": ("pose_net.tsv", None, "pth"),
    "Animation/face_encoder.pth": ("face_encoder.tsv", None, "pth"),
    "Animation/unet.pth": ("unet_with_id_adapter.tsv", None, "pth"),
    "Animation/glintr100_torch.pth": ("iresnet100_glintr100_torch.tsv", None, "pth"),
}
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16, "int64": torch.int64}
SAFETENSORS_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}


def read_keys(path: Path) -> list[tuple[str, tuple[int, ...], torch.dtype]]:
    """``key\\t[d0, d1, …]\\tdtype`` lines of a key listing, in file order."""
    entries = []
    for line in path.read_text().splitlines():
        parts = line.split("\t")
        if len(parts) != 3 or not parts[1].startswith("["):
            continue  # a header or a listing of something other than tensors
        shape = tuple(json.loads(parts[1]))
        entries.append((parts[0], shape, DTYPES[parts[2]]))
    if not entries:
        raise SystemExit(f"{path}: no 'key<TAB>[shape]<TAB>dtype' lines; is --spec the key-listing folder?")
    return entries


def values(key: str, shape: tuple[int, ...], dtype: torch.dtype, seed: int) -> torch.Tensor:
    """Seeded random values for one tensor, scaled like a freshly initialised network (see the module text)."""
    if dtype == torch.int64:
        return torch.zeros(shape, dtype=dtype)  # BatchNorm's num_batches_tracked
    generator = torch.Generator().manual_seed((seed * 1_000_003 + zlib.crc32(key.encode())) % 2**63)
    leaf = key.rsplit(".", 1)[-1]
    if leaf == "running_var":
        return torch.ones(shape)
    if leaf == "running_mean":
        return torch.zeros(shape)
    if len(shape) >= 2:  # matrices, kernels, embedding tables
        bound = 1.0 / math.sqrt(max(1, math.prod(shape[1:])))
        return (torch.rand(shape, generator=generator) * 2 - 1) * bound
    noise = torch.randn(shape, generator=generator) * 0.01
    if leaf == "bias":
        return noise
    if "embedding" in key:  # CLIP's class embedding
        return noise * 2
    return 1.0 + noise  # norms' scales, PReLU slopes, PoseNet's output scale


def _atomic_target(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)  # our own leftover of an interrupted run (never a user's file: this name is ours)
    return partial


def write_safetensors(path: Path, entries, dtype: torch.dtype | None, seed: int) -> None:
    """The safetensors format by hand: 8-byte little-endian header length, JSON header, then the tensors' bytes in
    header order; one tensor in memory at a time."""
    header: dict = {"__metadata__": {"format": "pt"}}
    offset = 0
    for key, shape, listed in entries:
        stored = dtype if dtype is not None and listed.is_floating_point else listed
        size = math.prod(shape) * torch.empty((), dtype=stored).element_size()
        header[key] = {"dtype": SAFETENSORS_DTYPES[stored], "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)  # the data starts 8-byte aligned
    partial = _atomic_target(path)
    with open(partial, "xb") as out:
        out.write(struct.pack("<Q", len(blob)))
        out.write(blob)
        for key, shape, listed in entries:
            stored = dtype if dtype is not None and listed.is_floating_point else listed
            tensor = values(key, shape, listed, seed).to(stored).contiguous()
            out.write(tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    os.replace(partial, path)


def write_pth(path: Path, entries, seed: int) -> None:
    """``torch.save`` of a state dict (one storage per tensor, as ``module.state_dict()`` gives) whose tensors live
    in a temporary file-backed map, so the writer's own memory stays at one tensor."""
    sizes = [math.prod(shape) * torch.empty((), dtype=dtype).element_size() for _, shape, dtype in entries]
    backing = _atomic_target(path.with_name(path.name + ".values"))
    partial = _atomic_target(path)
    with open(backing, "xb") as handle:
        handle.truncate(max(1, sum(sizes)))
    mapped = np.memmap(backing, dtype=np.uint8, mode="r+")
    state: OrderedDict[str, torch.Tensor] = OrderedDict()
    offset = 0
    for (key, shape, dtype), size in zip(entries, sizes, strict=True):
        tensor = torch.from_numpy(mapped[offset:offset + size]).view(dtype).view(shape) if size else torch.zeros(
            shape, dtype=dtype)
        tensor.copy_(values(key, shape, dtype, seed))
        state[key] = tensor
        offset += size
    with open(partial, "xb") as out:
        torch.save(state, out)
    del state, tensor, mapped
    backing.unlink()
    os.replace(partial, path)


def write_folder(folder: Path, spec: Path, seed: int, log=print) -> list[str]:
    """Write every file of the released layout that does not exist yet; returns what was written."""
    written = []
    for name, config in CONFIGS.items():
        path = folder / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = _atomic_target(path)
            partial.write_text(json.dumps(config, indent=2) + "\n")
            os.replace(partial, path)
            written.append(name)
    for name, (listing, dtype, kind) in WEIGHTS.items():
        path = folder / name
        if path.exists():
            log(f"kept    {name}")
            continue
        started = time.perf_counter()
        entries = read_keys(spec / listing)
        if kind == "safetensors":
            write_safetensors(path, entries, dtype, seed)
        else:
            write_pth(path, entries, seed)
        log(f"wrote   {name}: {len(entries)} tensors, {path.stat().st_size / 1e9:.2f} GB in "
            f"{time.perf_counter() - started:.0f} s")
        written.append(name)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="where to write the model folder (outside every repository)")
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help="folder of the released files' key listings")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not args.spec.is_dir():
        raise SystemExit(f"key listings not found at {args.spec}; pass --spec DIR")
    torch.set_num_threads(1)
    started = time.perf_counter()
    write_folder(args.folder, args.spec, args.seed)
    total = sum(p.stat().st_size for p in args.folder.rglob("*") if p.is_file())
    print(f"{args.folder}: {total / 1e9:.2f} GB, done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
