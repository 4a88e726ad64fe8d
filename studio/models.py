"""The weights folder: find it, check it (what is missing or mismatched), download the official weights.

Layout (spec §2): ``SVD/`` (diffusers SVD-xt) and ``Animation/`` (pose_net.pth, face_encoder.pth, unet.pth,
optional glintr100_torch.pth for HJB), optional ``DWPose/`` and ``models/antelopev2/`` beside them.
The quick check looks at files; the deep check opens every checkpoint safely (``weights_only=True`` — a
pickle that tries to run code is refused, never executed) and, when the model core is installed, runs its
strict key/shape check (``pipelines.loading.check_model_folder``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from studio.errors import ModelFolderError, StudioError

HF_REPO = "FrancisRing/StableAnimator"

#: (relative path, alternatives accepted instead, what it is)
REQUIRED: list[tuple[str, tuple[str, ...], str]] = [
    ("SVD/model_index.json", (), "SVD pipeline index"),
    ("SVD/scheduler/scheduler_config.json", (), "scheduler config"),
    ("SVD/feature_extractor/preprocessor_config.json", (), "CLIP preprocessor config"),
    ("SVD/image_encoder/config.json", (), "CLIP image encoder config"),
    ("SVD/image_encoder/model.safetensors", ("SVD/image_encoder/model.fp16.safetensors",), "CLIP image encoder weights"),
    ("SVD/vae/config.json", (), "VAE config"),
    ("SVD/vae/diffusion_pytorch_model.safetensors", ("SVD/vae/diffusion_pytorch_model.fp16.safetensors",),
     "VAE weights"),
    ("SVD/unet/config.json", (), "UNet config"),
    ("SVD/unet/diffusion_pytorch_model.safetensors", ("SVD/unet/diffusion_pytorch_model.fp16.safetensors",),
     "base SVD UNet weights"),
    ("Animation/pose_net.pth", ("Animation/pose_net.safetensors",), "PoseNet weights"),
    ("Animation/face_encoder.pth", ("Animation/face_encoder.safetensors",), "face encoder (FusionFaceId) weights"),
    ("Animation/unet.pth", ("Animation/unet.safetensors",), "StableAnimator UNet weights"),
]
OPTIONAL: list[tuple[str, str]] = [
    ("Animation/glintr100_torch.pth", "HJB face optimisation (--hjb)"),
    ("DWPose/yolox_l.onnx", "the dwpose pose backend"),
    ("DWPose/dw-ll_ucoco_384.onnx", "the dwpose pose backend"),
]


@dataclass
class ModelReport:
    folder: Path
    missing: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    optional_missing: list[str] = field(default_factory=list)
    checked_deep: bool = False

    @property
    def ok(self) -> bool:
        return not self.missing and not self.problems

    def lines(self) -> list[str]:
        out = [f"weights folder: {self.folder}"]
        out += [f"  missing: {m}" for m in self.missing]
        out += [f"  problem: {p}" for p in self.problems]
        out += [f"  optional, not present: {m}" for m in self.optional_missing]
        if self.ok:
            out.append("  OK" + (" (all checkpoints opened and checked)" if self.checked_deep else " (files present)"))
        return out

    def raise_if_bad(self) -> None:
        if not self.ok:
            details = [f"missing {m}" for m in self.missing] + self.problems
            raise ModelFolderError(
                f"the weights folder {self.folder} is not usable:\n  - " + "\n  - ".join(details)
                + "\nget the official weights with `python -m studio download --models DIR`"
            )


def resolve_folder(folder: str | Path) -> Path:
    """Accept the checkpoints folder itself or its parent (``.../checkpoints``)."""
    folder = Path(folder).expanduser()
    if not folder.exists():
        raise ModelFolderError(f"the weights folder {folder} does not exist; check --models")
    if not (folder / "SVD").exists() and (folder / "checkpoints" / "SVD").exists():
        return folder / "checkpoints"
    return folder


def check_models(folder: str | Path, deep: bool = False) -> ModelReport:
    folder = resolve_folder(folder)
    report = ModelReport(folder=folder)
    for rel, alternatives, what in REQUIRED:
        present = [p for p in (rel, *alternatives) if (folder / p).is_file()]
        if not present:
            hint = " (found SVD under stable-video-diffusion-img2vid-xt: rename it to SVD)" if (
                rel.startswith("SVD/") and (folder / "stable-video-diffusion-img2vid-xt").is_dir()) else ""
            report.missing.append(f"{rel} — {what}{hint}")
        elif (folder / present[0]).stat().st_size == 0:
            report.problems.append(f"{present[0]} is empty (0 bytes); download it again")
    for rel, purpose in OPTIONAL:
        if not (folder / rel).is_file():
            report.optional_missing.append(f"{rel} (needed only for {purpose})")
    if deep and not report.missing:
        report.checked_deep = True
        for rel, alternatives, _what in REQUIRED:
            for p in (rel, *alternatives):
                path = folder / p
                if path.is_file() and path.suffix in (".pth", ".safetensors"):
                    problem = open_checkpoint_safely(path)
                    if problem:
                        report.problems.append(problem)
        if not report.problems:
            report.problems += _pipeline_check(folder)
    return report


def validate_models(folder: str | Path, deep: bool = True) -> Path:
    report = check_models(folder, deep=deep)
    report.raise_if_bad()
    return report.folder


def open_checkpoint_safely(path: Path) -> str | None:
    """Open one checkpoint without executing anything; returns a problem sentence or None."""
    if path.suffix == ".safetensors":
        try:
            from safetensors import safe_open

            with safe_open(str(path), framework="pt") as handle:
                list(handle.keys())
        except Exception as error:  # safetensors raises several kinds
            return f"{path.name} is not a readable safetensors file ({error}); download it again"
        return None
    import pickle

    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except pickle.UnpicklingError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return (f"{path.name} holds Python objects other than tensors and was refused without running them "
                f"(it may be malicious or not a weights file: {first}); use the official file")
    except (RuntimeError, EOFError, OSError, ValueError) as error:
        return f"{path.name} is corrupt or truncated ({str(error).splitlines()[0]}); download it again"
    if not isinstance(state, dict) or not state:
        return f"{path.name} does not hold a state dict of tensors; use the official file"
    return None


def _pipeline_check(folder: Path) -> list[str]:
    """Strict key/shape check by the model core (engineer A), when it is installed."""
    try:
        from pipelines.loading import check_model_folder
    except ImportError:
        return []
    try:
        from pipelines.loading import CheckpointError
    except ImportError:  # pragma: no cover - older model core
        CheckpointError = ValueError  # noqa: N806
    try:
        result = check_model_folder(folder)
    except CheckpointError as error:
        return [line.strip(" -") for line in str(error).splitlines() if line.strip()]
    if isinstance(result, list | tuple):
        return [str(r) for r in result]
    return []


# ---------------------------------------------------------------------------------------- download
def download_models(folder: str | Path, include_optional: bool = True,
                    progress: Callable[[str], None] | None = None) -> Path:
    """Fetch the official weights from the Hugging Face hub into ``folder`` (the checkpoints layout)."""
    import os

    folder = Path(folder).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ModelFolderError(f"cannot create {folder}: {error.strerror or error}") from None
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError, OfflineModeIsEnabled
    except ImportError as error:
        raise StudioError(f"huggingface_hub is not installed ({error}); install the requirements") from None
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        raise StudioError(
            "cannot download the weights: offline mode is on (HF_HUB_OFFLINE is set). Unset it and connect to "
            f"the internet, or copy the official folders (SVD/, Animation/) from https://huggingface.co/{HF_REPO} "
            f"into {folder} by hand"
        )
    patterns = ["SVD/*", "SVD/**", "Animation/*"]
    if include_optional:
        patterns += ["DWPose/*", "models/antelopev2/*"]
    if progress:
        progress(f"downloading {HF_REPO} into {folder}")
    try:
        snapshot_download(repo_id=HF_REPO, local_dir=str(folder), allow_patterns=patterns)
    except (OfflineModeIsEnabled, LocalEntryNotFoundError, OSError) as error:
        raise StudioError(
            f"cannot download the weights from huggingface.co ({type(error).__name__}: {str(error).splitlines()[0]}). "
            "Check the internet connection (or a proxy), or copy the official folders by hand"
        ) from None
    except Exception as error:  # hub HTTP errors have many types
        raise StudioError(f"downloading the weights failed: {error}") from None
    return folder
