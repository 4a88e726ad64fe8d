"""The background modes on the diffusion engine (tiny fixture weights, 64×96, 2 steps): the default writes the
model's frames bit for bit; ``photo`` puts the photo's clean plate wherever the frame's matte is 0."""

from __future__ import annotations

import numpy as np
from PIL import Image

from studio.compose.background import photo_layers
from studio.compose.frame_matte import FrameMatter
from studio.render.diffusion_engine import DiffusionEngine
from studio.render.renderer import Renderer
from tests.studio.render.test_render import Recording, media, request_for  # noqa: F401  (media is a fixture)


def pngs(folder):
    files = sorted(folder.glob("frame_*.png"), key=lambda p: int(p.stem.split("_")[1]))
    return [np.array(Image.open(f)) for f in files]


def test_generated_is_the_models_frames_and_photo_keeps_the_photo(tiny_fixture_dir, media, tmp_path):  # noqa: F811
    engine = Recording(DiffusionEngine())
    renderer = Renderer(lambda name: engine)
    request = request_for(tiny_fixture_dir, media, seed=3, export={"format": "png-sequence"})
    renderer.render(request, tmp_path / "generated")
    box = renderer.prepare(request).content_box
    x0, y0, x1, y1 = box
    model_frames = list(engine.frames)
    for png, frame in zip(pngs(tmp_path / "generated"), model_frames, strict=True):
        np.testing.assert_array_equal(png, frame[y0:y1, x0:x1])

    result = renderer.render(request.replace(background="photo"), tmp_path / "photo")
    assert result.request.background == "photo"
    # the same seed: the engine yields the same frames, and the matte is made again from them here
    for a, b in zip(engine.frames, model_frames, strict=True):
        np.testing.assert_array_equal(a, b)
    prep = renderer.prepare(request)
    _matte, plate = photo_layers(prep.inputs.reference, prep.inputs.reference_pose)
    mattes = list(FrameMatter().run(zip(model_frames, prep.inputs.poses, strict=True)))
    written = pngs(tmp_path / "photo")
    assert len(written) == len(model_frames)
    for png, matte in zip(written, mattes, strict=True):
        outside = matte[y0:y1, x0:x1] == 0
        assert outside.any()
        np.testing.assert_array_equal(png[outside], plate[y0:y1, x0:x1][outside])
