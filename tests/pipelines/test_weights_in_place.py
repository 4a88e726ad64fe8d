"""Loading builds modules without weights and reads every checkpoint tensor straight into place, at the dtype the
caller asks for: one copy of the weights in memory, never a config's ``torch_dtype``, no dependence on the files."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from pipelines.loading import load_stable_animator_pipeline, load_state_dict

REPO = Path(__file__).resolve().parents[2]
MODULES = ("unet", "pose_net", "face_encoder", "vae", "image_encoder")


@pytest.fixture()
def models(tiny_fixture_dir, tmp_path):
    dst = tmp_path / "models"
    shutil.copytree(tiny_fixture_dir / "checkpoints", dst)
    return dst


def _file_state(models: Path, name: str) -> dict[str, torch.Tensor]:
    files = {"unet": "Animation/unet.pth", "pose_net": "Animation/pose_net.pth",
             "face_encoder": "Animation/face_encoder.pth", "vae": "SVD/vae/diffusion_pytorch_model.safetensors",
             "image_encoder": "SVD/image_encoder/model.safetensors"}
    path = models / files[name]
    return load_file(path) if path.suffix == ".safetensors" else torch.load(path, weights_only=True)


def test_a_clip_config_saying_float16_still_loads_the_fp32_weights_unrounded(models):
    config_path = models / "SVD/image_encoder/config.json"
    config = json.loads(config_path.read_text())
    config["torch_dtype"] = "float16"  # what SVD-xt's released config says over its fp32 model.safetensors
    config_path.write_text(json.dumps(config))

    pipe = load_stable_animator_pipeline(models, dtype=torch.float32)

    on_disk = _file_state(models, "image_encoder")
    loaded = pipe.image_encoder.state_dict()
    assert {t.dtype for t in loaded.values() if t.is_floating_point()} == {torch.float32}
    # bit for bit: a trip through float16 would round every weight (the tiny weights are random fp32 values)
    assert all(torch.equal(loaded[k], on_disk[k]) for k in on_disk)


def test_every_component_takes_the_dtype_asked_for(models):
    pipe = load_stable_animator_pipeline(models, dtype=torch.bfloat16)
    for name in MODULES:
        dtypes = {p.dtype for p in getattr(pipe, name).parameters()}
        assert dtypes == {torch.bfloat16}, (name, dtypes)
        on_disk = _file_state(models, name)
        for key, value in getattr(pipe, name).state_dict().items():
            if value.is_floating_point():  # the one rounding is fp32 → bf16, straight from the file's values
                assert torch.equal(value, on_disk[key].to(torch.bfloat16)), (name, key)


def test_module_initialisers_never_run_on_real_memory(models, monkeypatch):
    """Building a module and then overwriting its initialised weights is what doubled the load peak and time."""
    seen: list[bool] = []
    for layer in (torch.nn.Linear, torch.nn.Conv2d):
        original = layer.reset_parameters

        def record(self, original=original):
            seen.append(self.weight.is_meta)
            return original(self)

        monkeypatch.setattr(layer, "reset_parameters", record)
    load_stable_animator_pipeline(models)
    assert len(seen) > 50 and all(seen), f"{seen.count(False)} of {len(seen)} layers initialised real weights"


def test_loaded_weights_depend_on_no_file(models, fixture_pipe):
    """Weights are copied out of the memory maps: files overwritten in place or deleted afterwards change nothing."""
    pipe = load_stable_animator_pipeline(models)
    for path in [*models.rglob("*.pth"), *models.rglob("*.safetensors")]:
        size = path.stat().st_size
        with open(path, "r+b") as handle:  # same inode, every byte changed: a map would see it
            handle.write(b"\xff" * size)
        path.unlink()
    for name in MODULES:
        ours, reference = getattr(pipe, name).state_dict(), getattr(fixture_pipe, name).state_dict()
        assert all(torch.equal(ours[k], reference[k]) for k in reference), name


def test_a_legacy_pth_without_zip_loads_the_same(models, fixture_pipe):
    """torch.save(_use_new_zipfile_serialization=False) files cannot be memory-mapped; they are read as before."""
    path = models / "Animation/pose_net.pth"
    torch.save(torch.load(path, weights_only=True), path, _use_new_zipfile_serialization=False)
    pipe = load_stable_animator_pipeline(models)
    ours, reference = pipe.pose_net.state_dict(), fixture_pipe.pose_net.state_dict()
    assert all(torch.equal(ours[k], reference[k]) for k in reference)
    assert load_state_dict(path).keys() == reference.keys()


PEAK_PROBE = textwrap.dedent("""
    import json, sys, torch
    from pathlib import Path
    from pipelines.loading import read_checkpoint
    from pipelines.weights_in_place import build_empty, copy_into_place

    def status(field):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024

    torch.set_num_threads(1)
    path, dtype = sys.argv[1], getattr(torch, sys.argv[2])
    build_empty(lambda: torch.nn.Linear(2, 2))  # libraries imported before measuring: they are not the weights
    Path("/proc/self/clear_refs").write_text("5")  # reset the high-water mark to the current RSS
    before = status("VmRSS")
    module = build_empty(lambda: torch.nn.Sequential(*[torch.nn.Linear(1024, 1024) for _ in range(24)]))
    state, mapped = read_checkpoint(path)
    copy_into_place(module, state, dtype, source=path if mapped else None)
    del state
    peak = status("VmHWM") - before
    weights = sum(p.numel() * p.element_size() for p in module.parameters())
    print(json.dumps({"peak": peak, "weights": weights, "largest_file_tensor": 1024 * 1024 * 4}))
""")


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc to measure the peak")
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_loading_holds_the_weights_once(tmp_path, dtype):
    """Peak resident memory while filling a ~100 MB module: its weights plus at most one file tensor (a staging
    buffer when casting) and allocator rounding — the old way (built module + whole checkpoint) needs 2×."""
    torch.manual_seed(0)
    layers = torch.nn.Sequential(*[torch.nn.Linear(1024, 1024) for _ in range(24)])
    path = tmp_path / "weights.pth"
    torch.save(layers.state_dict(), path)
    del layers
    out = subprocess.run([sys.executable, "-c", PEAK_PROBE, str(path), dtype], capture_output=True, text=True,
                         cwd=REPO, env={"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
                         check=True)
    measured = json.loads(out.stdout.strip().splitlines()[-1])
    # weights + one 4 MiB file tensor (staging or the page of the map checked per tensor) + 8 MiB of malloc and
    # page-table rounding; the file is 100 MB, so holding it beside the module would exceed this by ~90 MB
    allowed = measured["weights"] + measured["largest_file_tensor"] + 8 * 2**20
    assert measured["peak"] <= allowed, measured
    assert measured["peak"] >= measured["weights"] * 0.95, measured  # the probe saw the weights arrive


def test_loading_checks_every_number_on_the_weights_it_keeps_not_in_a_pass_of_its_own(models, monkeypatch):
    """Whether a weight is finite is checked on the copy the module keeps, once, with torch at one thread: a separate
    check of the checkpoints first read the whole 9 GB release a second time, and per-tensor parallel regions cost
    ~10 ms each on busy cores (issue 22 item 3; fp32, where the file's bytes land in place)."""
    import pipelines.weight_checks
    import pipelines.weights_in_place

    checked: list[tuple[int, int]] = []
    threads: list[int] = []

    def record(tensor) -> None:
        if tensor.ndim:  # (0-d: a check's own results)
            checked.append((tensor.data_ptr(), tensor.numel()))
            threads.append(torch.get_num_threads())

    # the finiteness check by name, and what an element-wise check of a whole tensor goes through
    for owner, name in ((pipelines.weights_in_place, "all_finite"), (pipelines.weight_checks, "all_finite"),
                        (torch, "isfinite")):
        original = getattr(owner, name, None)
        if original is None:
            continue

        def spy(tensor, *args, original=original, **kwargs):
            record(tensor)
            return original(tensor, *args, **kwargs)

        monkeypatch.setattr(owner, name, spy)
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # (the tests run with one; a render has more)
    try:
        pipe = load_stable_animator_pipeline(models, dtype=torch.float32)
        after = torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
        monkeypatch.undo()
    kept = {(t.data_ptr(), t.numel()) for name in MODULES for t in getattr(pipe, name).state_dict().values()
            if t.is_floating_point() and t.numel() > 0}
    assert not [c for c in checked if c not in kept], "values were checked outside the loaded weights"
    assert sorted(checked) == sorted(kept)  # every loaded tensor checked, once
    assert set(threads) == {1} and after == 2


def test_the_loader_refuses_nan_in_an_svd_component(models):
    from safetensors.torch import save_file

    from pipelines.loading import CheckpointError

    path = models / "SVD/vae/diffusion_pytorch_model.safetensors"
    state = load_file(path)
    key = sorted(k for k, v in state.items() if v.numel() > 1)[0]
    state[key].view(-1)[1] = float("nan")
    save_file(state, path)
    with pytest.raises(CheckpointError, match=rf"SVD/vae: holds NaN or infinite values \(in {re.escape(key)}\)"):
        load_stable_animator_pipeline(models)
