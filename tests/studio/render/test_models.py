"""Weights folder doctor: missing files, corrupt checkpoints, a malicious pickle (never executed), offline download."""

from __future__ import annotations

import pickle
import shutil

import pytest

from studio.__main__ import main
from studio.errors import ModelFolderError, StudioError
from studio.render.model_folder import check_models, download_models, validate_models


@pytest.fixture
def weights(tiny_fixture_dir, tmp_path):
    folder = tmp_path / "checkpoints"
    shutil.copytree(tiny_fixture_dir / "checkpoints", folder)
    return folder


def test_fixture_folder_is_complete(tiny_fixture_dir):
    report = check_models(tiny_fixture_dir / "checkpoints", deep=True)
    assert report.ok and report.checked_deep, report.lines()
    assert any("DWPose" in m for m in report.optional_missing)


def test_parent_of_checkpoints_is_accepted(weights):
    assert check_models(weights.parent).folder == weights


def test_missing_files_are_all_listed(weights):
    (weights / "Animation" / "unet.pth").unlink()
    shutil.rmtree(weights / "SVD" / "vae")
    report = check_models(weights)
    text = "\n".join(report.lines())
    assert "Animation/unet.pth" in text and "SVD/vae/config.json" in text
    assert "SVD/vae/diffusion_pytorch_model.safetensors" in text
    with pytest.raises(ModelFolderError, match="(?s)missing SVD/vae/config.json.*missing Animation/unet.pth"):
        validate_models(weights)


def test_corrupt_checkpoint_is_named(weights):
    path = weights / "Animation" / "face_encoder.pth"
    path.write_bytes(path.read_bytes()[:200])
    report = check_models(weights, deep=True)
    assert any("face_encoder.pth: cannot be read as weights (corrupt or truncated" in p for p in report.problems), \
        report.problems


def test_corrupt_safetensors_is_named(weights):
    path = weights / "SVD" / "vae" / "diffusion_pytorch_model.safetensors"
    path.write_bytes(b"\x00" * 64)
    report = check_models(weights, deep=True)
    assert any("diffusion_pytorch_model.safetensors is not a readable safetensors" in p for p in report.problems)


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))  # would create the marker file if unpickled


def test_malicious_pickle_is_refused_and_never_runs(weights, tmp_path):
    import torch

    marker = tmp_path / "pwned"
    path = weights / "Animation" / "pose_net.pth"
    torch.save({"weight": _Exploit(marker)}, path, pickle_protocol=pickle.DEFAULT_PROTOCOL)
    report = check_models(weights, deep=True)
    assert not marker.exists()
    assert any("pose_net.pth: cannot be read as weights: it holds Python objects" in p and "refused" in p
               for p in report.problems), report.problems
    assert not any("weights_only" in p for p in report.problems)  # never torch's advice to run the file's code


def test_mismatched_checkpoint_reported_by_the_model_core(weights, tiny_fixture_dir):
    # face_encoder.pth swapped for pose_net.pth: present and loadable, but the wrong keys
    shutil.copy(tiny_fixture_dir / "checkpoints" / "Animation" / "pose_net.pth", weights / "Animation" / "face_encoder.pth")
    report = check_models(weights, deep=True)
    assert not report.ok and any("face_encoder" in p for p in report.problems), report.problems


def test_doctor_cli_exit_codes(weights, capsys):
    assert main(["doctor", "--models", str(weights)]) == 0
    (weights / "Animation" / "pose_net.pth").unlink()
    assert main(["doctor", "--models", str(weights)]) == 1
    assert "missing: Animation/pose_net.pth" in capsys.readouterr().out
    assert main(["doctor", "--models", str(weights / "nowhere")]) == 1


def test_download_offline_fails_clearly(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(StudioError, match="offline mode is on"):
        download_models(tmp_path / "w")
    assert main(["download", "--models", str(tmp_path / "w")]) == 1
    assert "offline" in capsys.readouterr().err


def test_doctor_accepts_the_readme_svd_folder_name_and_needs_nothing_unread(weights):
    """One layout for doctor, render pre-check and loader: stable-video-diffusion-img2vid-xt/ is accepted and
    files nothing reads (the base SVD UNet weights, model_index.json, fp16 variants) are never required."""
    from pipelines.loading import check_model_folder, missing_files

    (weights / "SVD").rename(weights / "stable-video-diffusion-img2vid-xt")
    svd = weights / "stable-video-diffusion-img2vid-xt"
    for unread in ("unet/diffusion_pytorch_model.safetensors", "model_index.json"):
        (svd / unread).unlink(missing_ok=True)
    report = check_models(weights, deep=True)
    assert report.ok, report.lines()
    assert check_models(weights.parent).folder == weights and check_model_folder(weights) == []
    (svd / "vae" / "diffusion_pytorch_model.safetensors").rename(svd / "vae" / "diffusion_pytorch_model.fp16.safetensors")
    assert check_models(weights).missing == missing_files(weights) != []  # the loader would not read an fp16 file


def test_doctor_accepts_a_legacy_format_checkpoint_that_renders(weights):
    import torch

    from pipelines.loading import load_state_dict

    path = weights / "Animation" / "unet.pth"
    # the loader maps checkpoints into memory: copy the tensors before the file under them is rewritten
    state = {name: tensor.clone() for name, tensor in load_state_dict(path).items()}
    torch.save(state, path, _use_new_zipfile_serialization=False)
    assert main(["doctor", "--models", str(weights)]) == 0


def test_the_quick_layout_check_imports_no_model_library(tmp_path):
    """The window checks a weights folder on its GUI thread: that must not import torch/diffusers, which would
    stall the window and race the background warm-up's import of the same packages (a circular ImportError)."""
    import subprocess
    import sys

    code = ("import sys; from studio.render.model_folder import check_models; "
            f"report = check_models({str(tmp_path)!r}); assert report.missing; "
            "print(sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


def _rife_file(path, drop: str | None = None):
    """A flownet.pkl in the released layout (``module.`` prefix), random weights; ``drop`` removes one key."""
    import torch

    from pipelines.rife_ifnet import RifeIFNet

    state = {f"module.{k}": v for k, v in RifeIFNet().state_dict().items() if k != drop}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)


def test_doctor_knows_the_rife_weights(weights):
    assert any(m.startswith("RIFE/flownet.pkl") for m in check_models(weights).optional_missing)
    _rife_file(weights / "RIFE" / "flownet.pkl")
    report = check_models(weights, deep=True)
    assert report.ok and not any("RIFE" in m for m in report.optional_missing), report.lines()
    _rife_file(weights / "RIFE" / "flownet.pkl", drop="block2.lastconv.0.bias")
    report = check_models(weights, deep=True)
    assert not report.ok and any("missing key block2.lastconv.0.bias" in p for p in report.problems), report.problems
