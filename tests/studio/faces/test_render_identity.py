"""A diffusion render on the tiny fixture with the stand-in antelopev2 pack beside the weights: the reference's
embedding conditions the render and the sidecar records identity scores from the same backend."""

from __future__ import annotations

import json

import numpy as np

from studio.faces.identity import cosine
from studio.faces.reference_face import analyze_reference
from studio.render.diffusion_engine import DiffusionEngine
from studio.render.renderer import Renderer
from studio.request.render_request import RenderRequest
from tests.generated_media import write_image, write_transform_video
from tests.studio.faces.antelope_models import background, plant_face, write_antelopev2

FACE = (48, 36, 120, 117)  # in the 192×192 photo; a third of it in the 64-px-wide model frame


def tiny_request(tiny_fixture_dir, tmp_path, face=FACE) -> RenderRequest:
    # the official layout: checkpoints/ (here a link to the fixture's, nothing copied) and models/antelopev2 beside it
    (tmp_path / "checkpoints").symlink_to(tiny_fixture_dir / "checkpoints", target_is_directory=True)
    write_antelopev2(tmp_path / "models" / "antelopev2", embedding_size=64)  # the tiny face encoder's input size
    photo = write_image(tmp_path / "reference.png", plant_face(background(192, 192, seed=21), face, seed=22))
    video, _ = write_transform_video(tmp_path / "dance.mp4", num_frames=2, size=128, fps=8.0)
    return RenderRequest(reference=str(photo), motion=str(video), models=str(tmp_path / "checkpoints"),
                         width=64, height=96, steps=2, tile_size=4, tile_overlap=1, decode_chunk=4, seed=3,
                         max_frames=2, face_model="antelopev2").replace(export={"preset": "veryfast"})


class EchoEngine:
    """Yields the fitted reference for every pose: frames that certainly hold the reference's face."""

    name = "diffusion"

    def render(self, inputs, report, cancel):
        for _ in inputs.pose_images:
            cancel.raise_if_cancelled()
            yield inputs.reference.copy()


def test_render_records_identity_scores(tiny_fixture_dir, tmp_path):
    request = tiny_request(tiny_fixture_dir, tmp_path)
    renderer = Renderer(lambda name: DiffusionEngine())

    prepared = renderer.prepare(request)
    assert prepared.face_source == "insightface" and prepared.face_embedder is not None
    # the conditioning embedding is analyze_reference's on the fitted 64×96 reference (channel swap included)
    expected = analyze_reference(prepared.inputs.reference, models_dir=tmp_path / "models")
    np.testing.assert_allclose(prepared.face_embedding, expected.embedding, rtol=1e-5, atol=1e-5)
    x0, y0, x1, y1 = prepared.inputs.reference_face_box
    # the photo was scaled by 1/3 and centred vertically (pad 16 px) in the 64×96 frame
    assert np.allclose((x0, y0, x1, y1), (16, 28, 40, 55), atol=1.5), (x0, y0, x1, y1)

    out = tmp_path / "render.mp4"
    result = renderer.render(request, out, prepared=prepared)
    sidecar = json.loads(out.with_suffix(".json").read_text())
    identity = sidecar["identity"]
    assert identity["reason"] is None and identity["backend"] == "insightface"
    assert len(identity["scores"]) == 2 == sidecar["output"]["frames"]
    assert all(s is None or -1.0 <= s <= 1.0 for s in identity["scores"])
    assert sidecar["face"] == {"source": "insightface", "zero_embedding": False}
    assert result.identity.scores == identity["scores"]
    # (the tiny fixture's random weights draw no face, so these are None; the echo test below scores real faces)
    # the frame embedder is the one the scores came from: the reference itself scores 1
    assert abs(cosine(prepared.face_embedder(prepared.inputs.reference), prepared.face_embedding) - 1.0) < 1e-5


def test_frames_with_the_reference_face_score_one(tiny_fixture_dir, tmp_path):
    # a smaller face: the 64×64 content crop is seen 10× enlarged by the detector (stand-in window ≤ 240 px)
    request = tiny_request(tiny_fixture_dir, tmp_path, face=(60, 50, 114, 110))
    out = tmp_path / "echo.mp4"
    result = Renderer(lambda name: EchoEngine()).render(request, out)
    identity = json.loads(out.with_suffix(".json").read_text())["identity"]
    assert identity["reason"] is None and len(identity["scores"]) == 2
    # the scorer sees the frame cut to the content box (64×64 of the padded 64×96), so the detector's
    # resize differs from the reference's and the landmarks move by a fraction of a pixel: close to 1, not exact
    assert all(0.99 < s <= 1.0 for s in identity["scores"]), identity["scores"]
    assert abs(result.identity.mean - np.mean(identity["scores"])) < 1e-9
