"""Identity scores: cosine per frame, absent with a reason, saved in the sidecar by the renderer."""

from __future__ import annotations

import json

import numpy as np
import pytest

from studio.faces.identity import IdentityScorer, IdentityScores, cosine, score_frames
from studio.render import prepare as prepare_mod
from studio.render.renderer import Renderer
from studio.request.render_request import RenderRequest
from tests.generated_media import write_astronaut_photo, write_transform_video


def test_cosine():
    assert cosine(np.array([1.0, 0]), np.array([2.0, 0])) == pytest.approx(1.0)
    assert cosine(np.array([1.0, 0]), np.array([0, 3.0])) == pytest.approx(0.0)
    assert cosine(np.array([1.0, 1]), np.array([-1.0, -1])) == pytest.approx(-1.0)
    assert cosine(np.zeros(3), np.ones(3)) == 0.0


def test_scores_per_frame_and_missing_faces():
    ref = np.array([1.0, 0.0, 0.0])
    vectors = [np.array([1.0, 0, 0]), None, np.array([1.0, 1.0, 0])]
    frames = [np.full((4, 4, 3), i, np.uint8) for i in range(3)]
    result = score_frames(ref, frames, lambda f: vectors[int(f[0, 0, 0])], backend="test")
    assert result.scores[0] == pytest.approx(1.0) and result.scores[1] is None
    assert result.scores[2] == pytest.approx(2 ** -0.5)
    assert result.mean == pytest.approx((1 + 2 ** -0.5) / 2)
    assert IdentityScores.from_dict(result.to_dict()).scores == result.scores


def test_absent_with_a_reason():
    scorer = IdentityScorer(None, None, reason="antelopev2 is not installed")
    assert scorer.add(np.zeros((2, 2, 3), np.uint8)) is None
    assert not scorer.result.available and scorer.result.reason == "antelopev2 is not installed"
    assert IdentityScorer(np.ones(3), None).result.reason == "no face backend can embed the output frames"


class _Engine:
    name = "warp"

    def render(self, inputs, report, cancel):
        for i in range(inputs.num_frames):
            yield np.full((inputs.height, inputs.width, 3), 40 * i, np.uint8)


def test_renderer_saves_scores_in_the_sidecar(tmp_path, monkeypatch):
    photo = write_astronaut_photo(tmp_path / "p.png", 128)
    video, _ = write_transform_video(tmp_path / "m.mp4", num_frames=3, size=96, fps=8.0)
    reference = np.array([1.0, 0.0])

    def fake_face(request, image, warnings, analysers):
        # an embedder standing in for antelopev2: brighter frames look less like the reference
        return reference, "test-backend", lambda f: np.array([1.0, f.mean() / 40.0]), None, (10, 10, 20, 20)

    monkeypatch.setattr(prepare_mod, "_reference_face", fake_face)
    request = RenderRequest(reference=str(photo), motion=str(video), engine="warp", width=64, height=64, seed=1)
    result = Renderer(lambda name: _Engine()).render(request, tmp_path / "o.mp4")
    expected = [cosine(reference, np.array([1.0, i])) for i in range(3)]
    assert result.identity.scores == pytest.approx(expected)
    sidecar = json.loads((tmp_path / "o.json").read_text())["identity"]
    assert sidecar["scores"] == pytest.approx(expected) and sidecar["backend"] == "test-backend"
    assert sidecar["mean"] == pytest.approx(np.mean(expected))


def test_a_backend_brings_its_own_measure_and_label():
    from studio.faces.identity import IdentityBackend

    backend = IdentityBackend("b", "model X (1 − distance)", np.zeros(2), lambda f: np.array([0.3, 0.4]),
                              lambda a, b: 1.0 - float(np.linalg.norm(a - b)))
    scorer = IdentityScorer.from_backend(backend)
    assert scorer.add(np.zeros((2, 2, 3), np.uint8)) == pytest.approx(0.5)
    saved = scorer.result.to_dict()
    assert saved["backend"] == "b" and saved["label"] == "model X (1 − distance)"
    assert IdentityScores.from_dict(saved).label == saved["label"]


def test_dlib_scores_the_photo_offline_and_finds_no_face_in_a_blank_frame():
    import cv2

    from studio.faces.dlib_identity import NAME, dlib_backend
    from tests.studio.warp.test_warp_support import astronaut

    photo = astronaut()
    backend, why = dlib_backend(photo)
    assert backend is not None and why is None and backend.name == NAME and "dlib" in backend.label
    assert backend.reference is None  # nothing loaded yet: a preview that scores nothing pays nothing
    scorer = IdentityScorer.from_backend(backend)
    assert scorer.result.available and scorer.result.label == backend.label
    turned = cv2.warpAffine(photo, cv2.getRotationMatrix2D((256, 200), 8, 0.9), (512, 512),
                            borderMode=cv2.BORDER_REFLECT)
    # The same person, turned and scaled: dlib puts it well inside its 0.6 same-person distance.
    assert scorer.add(turned) > 0.75
    blank = np.full((256, 256, 3), 128, np.uint8)
    assert scorer.add(blank) is None
    nobody, _ = dlib_backend(blank)
    result = IdentityScorer.from_backend(nobody).result
    assert not result.available and "no face" in result.reason
