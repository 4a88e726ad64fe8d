"""Build a :class:`StableAnimatorPipeline` from a folder in the official StableAnimator layout (docs/model.md §2).

```
models_dir/
  SVD/  (or stable-video-diffusion-img2vid-xt/)   diffusers-format SVD-xt: vae, image_encoder, scheduler, unet config
  Animation/pose_net.pth, face_encoder.pth, unet.pth   (or .safetensors)
```

The layout itself (which files, ``missing_files``, ``weight_files``) is defined once in :mod:`pipelines.layout`.

Everything is loaded strictly; sizes come from config files and state-dict shapes (never hard-coded), so the same
code loads the real model and tiny test fixtures. Problems are collected and raised together as one
:class:`CheckpointError`. ``.pth`` files are read with ``torch.load(weights_only=True)`` (no pickle code runs).
"""

from __future__ import annotations

import json
import os
import pickle
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .layout import (  # noqa: F401 - re-exported: the layout is part of what this module loads
    ANIMATION_FILES,
    ANIMATION_FOLDER,
    ANIMATION_PARTS,
    SVD_FOLDER_NAMES,
    SVD_PARTS,
    SVD_REQUIRED,
    WEIGHT_EXTENSIONS,
    find_animation_file,
    find_svd_dir,
    missing_files,
    weight_files,
)
from .weight_checks import describe_non_finite, non_finite_keys, stock_component_problems


class CheckpointError(Exception):
    """A model folder is missing files or holds mismatched weights; ``problems`` lists every one found."""

    def __init__(self, models_dir: str | os.PathLike, problems: list[str]):
        self.models_dir = str(models_dir)
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(
            f"the model folder {self.models_dir} is not usable ({len(self.problems)} problem(s)):\n{lines}"
        )


def load_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Tensors of a ``.safetensors`` or ``.pth`` file; ``.pth`` is read into memory with ``weights_only=True`` so a
    pickle that tries to run code is refused. Raises ``CheckpointError`` for unreadable files.

    The result may outlive the file (a script may write it back over the same path), so ``.pth`` tensors are never
    views of a memory map here; the loader's own reads use :func:`read_checkpoint`."""
    return read_checkpoint(path, mmap=False)[0]


def read_checkpoint(path: str | os.PathLike, mmap: bool = True) -> tuple[dict[str, torch.Tensor], bool]:
    """:func:`load_state_dict`, memory-mapped where the format allows (safetensors, and the zip ``.pth`` format of
    every torch since 1.6; a legacy ``.pth`` is read into memory), plus whether it is. Mapped tensors cost nothing
    until touched but must not outlive a change to the file (a truncated map is a crash): only for reading the
    shapes or copying the values out at once, as :func:`check_model_folder` and the loader do."""
    path = Path(path)
    try:
        if path.suffix == ".safetensors":
            from .weights_in_place import read_safetensors

            state, mapped = read_safetensors(path), True  # safetensors' own load_file maps the file as well
        else:
            mapped = mmap and zipfile.is_zipfile(path)
            state = torch.load(str(path), map_location="cpu", weights_only=True, mmap=mapped)
    except pickle.UnpicklingError:
        # torch's own text advises weights_only=False, i.e. running the file's code: never relay it
        detail = ("it holds Python objects or data other than tensors and was refused without running anything "
                  "(it may be malicious, another program's file or damaged); use the official file")
        raise CheckpointError(path.parent.parent, [f"{path}: cannot be read as weights: {detail}"]) from None
    except Exception as exc:  # noqa: BLE001 — any reader failure means the same thing to the user
        first = (str(exc).strip().splitlines() or [""])[0]
        raise CheckpointError(
            path.parent.parent,
            [f"{path}: cannot be read as weights (corrupt or truncated: {type(exc).__name__}: {first}); "
             "download it again"],
        ) from exc
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(path.parent.parent, [f"{path}: does not hold a flat state dict of tensors"])
    return state, mapped


def _read_json(path: Path, problems: list[str]) -> dict | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        problems.append(f"missing file {path}")
    except (OSError, ValueError) as exc:
        problems.append(f"{path}: not valid JSON ({exc})")
    return None


# ---------------------------------------------------------------------------------------------------- size inference
def face_encoder_config(state: dict[str, torch.Tensor]) -> dict[str, int]:
    """FusionFaceId sizes from its state-dict shapes (the reference hard-codes the real ones)."""
    hidden2, id_dim = state["proj.0.weight"].shape
    cross = state["norm.weight"].shape[0]
    tokens = state["proj.2.weight"].shape[0] // cross
    clip_dim = state["fusion_model.proj_in.weight"].shape[1]
    depth = len({k.split(".")[2] for k in state if k.startswith("fusion_model.layers.")})
    ff_inner = state["fusion_model.layers.0.1.1.weight"].shape[0]
    return {
        "cross_attention_dim": int(cross),
        "id_embeddings_dim": int(id_dim),
        "clip_embeddings_dim": int(clip_dim),
        "num_tokens": int(tokens),
        "depth": int(depth),
        "ff_mult": int(ff_inner // cross),
    }


def pose_net_config(state: dict[str, torch.Tensor]) -> dict[str, int]:
    return {"noise_latent_channels": int(state["final_proj.weight"].shape[0])}


def _compare_state(
    where: str,
    expected: dict[str, torch.Size],
    state: dict[str, torch.Tensor],
    problems: list[str],
    limit: int = 20,
) -> None:
    """Append missing / unexpected / wrong-shape keys (at most ``limit`` of each kind, then a count)."""
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected and not k.endswith("num_batches_tracked")]
    wrong = [
        f"{k}: shape {list(state[k].shape)}, expected {list(expected[k])}"
        for k in expected
        if k in state and tuple(state[k].shape) != tuple(expected[k])
    ]
    for label, items in (("missing key", missing), ("unexpected key", unexpected), ("wrong shape", wrong)):
        for item in items[:limit]:
            problems.append(f"{where}: {label} {item}")
        if len(items) > limit:
            problems.append(f"{where}: … and {len(items) - limit} more {label}s")


def _expected_shapes(module: torch.nn.Module) -> dict[str, torch.Size]:
    return {k: v.shape for k, v in module.state_dict().items()}


def _meta_build(factory) -> torch.nn.Module:
    """Build a module with its parameters on the meta device (shapes only, no memory, fast even for the real
    sizes); the loader fills these same modules, so each is built once."""
    from .weights_in_place import build_empty

    return build_empty(factory)


@dataclass
class _Inspection:
    """What :func:`_inspect_model_folder` found: problems, the Animation state dicts it opened (memory-mapped where
    possible, so checking reads almost nothing and loading opens each file once), the files of the mapped ones, and
    the Animation modules it built without weights to compare shapes (the loader fills these)."""

    problems: list[str]
    states: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)
    mapped: dict[str, Path] = field(default_factory=dict)
    modules: dict[str, torch.nn.Module] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------- checking
def check_model_folder(models_dir: str | os.PathLike) -> list[str]:
    """Every problem with ``models_dir`` as readable lines (empty list = loadable). Checks files, configs, the
    Animation state dicts' keys and shapes against modules built on the meta device (no real weights allocated), the
    SVD components' shapes, and that every number of every weight file is finite (which reads all of them)."""
    return _inspect_model_folder(models_dir, check_values=True).problems


def _inspect_model_folder(models_dir: str | os.PathLike, check_values: bool) -> _Inspection:
    """Files, configs, keys and shapes; with ``check_values`` also every number finite and the SVD components'
    shapes. The loader passes False: it checks both on the values it reads anyway (:func:`_fill_strict`), so a render
    reads each weight file once."""
    from .face_encoder import FusionFaceId
    from .pose_net import PoseNet
    from .unet import StableAnimatorUNet

    models_dir = Path(models_dir)
    problems: list[str] = []
    if not models_dir.is_dir():
        return _Inspection([f"model folder {models_dir} does not exist"])
    svd = find_svd_dir(models_dir)
    unet_config = None
    if svd is None:
        problems.append(f"missing folder {models_dir / 'SVD'} (also accepted: {SVD_FOLDER_NAMES[1]}/)")
    else:
        for sub, files in SVD_REQUIRED.items():
            for name in files:
                path = svd / sub / name
                if not path.is_file():
                    problems.append(f"missing file {path}")
                elif name.endswith(".json"):
                    config = _read_json(path, problems)
                    if sub == "unet":
                        unet_config = config
        fe = svd / "feature_extractor" / "preprocessor_config.json"
        if fe.is_file():
            _read_json(fe, problems)

    found = _Inspection(problems)
    states, mapped, modules = found.states, found.mapped, found.modules
    for stem in ANIMATION_FILES:
        checkpoint = find_animation_file(models_dir, stem)
        if checkpoint is None:
            problems.append(
                f"missing file {models_dir / ANIMATION_FOLDER / (stem + '.pth')} (or .safetensors)"
            )
            continue
        try:
            states[stem], file_backed = read_checkpoint(checkpoint)
            if file_backed:
                mapped[stem] = checkpoint
        except CheckpointError as exc:
            problems.extend(exc.problems)

    if check_values:
        for stem, state in states.items():  # NaN or infinity loads silently and renders black
            problems.extend(describe_non_finite(f"{ANIMATION_FOLDER}/{stem}", non_finite_keys(state.items())))
        if svd is not None:
            problems.extend(stock_component_problems(svd, {k: SVD_REQUIRED[k] for k in ("vae", "image_encoder")}))

    num_tokens = 4
    if "face_encoder" in states:
        try:
            cfg = face_encoder_config(states["face_encoder"])
            num_tokens = cfg["num_tokens"]
            modules["face_encoder"] = _meta_build(lambda: FusionFaceId(**cfg))
            expected = _expected_shapes(modules["face_encoder"])
            _compare_state(f"{ANIMATION_FOLDER}/face_encoder", expected, states["face_encoder"], problems)
        except (KeyError, IndexError, ValueError, ZeroDivisionError) as exc:
            problems.append(f"{ANIMATION_FOLDER}/face_encoder: cannot infer sizes (missing or odd key {exc})")
    if "pose_net" in states:
        try:
            cfg = pose_net_config(states["pose_net"])
            modules["pose_net"] = _meta_build(lambda: PoseNet(**cfg))
            expected = _expected_shapes(modules["pose_net"])
            _compare_state(f"{ANIMATION_FOLDER}/pose_net", expected, states["pose_net"], problems)
        except (KeyError, IndexError) as exc:
            problems.append(f"{ANIMATION_FOLDER}/pose_net: cannot infer sizes (missing key {exc})")
    if "unet" in states and unet_config is not None and svd is not None:
        try:
            modules["unet"] = _meta_build(
                lambda: StableAnimatorUNet.from_config({**unet_config, "num_face_tokens": num_tokens})
            )
            _compare_state(f"{ANIMATION_FOLDER}/unet", _expected_shapes(modules["unet"]), states["unet"], problems)
        except Exception as exc:  # noqa: BLE001 — a broken config can fail in many ways inside diffusers
            problems.append(
                f"{svd / 'unet' / 'config.json'}: cannot build the UNet ({type(exc).__name__}: {exc})"
            )
    return found


# ---------------------------------------------------------------------------------------------------- loading
def _fill_strict(
    module: torch.nn.Module, state: dict[str, torch.Tensor], where: str, problems: list[str],
    dtype: torch.dtype, device: str | torch.device, source: Path | None,
) -> None:
    """Check ``state`` against ``module``'s keys and shapes, then put it in place (:mod:`.weights_in_place`: the
    file's mapped pages where no cast or move is needed, else a copy) and report the tensors holding NaN or infinity
    (found while placing them: a render reads each file once)."""
    from .weights_in_place import put_in_place

    state = {
        k: v for k, v in state.items() if not k.endswith("num_batches_tracked") or k in module.state_dict()
    }
    before = len(problems)
    _compare_state(where, _expected_shapes(module), state, problems)
    if len(problems) == before:
        problems.extend(describe_non_finite(where, put_in_place(module, state, dtype, device, source=source)))


def _stock_modules(svd: Path, dtype: torch.dtype, device: str | torch.device, problems: list[str]):
    """The SVD VAE and CLIP image encoder, built empty from their configs and filled from their safetensors at
    ``dtype`` — never at a config's ``torch_dtype`` (SVD-xt's CLIP config says float16 over fp32 weights)."""
    from diffusers import AutoencoderKLTemporalDecoder
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    from .weights_in_place import build_empty

    built = {}
    try:
        vae_config = json.loads((svd / "vae" / "config.json").read_text())
        built["vae"] = build_empty(lambda: AutoencoderKLTemporalDecoder.from_config(vae_config))
        clip_config = CLIPVisionConfig.from_pretrained(svd / "image_encoder")
        # Eager attention reproduces the reference (transformers 4.35) bit for bit; SDPA differs by rounding.
        clip_config._attn_implementation = "eager"
        built["image_encoder"] = build_empty(lambda: CLIPVisionModelWithProjection(clip_config))
    except Exception as exc:  # noqa: BLE001 — report library errors on a config as a model-folder problem
        problems.append(f"{svd}: cannot build a stock SVD component from its config ({type(exc).__name__}: {exc})")
        return None, None
    files = {"vae": svd / "vae" / "diffusion_pytorch_model.safetensors",
             "image_encoder": svd / "image_encoder" / "model.safetensors"}
    for name, path in files.items():
        try:
            state, file_backed = read_checkpoint(path)
        except CheckpointError as error:
            problems.extend(error.problems)
            continue
        _fill_strict(built[name], state, f"{svd.name}/{name}", problems, dtype, device, path if file_backed else None)
        del state
    return built["vae"], built["image_encoder"]


def load_stable_animator_pipeline(
    models_dir: str | os.PathLike,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    pipeline_class: type | None = None,
    **pipeline_kwargs: Any,
):
    """Load every component from ``models_dir`` (official layout), strictly, and assemble the pipeline.

    Every module is built without weights and its checkpoint put in place at ``dtype`` on ``device``
    (:mod:`.weights_in_place`): the weights are in memory once, never a checkpoint beside a built module. On the CPU
    at the files' own dtype the parameters are the files' memory maps (copy-on-write): the pipeline then depends on
    the files staying as they are — :func:`.weights_in_place.weight_files_signature` tells when one changed.

    Args:
        models_dir: folder holding ``SVD/`` (or ``stable-video-diffusion-img2vid-xt/``) and ``Animation/``.
        device: where the modules go (``"cpu"``, ``"cuda"``, …).
        dtype: ``torch.float32``, ``torch.float16`` or ``torch.bfloat16``, for every module.
        pipeline_class: a :class:`StableAnimatorPipeline` subclass to build instead (e.g. the HJB pipeline).
        pipeline_kwargs: extra constructor arguments for that class.

    Raises:
        CheckpointError: listing every missing file, missing/unexpected key and wrong shape found.
    """
    from diffusers import EulerDiscreteScheduler

    from .pipeline_stable_animator import StableAnimatorPipeline

    if dtype not in (torch.float32, torch.float16, torch.bfloat16):
        raise ValueError(f"dtype must be torch.float32, torch.float16 or torch.bfloat16, got {dtype}")
    models_dir = Path(models_dir)
    found = _inspect_model_folder(models_dir, check_values=False)
    problems, states, mapped, modules = found.problems, found.states, found.mapped, found.modules
    if problems:
        raise CheckpointError(models_dir, problems)
    svd = find_svd_dir(models_dir)
    assert svd is not None  # (a missing SVD folder is one of the problems above)
    face_cfg = face_encoder_config(states["face_encoder"])
    for name, module in modules.items():
        # pop: each checkpoint's map is closed as soon as its module holds the weights
        _fill_strict(module, states.pop(name), f"{ANIMATION_FOLDER}/{name}", problems, dtype, device, mapped.get(name))
    face_encoder, pose_net, unet = modules["face_encoder"], modules["pose_net"], modules["unet"]
    vae, image_encoder = _stock_modules(svd, dtype, device, problems)
    try:
        scheduler = EulerDiscreteScheduler.from_pretrained(svd / "scheduler")
    except Exception as exc:  # noqa: BLE001 — report library loading errors as a model-folder problem
        problems.append(f"{svd}: cannot load the scheduler ({type(exc).__name__}: {exc})")
    feature_extractor = _load_feature_extractor(svd)
    if problems:
        raise CheckpointError(models_dir, problems)

    cross = unet.config.cross_attention_dim  # type: ignore[union-attr]  # diffusers: .config is typed through torch's Module.__getattr__
    if (
        face_cfg["cross_attention_dim"] != cross
        or face_cfg["clip_embeddings_dim"] != image_encoder.config.projection_dim
    ):
        raise CheckpointError(
            models_dir,
            [
                f"{ANIMATION_FOLDER}/face_encoder: sizes (token width {face_cfg['cross_attention_dim']}, CLIP input "
                f"{face_cfg['clip_embeddings_dim']}) do not match the UNet cross-attention width {cross} / CLIP "
                f"projection {image_encoder.config.projection_dim}"
            ],
        )
    if pose_net.config.noise_latent_channels != unet.config.block_out_channels[0]:  # type: ignore[union-attr, index]  # (as above)
        raise CheckpointError(
            models_dir,
            [f"{ANIMATION_FOLDER}/pose_net: width {pose_net.config.noise_latent_channels} does not match the UNet's "  # type: ignore[union-attr]  # (as above)
             f"first block ({unet.config.block_out_channels[0]})"],  # type: ignore[union-attr, index]  # (as above)
        )  # fmt: skip

    cls = pipeline_class or StableAnimatorPipeline
    pipe = cls(
        vae=vae,
        image_encoder=image_encoder,
        unet=unet,
        scheduler=scheduler,
        pose_net=pose_net,
        face_encoder=face_encoder,
        feature_extractor=feature_extractor,
        **pipeline_kwargs,
    )
    move_modules(pipe, device=device, dtype=dtype)
    return pipe


def move_modules(pipe, device: str | torch.device | None = None, dtype: torch.dtype | None = None) -> None:
    """Freeze every module and move/cast it in place. Uses ``nn.Module.to`` directly: diffusers' ``ModelMixin.to``
    warns about fp32-kept modules even when there are none."""
    for module in pipe.components.values():
        if isinstance(module, torch.nn.Module):
            module.requires_grad_(False)
            module.eval()
            torch.nn.Module.to(module, device=device, dtype=dtype)


def _load_feature_extractor(svd: Path):
    """CLIP image processor from ``feature_extractor/`` when present (only its mean/std are used); else None.

    transformers 5's default ``CLIPImageProcessor`` wants torchvision (which cannot be installed beside this torch)
    and falls back to the PIL processor with a warning; ask for the PIL one directly."""
    path = svd / "feature_extractor"
    if not (path / "preprocessor_config.json").is_file():
        return None
    try:
        from transformers import CLIPImageProcessorPil as processor_class
    except ImportError:  # older transformers
        from transformers import CLIPImageProcessor as processor_class  # type: ignore[assignment]  # transformers renamed the class
    return processor_class.from_pretrained(path)
