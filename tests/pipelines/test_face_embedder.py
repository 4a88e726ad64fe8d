"""The differentiable IResNet face embedder: sizes read from the state dict, strict loading, safe files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from pipelines.face_embedder import IResNetFaceEmbedder
from pipelines.hjb_faces import reference_embedding
from tests.data_paths import key_listing


def _tsv_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    shapes = {}
    for line in path.read_text().splitlines():
        key, shape, _dtype = line.split("\t")
        shapes[key] = tuple(int(v) for v in shape.strip("[]").split(",") if v.strip())
    return shapes


def test_tiny_checkpoint_loads_strictly_with_sizes_from_the_state_dict(tiny_fixture_dir):
    model = IResNetFaceEmbedder.from_checkpoint(tiny_fixture_dir / "checkpoints/Animation/glintr100_torch.pth")
    assert list(model.config.layers) == [2, 1, 1, 1]
    assert list(model.config.stage_channels) == [16, 16, 32, 32]
    assert model.config.stem_channels == 16
    assert model.config.num_features == 64
    assert model.config.feature_map_size == 7
    assert not model.training
    out = model(torch.zeros(2, 3, 112, 112))
    assert out.shape == (2, 64)


def test_real_iresnet100_key_listing_matches_the_inferred_architecture():
    shapes = _tsv_shapes(key_listing("iresnet100_glintr100_torch.tsv"))
    meta = {k: torch.empty(s, device="meta") for k, s in shapes.items()}
    config = IResNetFaceEmbedder.config_from_state_dict(meta)
    assert config["layers"] == [3, 13, 30, 3]
    assert config["stage_channels"] == [64, 128, 256, 512]
    assert config["num_features"] == 512 and config["feature_map_size"] == 7
    with torch.device("meta"):
        model = IResNetFaceEmbedder(**config)
    built = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert built == shapes
    assert sum(int(np.prod(s)) for s in shapes.values()) == 65_225_946  # docs/model.md §8 count, incl. BN counters


def test_state_dict_without_num_batches_tracked_loads_and_computes_the_same(tiny_fixture_dir, tmp_path):
    path = tiny_fixture_dir / "checkpoints/Animation/glintr100_torch.pth"
    full = torch.load(path, weights_only=True)
    stripped = {k: v for k, v in full.items() if not k.endswith("num_batches_tracked")}
    assert len(stripped) < len(full)
    x = torch.randn(1, 3, 112, 112, generator=torch.Generator().manual_seed(0))
    a = IResNetFaceEmbedder.from_state_dict(full)(x)
    b = IResNetFaceEmbedder.from_state_dict(stripped)(x)
    assert torch.equal(a, b)


def test_missing_and_mismatched_keys_are_all_listed(tiny_fixture_dir, tmp_path):
    full = torch.load(tiny_fixture_dir / "checkpoints/Animation/glintr100_torch.pth", weights_only=True)
    broken = dict(full)
    del broken["layer2.0.bn3.bias"]
    broken["features.bias"] = torch.zeros(7)
    broken["extra.weight"] = torch.zeros(1)
    target = tmp_path / "broken.pth"
    torch.save(broken, target)
    with pytest.raises(ValueError) as error:
        IResNetFaceEmbedder.from_checkpoint(target)
    message = str(error.value)
    assert str(target) in message
    assert "layer2.0.bn3.bias" in message and "extra.weight" in message and "features.bias" in message


def test_not_an_iresnet_and_missing_file_give_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="face-embedder weights not found"):
        IResNetFaceEmbedder.from_checkpoint(tmp_path / "nope.pth")
    target = tmp_path / "other.pth"
    torch.save({"weight": torch.zeros(3)}, target)
    with pytest.raises(ValueError, match="not an IResNet"):
        IResNetFaceEmbedder.from_checkpoint(target)


def test_wrong_input_size_is_rejected(tiny_fixture_dir):
    model = IResNetFaceEmbedder.from_checkpoint(tiny_fixture_dir / "checkpoints/Animation/glintr100_torch.pth")
    with pytest.raises(ValueError, match="112"):
        model(torch.zeros(1, 3, 64, 64))


def test_reference_embedding_matches_the_fixture(tiny_fixture_dir):
    model = IResNetFaceEmbedder.from_checkpoint(tiny_fixture_dir / "checkpoints/Animation/glintr100_torch.pth")
    inputs = tiny_fixture_dir / "inputs"
    embedding = reference_embedding(model, inputs / "reference.png", mask=inputs / "reference_mask.png")
    expected = np.load(tiny_fixture_dir / "runs/b_hjb/intermediates.npz")["hjb_ref_embedding"]
    np.testing.assert_allclose(embedding.numpy(), expected, rtol=0, atol=1e-5)
