"""Non-finite numbers never become a black video reported as done (issue 25, cause 5): NaN in a checkpoint or a
VAE tensor of the wrong shape fails the doctor and refuses a render before it starts; weights that overflow stop
the render with an error naming the cause."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from studio.errors import StudioError
from studio.render.diffusion_engine import DiffusionEngine
from studio.render.model_folder import check_models
from studio.render.renderer import Renderer
from tests.studio.render.test_render import request_for


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    from tests.generated_media import write_astronaut_photo, write_transform_video

    folder = tmp_path_factory.mktemp("media")
    return {"photo": write_astronaut_photo(folder / "astronaut.png", 128),
            "video": write_transform_video(folder / "dance.mp4", num_frames=3, size=96, fps=8.0)[0],
            "folder": folder}


def _copy_fixture(tiny_fixture_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "checkpoints"
    shutil.copytree(tiny_fixture_dir / "checkpoints", folder)
    return folder


def _set_first_float(path: Path, value: float) -> str:
    state = torch.load(path, weights_only=True)
    key = next(k for k, v in state.items() if v.is_floating_point() and v.numel() > 1)
    state[key].view(-1)[0] = value
    torch.save(state, path)
    return key


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_the_doctor_reports_a_checkpoint_holding_nan_or_inf(tiny_fixture_dir, tmp_path, value):
    folder = _copy_fixture(tiny_fixture_dir, tmp_path)
    key = _set_first_float(folder / "Animation" / "pose_net.pth", value)
    report = check_models(folder, deep=True)
    assert not report.ok and any("NaN or infinite" in p and key in p and "pose_net" in p for p in report.problems)


def test_the_doctor_reports_a_vae_tensor_of_the_wrong_shape(tiny_fixture_dir, tmp_path):
    folder = _copy_fixture(tiny_fixture_dir, tmp_path)
    path = folder / "SVD" / "vae" / "diffusion_pytorch_model.safetensors"
    state = load_file(path)
    key = sorted(k for k in state if state[k].ndim == 1)[0]
    state[key] = state[key][:1].clone()
    save_file(state, path)
    report = check_models(folder, deep=True)
    assert not report.ok and any("wrong shape" in p and key in p for p in report.problems)


def test_a_render_with_nan_weights_refuses_before_rendering(tiny_fixture_dir, tmp_path, media):
    folder = _copy_fixture(tiny_fixture_dir, tmp_path)
    _set_first_float(folder / "Animation" / "unet.pth", float("nan"))
    request = request_for(tiny_fixture_dir, media, models=str(folder))
    with pytest.raises(StudioError, match="NaN or infinite"):
        Renderer(lambda name: DiffusionEngine()).render(request, tmp_path / "o.mp4")
    assert not (tmp_path / "o.mp4").exists()


def test_weights_that_overflow_stop_the_render_naming_the_cause(tiny_fixture_dir, tmp_path, media):
    folder = _copy_fixture(tiny_fixture_dir, tmp_path)
    state = torch.load(folder / "Animation" / "unet.pth", weights_only=True)
    key = next(k for k in state if k.endswith("conv_in.weight"))
    state[key] = torch.full_like(state[key], 3e38)  # finite, so every check of the file passes
    torch.save(state, folder / "Animation" / "unet.pth")
    assert check_models(folder, deep=True).ok
    request = request_for(tiny_fixture_dir, media, models=str(folder))
    with pytest.raises(StudioError, match="NaN or infinite values after denoising step 1"):
        Renderer(lambda name: DiffusionEngine()).render(request, tmp_path / "o.mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoints"]
