"""HJB face refinement pieces, standalone against the public fixture's b_hjb run (docs/model.md §11, fixture README §5)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from diffusers import AutoencoderKLTemporalDecoder, EulerDiscreteScheduler
from PIL import Image

from pipelines.face_embedder import IResNetFaceEmbedder
from pipelines.hjb import (
    HJBConfig,
    HJBFaceRefiner,
    decode_chunks,
    euler_step_from_x0,
    latent_window,
    v_prediction_x0,
    vae_decode_fn,
)
from pipelines.hjb_euler_step import refined_euler_step
from pipelines.hjb_faces import (
    crop_faces,
    decoded_to_extractor_range,
    face_box_from_mask,
    face_box_from_xyxy,
    face_boxes_from_masks,
    face_loss,
    reference_embedding,
    validate_boxes,
)


@pytest.fixture(scope="module")
def hjb_parts(tiny_fixture_dir):
    fx = tiny_fixture_dir
    embedder = IResNetFaceEmbedder.from_checkpoint(fx / "checkpoints/Animation/glintr100_torch.pth")
    embedder.requires_grad_(False)
    vae = AutoencoderKLTemporalDecoder.from_pretrained(fx / "checkpoints/SVD/vae").eval().requires_grad_(False)
    e_ref = reference_embedding(embedder, fx / "inputs/reference.png", mask=fx / "inputs/reference_mask.png")
    boxes = face_boxes_from_masks(fx / "inputs/faces", num_frames=6, size=(96, 64))
    inter = dict(np.load(fx / "runs/b_hjb/intermediates.npz"))
    meta = json.loads((fx / "fixture.json").read_text())["runs"]["b_hjb"]
    return embedder, vae, e_ref, boxes, inter, meta


def _x0_at(inter, step):
    sigma = torch.from_numpy(inter["sigmas"])[step]
    sample = torch.from_numpy(inter["step_prev_sample"][step - 1])
    return v_prediction_x0(torch.from_numpy(inter["step_model_output"][step]), sample, sigma), sample


def _refiner(hjb_parts, **config):
    embedder, vae, e_ref, boxes, _, meta = hjb_parts
    params = meta["params"]
    cfg = HJBConfig(
        enabled=True,
        iterations=params["num_optimization_iter"],
        start_step=params["start_refine_step"],
        end_step=params["end_refine_step"],
        **config,
    )
    return HJBFaceRefiner(
        embedder, e_ref, boxes, vae_decode_fn(vae), cfg, decode_chunk_size=params["decode_chunk_size"],
        record_embeddings=True,
    )


# ---------------------------------------------------------------------------------------------- boxes


def test_boxes_from_fixture_masks_match_the_original(hjb_parts, tiny_fixture_dir):
    _, _, _, boxes, _, meta = hjb_parts
    assert [list(b) for b in boxes] == meta["target_face_boxes_ymin_ymax_xmin_xmax"]
    ref_box = face_box_from_mask(tiny_fixture_dir / "inputs/reference_mask.png")
    assert list(ref_box) == meta["reference_face_box_ymin_ymax_xmin_xmax"]


def test_mask_box_uses_only_pixels_exactly_255(tmp_path):
    mask = np.zeros((20, 30), np.uint8)
    mask[2:5, 3:9] = 254  # almost white does not count
    mask[6:10, 11:15] = 255
    assert face_box_from_mask(mask) == (6, 9, 11, 14)
    Image.fromarray(mask).save(tmp_path / "frame_0.png")
    assert face_box_from_mask(tmp_path / "frame_0.png") == (6, 9, 11, 14)
    with pytest.raises(ValueError, match="no pixel equal to 255"):
        face_box_from_mask(np.full((4, 4), 254, np.uint8))
    with pytest.raises(ValueError, match="single-channel"):
        face_box_from_mask(np.random.default_rng(0).integers(0, 255, (4, 4, 3), dtype=np.uint8))


def test_mask_folder_sorted_numerically_and_checked(tmp_path):
    for k in (0, 2, 10):
        mask = np.zeros((16, 16), np.uint8)
        mask[k % 16, 1] = 255
        Image.fromarray(mask).save(tmp_path / f"frame_{k}.png")
    assert [b[0] for b in face_boxes_from_masks(tmp_path)] == [0, 2, 10]
    with pytest.raises(ValueError, match="4 frames need 4 face masks, got 3"):
        face_boxes_from_masks(tmp_path, num_frames=4)
    with pytest.raises(ValueError, match="output size"):
        face_boxes_from_masks(tmp_path, size=(32, 16))


def test_xyxy_boxes_convert_to_inclusive_yyxx():
    assert face_box_from_xyxy((24, 6, 40, 24), width=64, height=96) == (6, 24, 24, 40)
    assert face_box_from_xyxy((23.6, 5.2, 40.1, 23.9), width=64, height=96) == (5, 24, 23, 41)
    assert face_box_from_xyxy((-5, -5, 100, 200), width=64, height=96) == (0, 95, 0, 63)
    with pytest.raises(ValueError, match="empty"):
        face_box_from_xyxy((10, 10, 5, 20), width=64, height=96)
    with pytest.raises(ValueError, match="outside"):
        face_box_from_xyxy((70, 10, 80, 20), width=64, height=96)
    with pytest.raises(ValueError, match="outside the 64x96"):
        validate_boxes([(0, 96, 0, 10)], 1, 96, 64)


# ---------------------------------------------------------------------------------------------- loss


def test_first_loss_and_extractor_rows_match_the_fixture(hjb_parts):
    *_, inter, meta = hjb_parts
    refiner = _refiner(hjb_parts)
    x0, _ = _x0_at(inter, meta["params"]["start_refine_step"])
    loss, grad, embeddings = refiner.loss_and_grad(x0[0])
    assert abs(loss - meta["hjb_losses_per_iteration"][0]) <= 1e-5
    np.testing.assert_allclose(embeddings.numpy(), inter["hjb_extractor_out"][0], rtol=0, atol=1e-4)
    assert grad.shape == x0[0].shape and (grad != 0).all()


def test_chunked_gradient_equals_whole_graph_backward(hjb_parts):
    embedder, vae, e_ref, boxes, inter, meta = hjb_parts
    refiner = _refiner(hjb_parts)
    x0, _ = _x0_at(inter, 1)
    loss, grad, _ = refiner.loss_and_grad(x0[0])
    z = x0[0].clone().requires_grad_(True)
    decode = vae_decode_fn(vae)
    decoded = torch.cat([decode(z[c.start : c.stop]) for c in decode_chunks(6, 4)])
    whole = face_loss(embedder(crop_faces(decoded_to_extractor_range(decoded), boxes)), e_ref)
    whole.backward()
    # The chunked backward and the whole graph add the same terms in different orders (one VAE decode per
    # chunk, gradients summed per chunk), so float32 rounding differs. A sum's rounding error scales with the
    # largest terms that meet in it (eps 1.2e-7 × a few hundred additions), not with the result: an element
    # near zero can be 1e-9 apart while being a millionth of the largest gradient. Hence tolerances relative
    # to the largest magnitude; a real chunking bug (a dropped or doubled chunk) is off by O(1) of that.
    assert abs(whole.item() - loss) <= 1e-5 * max(abs(loss), 1e-3)
    largest = float(z.grad.abs().max())
    torch.testing.assert_close(grad, z.grad, rtol=1e-5, atol=1e-5 * largest)


def test_refined_steps_reproduce_the_fixture_given_the_same_inputs(hjb_parts):
    """Each refined step, started from the original's latents and model output, lands on the original's x0."""
    *_, inter, meta = hjb_parts
    refiner = _refiner(hjb_parts)
    sigmas = torch.from_numpy(inter["sigmas"])
    for step in meta["hjb_refine_steps"]:
        x0, sample = _x0_at(inter, step)
        refined = refiner.refine_x0(x0, step, meta["params"]["num_inference_steps"])
        assert refined.shape == x0.shape and not torch.equal(refined, x0)
        # Adam's sign-like first update makes single elements chaotic (docs/model.md §17): compare means, not maxima.
        assert np.abs(refined.numpy() - inter["step_pred_x0"][step]).mean() <= 1e-4
        prev = euler_step_from_x0(sample, refined, sigmas[step], sigmas[step + 1])
        assert np.abs(prev.numpy() - inter["step_prev_sample"][step]).mean() <= 1e-4
    np.testing.assert_allclose(refiner.losses, meta["hjb_losses_per_iteration"], rtol=0, atol=1e-4)
    assert len(refiner.embeddings) == len(refiner.losses)


def test_fast_mode_decodes_a_window_and_lowers_the_loss(hjb_parts):
    *_, inter, meta = hjb_parts
    exact, fast = _refiner(hjb_parts), _refiner(hjb_parts, decode_mode="fast", fast_margin=2)
    x0, _ = _x0_at(inter, 1)
    loss_exact, grad_exact, _ = exact.loss_and_grad(x0[0])
    loss_fast, grad_fast, _ = fast.loss_and_grad(x0[0])
    # Only latents inside the windows get a gradient; the loss approximates the exact one.
    assert 0 < (grad_fast != 0).float().mean() < 1
    assert abs(loss_fast - loss_exact) < 0.05
    refined = fast.refine_x0(x0, 1, 5)
    assert exact.face_loss(refined) < loss_exact
    assert fast.losses[-1] < fast.losses[0]


def test_latent_window_covers_boxes_with_margin_and_clamps():
    assert latent_window([(8, 15, 16, 23)], 1, 8, (12, 8)) == (0, 2, 1, 3)
    assert latent_window([(8, 15, 16, 23), (40, 47, 0, 7)], 0, 8, (12, 8)) == (1, 5, 0, 2)
    assert latent_window([(0, 95, 0, 63)], 4, 8, (12, 8)) == (0, 11, 0, 7)
    assert decode_chunks(6, 4) == [range(0, 4), range(4, 6)]
    assert decode_chunks(3, None) == [range(0, 3)]


# ---------------------------------------------------------------------------------------------- config


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"iterations": 0}, "iterations must be an integer from 1 to 20"),
        ({"start_step": -1}, "start_step must be an integer from 0 to 1000"),
        ({"start_step": 3, "end_step": 2}, "end_step .2. must be >= start_step .3."),
        ({"lr_scale": 0.0}, "lr_scale must be a finite number from 1e-06 to 1000"),
        ({"lr_scale": float("nan")}, "lr_scale must be a finite number from 1e-06 to 1000"),
        ({"decode_mode": "quick"}, "decode_mode must be one of exact, fast"),
        ({"fast_margin": -1}, "fast_margin must be an integer from 0 to 64"),
        ({"enabled": "yes"}, "enabled must be True or False"),
    ],
)
def test_config_validation_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        HJBConfig(**kwargs).validate()


def test_config_rejects_start_beyond_the_schedule_and_computes_lr():
    with pytest.raises(ValueError, match="below num_inference_steps"):
        HJBConfig(enabled=True, start_step=5, end_step=9).validate(num_inference_steps=5)
    config = HJBConfig(enabled=True, start_step=1, end_step=3)
    assert [config.is_refined(i) for i in range(5)] == [False, True, True, True, False]
    assert config.learning_rate(1, 5) == 0.1 * (1 - 1 / 5)
    assert HJBConfig(lr_scale=0.5).learning_rate(2, 5) == pytest.approx(0.03)
    assert not HJBConfig(enabled=False).is_refined(1)


# ---------------------------------------------------------------------------------------------- scheduler


def _scheduler(tiny_fixture_dir, steps=5):
    scheduler = EulerDiscreteScheduler.from_config(
        EulerDiscreteScheduler.load_config(tiny_fixture_dir / "checkpoints/SVD/scheduler")
    )
    scheduler.set_timesteps(steps)
    return scheduler


def test_refined_step_with_an_unchanged_x0_is_the_schedulers_own_step(tiny_fixture_dir, hjb_parts):
    """Same x0, same op order: the refined Euler step equals diffusers' ``step`` bit for bit, step index included."""
    *_, inter, _ = hjb_parts
    basic, refined = _scheduler(tiny_fixture_dir), _scheduler(tiny_fixture_dir)
    sample = torch.from_numpy(inter["step_prev_sample"][0])
    for i, t in enumerate(basic.timesteps):
        v = torch.from_numpy(inter["step_model_output"][i])
        a = basic.step(v, t, sample).prev_sample
        b, _ = refined_euler_step(refined, v, refined.timesteps[i], sample, lambda x0, index, steps: x0)
        assert torch.equal(a, b)
        assert refined.step_index == basic.step_index == i + 1
        sample = a


def test_refined_step_uses_the_refined_x0(tiny_fixture_dir, hjb_parts):
    *_, inter, _ = hjb_parts
    scheduler = _scheduler(tiny_fixture_dir)
    seen = []

    def refiner(x0, index, steps):
        seen.append((index, steps))
        return x0 * 0.5

    sample = torch.from_numpy(inter["step_prev_sample"][0])
    scheduler.step(torch.from_numpy(inter["step_model_output"][0]), scheduler.timesteps[0], sample)
    v = torch.from_numpy(inter["step_model_output"][1])
    prev_sample, refined_x0 = refined_euler_step(scheduler, v, scheduler.timesteps[1], sample, refiner)
    x0 = v_prediction_x0(v, sample, scheduler.sigmas[1])
    expected = euler_step_from_x0(sample, x0 * 0.5, scheduler.sigmas[1], scheduler.sigmas[2])
    assert seen == [(1, 5)]
    assert torch.equal(prev_sample, expected)
    assert torch.equal(refined_x0, x0 * 0.5)
