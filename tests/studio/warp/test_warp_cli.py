"""End to end with no weights anywhere: `python -m studio render --engine warp …` → mp4 + sidecar, and the
person in the mp4 follows the driving video's skeleton (re-extracted with the mediapipe backend)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.studio.warp.test_warp_support import astronaut_on_canvas

ROOT = Path(__file__).resolve().parents[3]
HEAD = [0, 14, 15, 16, 17]
FRAMES = 10


def _shift(i: int) -> tuple[float, float]:
    return 3.0 * i, -1.5 * i


@pytest.fixture()
def media(tmp_path):
    import cv2
    import imageio.v2 as iio

    image = astronaut_on_canvas()
    ref = tmp_path / "photo.png"
    iio.imwrite(ref, image)
    drive = tmp_path / "drive.mp4"
    writer = iio.get_writer(drive, fps=25, codec="libx264", pixelformat="yuv420p", macro_block_size=1)
    for i in range(FRAMES):
        m = np.float32([[1, 0, _shift(i)[0]], [0, 1, _shift(i)[1]]])
        writer.append_data(cv2.warpAffine(image, m, (512, 512), borderMode=cv2.BORDER_REPLICATE))
    writer.close()
    return ref, drive


def test_render_cli_with_the_warp_engine_needs_no_weights(tmp_path, media):
    pytest.importorskip("studio.cli.render")
    motion = pytest.importorskip("studio.motion")
    if not hasattr(motion, "extract_poses"):
        pytest.skip("engineer C's motion extraction (studio.motion.extract_poses) is not installed")
    extract_poses = motion.extract_poses

    ref, drive = media
    out = tmp_path / "out" / "warp.mp4"
    out.parent.mkdir()
    cmd = [sys.executable, "-m", "studio", "render", "--engine", "warp", "--reference", str(ref),
           "--motion", str(drive), "--align", "none", "--out", str(out), "--quiet"]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert out.is_file()
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["engine"] == "warp"
    assert sidecar["request"]["engine"] == "warp" and sidecar["request"]["models"] is None
    from studio.export.exporter import probe_video

    info = probe_video(out)
    assert info.frames == FRAMES and (info.width, info.height) == (512, 512)
    assert json.loads(info.comment)["engine"] == "warp"  # never passed off as the model's output
    assert not any(p.name.startswith(".") or "partial" in p.name for p in out.parent.iterdir())
    # Identity is scored without antelopev2 (none here), by dlib's descriptor, and says so.
    identity = sidecar["identity"]
    assert identity["backend"] == "dlib-resnet" and "dlib" in identity["label"] and identity["reason"] is None
    assert len(identity["scores"]) == FRAMES and None not in identity["scores"]
    assert np.median(identity["scores"]) >= 0.7  # 1 − distance: the same person, well inside dlib's 0.6

    driving = extract_poses(drive, backend="mediapipe", use_cache=False).poses
    rendered = extract_poses(out, backend="mediapipe", use_cache=False).poses
    assert len(rendered) == len(driving) == FRAMES
    errors = []
    for i, (d, r) in enumerate(zip(driving, rendered, strict=True)):
        err = np.hypot(*(r.body[HEAD, :2] - d.body[HEAD, :2]).T)
        assert np.median(err) <= 8.0, f"frame {i}: head keypoints off by {np.round(err, 1)} px"
        errors.append(err.mean())
    # The last frame moved ~30 px: a warp that did not move the person would be that far off.
    assert np.mean(errors) <= 5.0
