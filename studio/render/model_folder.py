"""The weights folder: find it, check it (what is missing or mismatched), download the official weights.

Layout (docs/model.md §2): ``SVD/`` (or ``stable-video-diffusion-img2vid-xt/``, diffusers SVD-xt) and ``Animation/``
(pose_net, face_encoder, unet as .pth or .safetensors; optional glintr100_torch.pth for HJB), optional ``DWPose/``
and ``models/antelopev2/`` beside them. What is required is defined once, by the loader
(``pipelines.layout.missing_files``/``weight_files``), so the doctor, the render pre-check and the window accept
exactly what renders. The quick check looks at files; the deep check opens every safetensors file and runs the
loader's strict key/shape check, which reads the checkpoints with the loader's own reader (``weights_only=True`` —
a pickle that tries to run code is refused, never executed; a legacy-format .pth that renders is accepted).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from studio.errors import ModelFolderError, StudioError
from studio.interpolation.methods import RIFE_WEIGHTS

HF_REPO = "FrancisRing/StableAnimator"

OPTIONAL: list[tuple[str, str]] = [
    ("Animation/glintr100_torch.pth", "HJB face optimisation (--hjb)"),
    ("DWPose/yolox_l.onnx", "the dwpose pose backend"),
    ("DWPose/dw-ll_ucoco_384.onnx", "the dwpose pose backend"),
    (RIFE_WEIGHTS, "frame interpolation with --method rife (Practical-RIFE 4.25/4.26 train_log/flownet.pkl)"),
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
    from pipelines.layout import find_svd_dir

    folder = Path(folder).expanduser()
    if not folder.exists():
        raise ModelFolderError(f"the weights folder {folder} does not exist; check --models")
    if find_svd_dir(folder) is None and find_svd_dir(folder / "checkpoints") is not None:
        return folder / "checkpoints"
    return folder


def check_models(folder: str | Path, deep: bool = False) -> ModelReport:
    from pipelines.layout import missing_files, weight_files

    folder = resolve_folder(folder)
    report = ModelReport(folder=folder)
    report.missing = missing_files(folder)
    weights = weight_files(folder)
    for path in weights:
        if path.stat().st_size == 0:
            report.problems.append(f"{path.relative_to(folder)} is empty (0 bytes); download it again")
    for rel, purpose in OPTIONAL:
        if not (folder / rel).is_file():
            report.optional_missing.append(f"{rel} (needed only for {purpose})")
    if deep and not report.missing:
        report.checked_deep = True
        for path in weights:
            if path.suffix == ".safetensors":
                problem = open_checkpoint_safely(path)
                if problem:
                    report.problems.append(problem)
        # the loader's own strict check reads the .pth checkpoints with the reader render uses
        report.problems += [p for p in _pipeline_check(folder) if p not in report.problems]
    if deep and (folder / RIFE_WEIGHTS).is_file():
        report.problems += rife_weight_problems(folder / RIFE_WEIGHTS)
    return report


def rife_weight_problems(path: Path) -> list[str]:
    """What keeps ``RIFE/flownet.pkl`` from loading (read with ``weights_only=True``; every bad key named)."""
    from pipelines.loading import CheckpointError, load_state_dict
    from pipelines.rife_ifnet import check_rife_state

    try:
        return check_rife_state(path, load_state_dict(path))[1]
    except CheckpointError as error:
        return list(error.problems)


def validate_models(folder: str | Path, deep: bool = True) -> Path:
    report = check_models(folder, deep=deep)
    report.raise_if_bad()
    return report.folder


def open_checkpoint_safely(path: Path) -> str | None:
    """Open one checkpoint without executing anything; returns a problem sentence or None. A ``.pth`` goes
    through the loader's reader (``weights_only=True``), so the answer is the one a render would get."""
    if path.suffix == ".safetensors":
        try:
            from safetensors import safe_open

            with safe_open(str(path), framework="pt") as handle:
                list(handle.keys())
        except Exception as error:  # safetensors raises several kinds
            return f"{path.name} is not a readable safetensors file ({error}); download it again"
        return None
    from pipelines.loading import CheckpointError, read_checkpoint

    try:
        read_checkpoint(path)  # memory-mapped and dropped at once: reading the 6 GB UNet costs nothing here
    except CheckpointError as error:
        return "; ".join(error.problems)
    return None


def _pipeline_check(folder: Path) -> list[str]:
    """Strict key/shape check by the model core (engineer A), when it is installed."""
    try:
        from pipelines.loading import CheckpointError, check_model_folder
    except ImportError:
        return []
    try:
        result = check_model_folder(folder)
    except CheckpointError as error:
        return list(error.problems)
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
