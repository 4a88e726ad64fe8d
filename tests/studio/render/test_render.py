"""The renderer with the diffusion engine on the public tiny fixture: end to end with audio, reproduction
from the sidecar, streamed decode, pipeline reuse, preview, cancel, and clear errors for bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from studio.errors import InputError, ModelFolderError
from studio.export.exporter import probe_video
from studio.render.diffusion_engine import DiffusionEngine
from studio.render.renderer import Renderer
from studio.request.render_request import RenderRequest
from studio.system.progress import Cancelled, CancelToken
from tests.generated_media import (
    write_astronaut_photo,
    write_corrupt_video,
    write_image,
    write_transform_video,
)


class Recording:
    """Wraps an engine and keeps the raw frames it yields (to compare renders bit for bit)."""

    def __init__(self, engine):
        self.engine, self.name, self.frames = engine, engine.name, []

    def render(self, inputs, report, cancel):
        self.frames = []
        for frame in self.engine.render(inputs, report, cancel):
            self.frames.append(frame.copy())
            yield frame


@pytest.fixture(scope="module")
def engine():
    return Recording(DiffusionEngine())


@pytest.fixture(scope="module")
def renderer(engine):
    return Renderer(lambda name: engine)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    folder = tmp_path_factory.mktemp("media")
    photo = write_astronaut_photo(folder / "astronaut.png", 192)
    video, _ = write_transform_video(folder / "dance.mp4", num_frames=6, size=128, fps=8.0, audio=True)
    return {"photo": photo, "video": video, "folder": folder}


def request_for(tiny_fixture_dir, media, **kw) -> RenderRequest:
    values = dict(reference=str(media["photo"]), motion=str(media["video"]),
                  models=str(tiny_fixture_dir / "checkpoints"), width=64, height=96, steps=2, tile_size=4,
                  tile_overlap=1, decode_chunk=4, face_model="none", export={"preset": "veryfast"})
    values.update(kw)
    return RenderRequest(**{k: v for k, v in values.items() if k != "export"}).replace(export=values["export"])


def no_partials(folder: Path) -> bool:
    return not [p for p in folder.rglob("*") if ".partial" in p.name]


def test_end_to_end_with_audio_and_reproducible_sidecar(tiny_fixture_dir, media, renderer, engine, tmp_path):
    out = tmp_path / "render.mp4"
    result = renderer.render(request_for(tiny_fixture_dir, media), out)
    first = list(engine.frames)
    driving = probe_video(media["video"])
    info = probe_video(out)
    assert info.frames == driving.frames == 6
    assert info.fps == driving.fps == 8.0
    assert abs(info.duration_s - driving.duration_s) < 0.05
    assert info.audio and info.video_codec == "h264" and info.pix_fmt == "yuv420p"
    # the square photo was padded into 64×96; the pad is cut on export
    assert (info.width, info.height) == (64, 64)
    assert json.loads(info.comment)["seed"] == result.request.seed
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["engine"] == "diffusion" and sidecar["seed"] == result.request.seed is not None
    assert sidecar["identity"]["reason"]  # no antelopev2 here: no scores, and the reason says so
    assert no_partials(tmp_path)

    again = RenderRequest.from_file(out.with_suffix(".json"))
    assert again.seed == result.request.seed
    renderer.render(again, tmp_path / "again.mp4")
    assert len(engine.frames) == len(first)
    assert all(np.array_equal(a, b) for a, b in zip(first, engine.frames, strict=True))
    assert engine.engine.loads == 1  # the pipeline was loaded once and reused


def test_a_memory_budget_says_what_it_chose_in_the_sidecar(tiny_fixture_dir, media, renderer, tmp_path):
    # 1 MB is below what even the tiny model needs: the planner takes every cheaper setting it knows, says so, and
    # the render still runs (quality settings untouched) with the choices written beside the video
    out = tmp_path / "budget.mp4"
    said = []
    result = renderer.render(request_for(tiny_fixture_dir, media, max_memory=0.001), out,
                             report=lambda p: said.append(p.message))
    note = next(w for w in result.warnings if w.startswith("to fit 0.0 GB"))
    assert "two UNet calls" in note and "decode chunk 1 frames" in note and "still" in note
    assert note in json.loads(out.with_suffix(".json").read_text())["warnings"]
    assert note in said
    assert probe_video(out).frames == 6


def test_streamed_decode_matches_the_pipeline_output(tiny_fixture_dir, media, renderer, engine):
    import torch

    request = request_for(tiny_fixture_dir, media, seed=5, decode_chunk=2)
    prepared = renderer.prepare(request)
    frames = list(engine.engine.render(prepared.inputs, lambda p: None, CancelToken()))
    pipe = engine.engine.pipeline(request.models)
    inputs = prepared.inputs
    expected = pipe(image=inputs.reference, pose_images=inputs.pose_images, id_embedding=None, height=96, width=64,
                    tile_size=4, tile_overlap=1, num_inference_steps=2, decode_chunk_size=2,
                    generator=torch.Generator("cpu").manual_seed(5), output_type="np").frames[0]
    assert np.array_equal(np.stack(frames), (expected * 255).round().astype(np.uint8))


def test_live_preview_every_step(tiny_fixture_dir, media, renderer, tmp_path):
    previews = []
    renderer.render(request_for(tiny_fixture_dir, media, steps=3), tmp_path / "p.mp4",
                    preview=lambda image, step, total: previews.append((image.shape, step, total)))
    assert [p[1:] for p in previews] == [(1, 3), (2, 3), (3, 3)]
    assert previews[0][0] == (96, 64, 3)
    true = []
    renderer.render(request_for(tiny_fixture_dir, media, steps=2), tmp_path / "q.mp4", true_decode_preview=True,
                    preview=lambda image, step, total: true.append(image))
    assert len(true) == 2 and true[0].shape == (96, 64, 3) and true[0].dtype == np.uint8


def test_pipeline_is_rebuilt_only_when_weights_device_or_dtype_change(tiny_fixture_dir):
    engine = DiffusionEngine()
    models = str(tiny_fixture_dir / "checkpoints")
    first = engine.pipeline(models, "cpu", "fp32")
    assert engine.pipeline(models, "auto", "auto") is first and engine.loads == 1  # auto → cpu/fp32 here
    engine.pipeline(models, "cpu", "bf16")
    assert engine.loads == 2


def test_a_weight_file_rewritten_in_place_is_loaded_again_not_used_stale(tiny_fixture_dir, tmp_path):
    """On the CPU the loaded weights are the files' maps (pipelines.weights_in_place): a file rewritten in place
    would show through them, so the engine loads again when a weight file's identity, size or time changed."""
    import os
    import shutil

    import torch

    models = tmp_path / "models"
    shutil.copytree(tiny_fixture_dir / "checkpoints", models)
    engine = DiffusionEngine()
    first = engine.pipeline(str(models), "cpu", "fp32")
    assert engine.pipeline(str(models), "cpu", "fp32") is first and engine.loads == 1
    path = models / "Animation" / "pose_net.pth"
    state = torch.load(path, weights_only=True)
    key = next(k for k, v in state.items() if v.is_floating_point())
    state[key] = state[key] + 1.0
    with open(path, "r+b") as handle:  # same inode, rewritten in place (a download tool writing over the file)
        torch.save(state, handle)
        handle.truncate()
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000))  # (coarse file-system clocks)
    second = engine.pipeline(str(models), "cpu", "fp32")
    assert second is not first and engine.loads == 2
    assert torch.equal(second.pose_net.state_dict()[key], state[key])


def test_cancel_during_denoising_leaves_no_output_and_never_decodes(tiny_fixture_dir, media, renderer, tmp_path):
    cancel, phases = CancelToken(), []

    def report(progress):
        phases.append(progress.phase)
        if progress.phase == "denoise":
            cancel.cancel()

    out = tmp_path / "cancelled.mp4"
    with pytest.raises(Cancelled):
        renderer.render(request_for(tiny_fixture_dir, media, steps=3), out, report, cancel)
    assert "decode" not in phases and "export" not in phases
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("case", ["missing_photo", "corrupt_photo", "missing_video", "corrupt_video", "no_face"])
def test_bad_inputs_give_clear_errors(case, tiny_fixture_dir, media, renderer, tmp_path):
    kw = {}
    if case == "missing_photo":
        kw, match = {"reference": str(tmp_path / "nope.png")}, "nope.png: file not found"
    elif case == "corrupt_photo":
        bad = tmp_path / "bad.png"
        bad.write_bytes(b"\x89PNG garbage")
        kw, match = {"reference": str(bad)}, "bad.png: not a readable image"
    elif case == "missing_video":
        kw, match = {"motion": str(tmp_path / "gone.mp4")}, "gone.mp4: file not found"
    elif case == "corrupt_video":
        kw, match = {"motion": str(write_corrupt_video(tmp_path / "broken.mp4"))}, "broken.mp4"
    else:
        blank = write_image(tmp_path / "wall.png", np.full((128, 128, 3), 180, np.uint8))
        kw, match = {"reference": str(blank), "face_model": "auto"}, "no face was found in the reference photo"
    out = tmp_path / "out" / "x.mp4"
    with pytest.raises(InputError, match=match):
        renderer.render(request_for(tiny_fixture_dir, media, **kw), out)
    assert not out.exists() and no_partials(tmp_path)


def test_weights_folder_missing_a_file_is_a_model_folder_error(tiny_fixture_dir, media, tmp_path):
    import shutil

    weights = tmp_path / "weights"
    shutil.copytree(tiny_fixture_dir / "checkpoints", weights)
    (weights / "Animation" / "pose_net.pth").unlink()
    with pytest.raises(ModelFolderError, match="pose_net"):
        Renderer().render(request_for(tiny_fixture_dir, media, models=str(weights)), tmp_path / "o.mp4")
    assert not (tmp_path / "o.mp4").exists()


def test_hjb_refinement_runs_and_changes_the_frames(tiny_fixture_dir, media, renderer, engine, tmp_path):
    base = request_for(tiny_fixture_dir, media, seed=11, face_model="auto")
    renderer.render(base, tmp_path / "plain.mp4")
    plain = list(engine.frames)
    result = renderer.render(base.replace(hjb={"enabled": True, "iterations": 1, "start_step": 0, "end_step": 0}),
                             tmp_path / "hjb.mp4")
    assert len(engine.frames) == len(plain)
    assert any(not np.array_equal(a, b) for a, b in zip(plain, engine.frames, strict=True))
    assert json.loads((tmp_path / "hjb.json").read_text())["request"]["hjb"]["enabled"] is True
    assert result.request.hjb.iterations == 1


def test_decode_retries_with_a_smaller_chunk_on_out_of_memory(tiny_fixture_dir, media, renderer, engine, monkeypatch):
    diffusion = engine.engine
    real = diffusion._decode_frames
    sizes = []

    def flaky(pipe, latents, chunk):
        sizes.append(latents.shape[1])
        if latents.shape[1] > 2:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(pipe, latents, chunk)

    monkeypatch.setattr(diffusion, "_decode_frames", flaky)
    prepared = renderer.prepare(request_for(tiny_fixture_dir, media, decode_chunk=4))
    frames = list(diffusion.render(prepared.inputs, lambda p: None, CancelToken()))
    assert len(frames) == 6 and sizes[0] == 4 and max(sizes[1:]) == 2


def test_extract_motion_folder_renders_with_the_clips_audio(media, tmp_path):
    from studio.__main__ import main

    motion = tmp_path / "motion"
    assert main(["extract-motion", str(media["video"]), "--reference", str(media["photo"]), "--out", str(motion),
                 "--width", "96", "--height", "96"]) == 0
    request = RenderRequest(reference=str(media["photo"]), motion=str(motion), engine="warp", width=96, height=96,
                            seed=2, face_model="none")
    result = Renderer().render(request, tmp_path / "w.mp4")
    info = probe_video(result.path)
    assert (info.frames, info.fps) == (6, 8.0) and info.audio
