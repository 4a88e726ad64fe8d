"""The wait between Render and the first denoising step, in the log: when the first step begins, what ran before it
(each conditioning model once), and the load's peak beside the weights — the lines ``bench/release_run.py`` reads
(issue 22 item 3: "first UNet call done" alone counted the call itself as waiting)."""

from __future__ import annotations

import logging
import re

import pytest
import torch

from studio.render.diffusion_engine import DiffusionEngine
from studio.render.renderer import Renderer
from studio.render.stage_clock import StageClock
from tests.studio.render.test_render import request_for


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    from tests.generated_media import write_astronaut_photo, write_transform_video

    folder = tmp_path_factory.mktemp("media")
    return {"photo": write_astronaut_photo(folder / "astronaut.png", 128),
            "video": write_transform_video(folder / "dance.mp4", num_frames=6, size=96, fps=8.0)[0]}


def test_a_render_logs_when_the_first_denoising_step_began_and_what_ran_before_it(tiny_fixture_dir, media,
                                                                                   tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="studio.render.diffusion_engine")
    # 6 frames in tiles of 4 with overlap 1: two UNet calls per step, PoseNet still once per render
    Renderer(lambda name: DiffusionEngine()).render(request_for(tiny_fixture_dir, media), tmp_path / "o.mp4")
    lines = [r.getMessage() for r in caplog.records if r.name == "studio.render.diffusion_engine"]

    def index(prefix: str) -> int:
        return next(i for i, line in enumerate(lines) if line.startswith(prefix))

    assert (index("model code imported") < index("model ready") < index("first denoising step began")
            < index("first UNet call done"))
    began = lines[index("first denoising step began")]
    after_render, after_load = map(float, re.search(r"began (\d+\.\d+) s after Render, (\d+\.\d+) s after the "
                                                    r"render's load phase began", began).groups())
    assert after_render >= after_load  # Render comes first: preparing the poses precedes the load
    before = lines[index("before it:")]
    for model in ("CLIP image encoder", "face encoder", "VAE encoder", "PoseNet"):
        assert re.search(rf"{model} \d+\.\d+ s(,|$)", before), (model, before)  # ran, and once ("(n runs)" otherwise)
    ready = lines[index("model ready")]
    peak, before, weights = map(float, re.search(r"peak RSS (\d+\.\d+) GB \((\d+\.\d+) GB before loading\) with "
                                                 r"(\d+\.\d+) GB of weights", ready).groups())
    assert 0 < before <= peak and 0 < weights <= peak


class _Model(torch.nn.Module):
    def forward(self, x):
        return x


class _Pipe:
    def __init__(self):
        self.image_encoder, self.face_encoder, self.pose_net, self.unet = _Model(), _Model(), _Model(), _Model()
        self.vae = torch.nn.Module()
        self.vae.encoder = _Model()


def test_the_clock_counts_each_model_before_the_first_step_and_leaves_no_hooks(caplog):
    caplog.set_level(logging.INFO, logger="studio.render.diffusion_engine")
    ticks = iter(range(100))
    pipe, x = _Pipe(), torch.zeros(1)
    with StageClock(pipe, render_started=-10.0, load_started=0.0, clock=lambda: float(next(ticks))) as clock:
        pipe.image_encoder(x)             # ticks 0 → 1
        pipe.pose_net(x), pipe.pose_net(x)  # 2 → 3, 4 → 5: twice
        pipe.unet(x)                      # first step at tick 6
        pipe.vae.encoder(x), pipe.unet(x)  # after the first step: not conditioning, not a second "began"
    assert clock.first_step_at == 6.0
    assert clock.seconds == {"CLIP image encoder": 1.0, "PoseNet": 2.0}
    assert clock.calls == {"CLIP image encoder": 1, "PoseNet": 2}
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["first denoising step began 16.00 s after Render, 6.00 s after the render's load phase "
                        "began", "before it: CLIP image encoder 1.00 s, PoseNet 2.00 s (2 runs)"]
    for module in (pipe.image_encoder, pipe.pose_net, pipe.unet, pipe.vae.encoder):
        assert not module._forward_hooks and not module._forward_pre_hooks
