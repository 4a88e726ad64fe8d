"""Weights folder doctor: missing files, corrupt checkpoints, a malicious pickle (never executed), offline download."""

from __future__ import annotations

import pickle
import shutil

import pytest

from studio.__main__ import main
from studio.errors import ModelFolderError, StudioError
from studio.models import check_models, download_models, validate_models


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
    assert any("face_encoder.pth is corrupt or truncated" in p for p in report.problems), report.problems


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
    assert any("pose_net.pth holds Python objects other than tensors" in p for p in report.problems), report.problems


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
