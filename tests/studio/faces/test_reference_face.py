"""analyze_reference with stand-in antelopev2 models: the planted box, the raw embedding of insightface's own
aligned crop, the original's channel swap, and the largest face winning."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

from studio.faces.reference_face import analyze_reference, find_antelopev2
from tests.studio.faces.antelope_models import RECOGNITION_FILE, background, expected_landmarks, plant_face

BOX = (90, 70, 162, 150)


def reference_image() -> np.ndarray:
    return plant_face(background(256, 256, seed=1), BOX, seed=7)


def embedding_of_aligned_crop(folder, image_as_given: np.ndarray, kps: np.ndarray) -> np.ndarray:
    """The recognition stand-in run directly (onnxruntime) on insightface's 5-point aligned 112×112 crop,
    preprocessed as ArcFace expects: BGR→RGB, (x − 127.5) / 127.5, NCHW."""
    from insightface.utils import face_align

    crop = face_align.norm_crop(image_as_given, landmark=kps, image_size=112)
    blob = ((crop[..., ::-1].astype(np.float32) - 127.5) / 127.5).transpose(2, 0, 1)[None]
    session = ort.InferenceSession(str(folder / RECOGNITION_FILE), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: np.ascontiguousarray(blob)})[0].reshape(-1)


def test_planted_box_and_raw_embedding_of_the_aligned_crop(antelope_root, analyzer):
    image = reference_image()
    face = analyze_reference(image, models_dir=antelope_root)
    assert face.source == "insightface" and face.warnings == []
    assert np.allclose(face.box, BOX, atol=2.0), face.box
    assert face.embedding.shape == (512,) and face.embedding.dtype == np.float32
    assert abs(float(np.linalg.norm(face.embedding)) - 1.0) > 0.1  # raw, not L2-normalised

    # the detector's landmarks are the planted ones, and the embedding is the stand-in's output on
    # insightface's aligned crop of the image exactly as given (RGB passed where BGR is expected)
    bboxes, kpss = analyzer.detector.detect(image, max_num=0)
    assert len(bboxes) == 1
    # like the real scrfd_10g_bnkps, the stand-in takes any input size: insightface built its own fixed
    # 640×640 session from the file (the same path the real detector goes through)
    assert analyzer.detector.static_input_size is None
    assert (640, 640) in analyzer.detector.resolution_session_input_sizes
    assert np.allclose(kpss[0], expected_landmarks(BOX), atol=2.0)
    expected = embedding_of_aligned_crop(find_antelopev2(antelope_root), image, kpss[0])
    np.testing.assert_allclose(face.embedding, expected, rtol=1e-5, atol=1e-5)


def test_channel_swap_is_the_default_and_can_be_turned_off(analyzer):
    image = reference_image()
    swapped = analyze_reference(image, analyzer=analyzer)  # default: the original's quirk
    assert np.array_equal(swapped.embedding, analyze_reference(image, analyzer=analyzer, channel_swap=True).embedding)
    correct = analyze_reference(image, analyzer=analyzer, channel_swap=False)
    assert np.allclose(correct.box, swapped.box, atol=1e-3)  # the stand-in detector is colour-swap blind
    assert not np.allclose(correct.embedding, swapped.embedding, atol=1e-3)
    _, kpss = analyzer.detector.detect(np.ascontiguousarray(image[..., ::-1]), max_num=0)
    expected = embedding_of_aligned_crop(analyzer.folder, np.ascontiguousarray(image[..., ::-1]), kpss[0])
    np.testing.assert_allclose(correct.embedding, expected, rtol=1e-5, atol=1e-5)


def test_the_largest_face_wins(analyzer):
    small, large = (40, 60, 120, 150), (400, 80, 540, 230)
    image = plant_face(plant_face(background(320, 640, seed=2), small, seed=3), large, seed=4)
    bboxes, _ = analyzer.detector.detect(image, max_num=0)
    assert len(bboxes) == 2  # both are found ...
    face = analyze_reference(image, analyzer=analyzer)
    assert np.allclose(face.box, large, atol=2.0), face.box  # ... and the larger one is used
    alone = plant_face(background(320, 640, seed=2), large, seed=4)
    np.testing.assert_allclose(face.embedding, analyze_reference(alone, analyzer=analyzer).embedding, atol=1e-5)


def test_no_face_gives_no_box_from_insightface(analyzer):
    image = background(256, 256, seed=5)
    assert analyzer.analyze(image) == (None, None)
    face = analyze_reference(image, analyzer=analyzer)
    assert face.source == "none" and face.warnings
    assert face.embedding is not None and not face.embedding.any()  # the documented zero embedding
