"""The antelopev2 folder layouts end to end with the stand-in models, and clear errors for broken packs."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from studio.errors import ModelFolderError
from studio.faces.reference_face import FaceAnalyzer, analyze_reference, find_antelopev2
from tests.studio.faces.antelope_models import (
    DETECTOR_FILE,
    RECOGNITION_FILE,
    background,
    plant_face,
    write_antelopev2,
)

BOX = (60, 50, 120, 120)  # ≤ 240 detector px across (the stand-in's window)


@pytest.mark.parametrize("layout", ["antelopev2/antelopev2", "models/antelopev2", "."])
def test_layouts_work_end_to_end(tmp_path, antelope_root, analyzer, layout):
    root = tmp_path / "download"
    target = (root / layout).resolve() if layout != "." else root
    target.mkdir(parents=True)
    for name in (DETECTOR_FILE, RECOGNITION_FILE):
        shutil.copy(antelope_root / "antelopev2" / name, target / name)
    assert find_antelopev2(root) == target
    image = plant_face(background(200, 200, seed=11), BOX, seed=12)
    face = analyze_reference(image, models_dir=root)
    assert face.source == "insightface"
    assert np.allclose(face.box, BOX, atol=2.0), face.box
    # the same models in another folder give the same embedding
    np.testing.assert_array_equal(face.embedding, analyze_reference(image, analyzer=analyzer).embedding)


def test_export_is_deterministic(tmp_path, antelope_root):
    write_antelopev2(tmp_path / "again")
    image = plant_face(background(200, 200, seed=11), BOX, seed=12)
    first = analyze_reference(image, models_dir=antelope_root)
    second = analyze_reference(image, models_dir=tmp_path / "again")
    np.testing.assert_allclose(first.embedding, second.embedding, rtol=1e-6, atol=1e-6)


def test_missing_recognition_model_is_named(tmp_path, antelope_root):
    folder = tmp_path / "antelopev2" / "antelopev2"
    folder.mkdir(parents=True)
    shutil.copy(antelope_root / "antelopev2" / DETECTOR_FILE, folder / DETECTOR_FILE)
    with pytest.raises(ModelFolderError, match=RECOGNITION_FILE) as error:
        FaceAnalyzer(tmp_path)
    assert str(folder) in str(error.value)


def test_corrupt_recognition_model_is_a_clear_error(tmp_path, antelope_root):
    folder = tmp_path / "antelopev2"
    folder.mkdir()
    shutil.copy(antelope_root / "antelopev2" / DETECTOR_FILE, folder / DETECTOR_FILE)
    (folder / RECOGNITION_FILE).write_bytes(b"not an onnx model")
    with pytest.raises(ModelFolderError, match="could not load the face-recognition model"):
        FaceAnalyzer(tmp_path)


def test_swapped_files_are_rejected(tmp_path, antelope_root):
    folder = tmp_path / "antelopev2"
    folder.mkdir()
    shutil.copy(antelope_root / "antelopev2" / DETECTOR_FILE, folder / RECOGNITION_FILE)
    shutil.copy(antelope_root / "antelopev2" / RECOGNITION_FILE, folder / DETECTOR_FILE)
    with pytest.raises(ModelFolderError, match="not an SCRFD face detector"):
        FaceAnalyzer(tmp_path)
