"""One pipeline per weights folder: HJB reuses the loaded modules, and renders through it never overlap."""

from __future__ import annotations

import threading

import numpy as np
import torch

from studio.render.diffusion_engine import DiffusionEngine
from studio.render.engine import RenderInputs
from studio.request.render_request import RenderRequest
from studio.system.progress import CancelToken


def test_hjb_pipeline_is_built_from_the_loaded_modules(tiny_fixture_dir):
    engine = DiffusionEngine()
    models = str(tiny_fixture_dir / "checkpoints")
    basic = engine.pipeline(models, "cpu", "fp32")
    hjb = engine.pipeline(models, "cpu", "fp32", hjb=True)
    assert engine.loads == 1, "toggling HJB must not load the weights again"
    for name in ("unet", "vae", "image_encoder", "pose_net", "face_encoder"):
        assert getattr(hjb, name) is getattr(basic, name), name
    assert hjb.face_embedder is not None
    assert hjb.scheduler is not basic.scheduler  # per-call step state is not shared
    assert engine.pipeline(models, "cpu", "fp32", hjb=True) is hjb and engine.pipeline(models, "cpu", "fp32") is basic
    assert engine.loads == 1

    # With refinement off the shared-module HJB pipeline is the basic pipeline, bit for bit.
    from pipelines.testing.tiny import tiny_inputs

    inputs = tiny_inputs(num_frames=2, height=32, width=32, id_dim=basic.face_encoder.config.id_embeddings_dim)
    kwargs = {"num_inference_steps": 2, "tile_size": 2, "output_type": "latent"}
    a = basic(**inputs, **kwargs, generator=torch.Generator().manual_seed(3)).frames
    b = hjb(**inputs, **kwargs, generator=torch.Generator().manual_seed(3)).frames
    assert torch.equal(a, b)


class _OverlapRecordingPipe:
    """Stands in for a pipeline: counts callers inside ``__call__`` and waits until the other thread has asked."""

    def __init__(self, second_asked: threading.Event):
        self.second_asked = second_asked
        self.inside = 0
        self.most_inside = 0
        self.calls = 0
        self.guard = threading.Lock()

    def __call__(self, **kwargs):
        with self.guard:
            self.inside += 1
            self.calls += 1
            self.most_inside = max(self.most_inside, self.inside)
        # The first caller stays inside until the second thread has started its render (or 5 s passed), so
        # without the engine's lock both would be inside at once.
        self.second_asked.wait(timeout=5)
        with self.guard:
            self.inside -= 1

        class Output:
            frames = torch.zeros(1, 2, 4, 4, 4)

        return Output()


def test_two_renders_never_run_through_one_pipeline_at_once(monkeypatch):
    second_asked = threading.Event()
    pipe = _OverlapRecordingPipe(second_asked)
    engine = DiffusionEngine()
    monkeypatch.setattr(engine, "pipeline", lambda *a, **k: pipe)
    monkeypatch.setattr(engine, "_stream_decode", lambda *a, **k: iter([np.zeros((32, 32, 3), np.uint8)]))
    request = RenderRequest(reference="ref.png", motion="poses", models="weights", device="cpu", dtype="fp32")
    inputs = RenderInputs(request=request, width=32, height=32, reference=np.zeros((32, 32, 3), np.uint8),
                          reference_pose=None, poses=[None, None], pose_images=[np.zeros((32, 32, 3), np.uint8)] * 2)
    errors: list[BaseException] = []

    def run(signal: threading.Event | None):
        try:
            if signal is not None:
                signal.set()
            list(engine.render(inputs, lambda progress: None, CancelToken()))
        except BaseException as error:  # noqa: BLE001 — reported by the assertion below
            errors.append(error)

    first = threading.Thread(target=run, args=(None,))
    first.start()
    while pipe.calls == 0 and first.is_alive():  # the first render is inside the pipeline
        first.join(timeout=0.01)
    second = threading.Thread(target=run, args=(second_asked,))
    second.start()
    first.join(timeout=30)
    second.join(timeout=30)
    assert not errors, errors
    assert pipe.calls == 2 and pipe.most_inside == 1
