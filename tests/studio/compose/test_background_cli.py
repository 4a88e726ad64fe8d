"""``render --background … --color-match …`` end to end with the warp engine (no weights): the sample photo
and the sample dance, at 192², six frames.

- generated (the default) writes exactly the engine's frames: the PNG sequence equals them bit for bit;
- photo: wherever the frame's person matte is 0, every frame *is* the photo's clean plate (the mattes are made
  again here from the engine's frames: the same deterministic segmentation of the same pixels);
- transparent: the alpha is the matte, in PNGs, and in a VP9 .webm read back with libvpx;
  a format without alpha is refused with a one-line error;
- the sidecar records the modes (and the resolved request renders the same modes again).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.__main__ import main
from studio.compose.background import photo_layers
from studio.compose.frame_matte import FrameMatter
from studio.media.video_io import ffmpeg_exe
from studio.render.renderer import Renderer
from studio.request.render_request import RenderRequest
from studio.system.progress import CancelToken

ASSETS = Path(__file__).resolve().parents[3] / "assets"
SIZE, FRAMES = 192, 6
COMMON = ["render", "--engine", "warp", "--reference", str(ASSETS / "sample_photo.jpg"), "--motion",
          str(ASSETS / "sample_dance"), "--width", str(SIZE), "--height", str(SIZE), "--frames", str(FRAMES),
          "--quiet", "--face-model", "none"]


def render(out: Path, *flags: str) -> int:
    return main([*COMMON, "--out", str(out), *flags])


def pngs(folder: Path) -> list[np.ndarray]:
    files = sorted(folder.glob("frame_*.png"), key=lambda p: int(p.stem.split("_")[1]))
    return [np.array(Image.open(f)) for f in files]


@pytest.fixture(scope="module")
def prepared():
    """The engine's own frames and what the checks need: the photo's clean plate, each frame's person matte."""
    request = RenderRequest(reference=str(ASSETS / "sample_photo.jpg"), motion=str(ASSETS / "sample_dance"),
                            engine="warp", width=SIZE, height=SIZE, max_frames=FRAMES, face_model="none")
    renderer = Renderer()
    prep = renderer.prepare(request)
    frames = list(renderer.engine("warp").render(prep.inputs, lambda p: None, CancelToken()))
    _matte, plate = photo_layers(prep.inputs.reference, prep.inputs.reference_pose)
    mattes = list(FrameMatter().run(zip(frames, prep.inputs.poses, strict=True)))
    return prep, frames, plate, mattes


def test_generated_writes_exactly_the_engines_frames(tmp_path, prepared):
    prep, frames, _plate, _mattes = prepared
    x0, y0, x1, y1 = prep.content_box
    assert render(tmp_path / "default", "--format", "png-sequence") == 0
    assert render(tmp_path / "explicit", "--format", "png-sequence", "--background", "generated",
                  "--color-match", "off") == 0
    written, explicit = pngs(tmp_path / "default"), pngs(tmp_path / "explicit")
    assert len(written) == len(explicit) == FRAMES
    for frame, png, again in zip(frames, written, explicit, strict=True):
        np.testing.assert_array_equal(png, frame[y0:y1, x0:x1])
        np.testing.assert_array_equal(again, png)
    sidecar = json.loads((tmp_path / "default.json").read_text())
    assert sidecar["request"]["background"] == "generated" and sidecar["request"]["color_match"] == "off"
    assert sidecar["output"]["alpha"] is False


def test_photo_keeps_the_photos_background_still(tmp_path, prepared):
    prep, _frames, plate, mattes = prepared
    x0, y0, x1, y1 = prep.content_box
    assert render(tmp_path / "photo", "--format", "png-sequence", "--background", "photo") == 0
    written = pngs(tmp_path / "photo")
    assert len(written) == FRAMES
    for png, matte in zip(written, mattes, strict=True):
        outside = matte[y0:y1, x0:x1] == 0
        assert outside.mean() > 0.2  # the check covers a good part of the frame
        np.testing.assert_array_equal(png[outside], plate[y0:y1, x0:x1][outside])
    stack = np.stack(written).astype(np.float64)
    still = np.all(np.stack(mattes) == 0, axis=0)[y0:y1, x0:x1]
    assert still.mean() > 0.1 and stack[:, still].std(axis=0).max() == 0.0  # the background does not move
    sidecar = json.loads((tmp_path / "photo.json").read_text())
    assert sidecar["request"]["background"] == "photo" and sidecar["output"]["background"] == "photo"


def test_transparent_pngs_carry_the_matte_as_alpha(tmp_path, prepared):
    prep, frames, _plate, mattes = prepared
    x0, y0, x1, y1 = prep.content_box
    assert render(tmp_path / "alpha", "--format", "png-sequence", "--background", "transparent") == 0
    written = pngs(tmp_path / "alpha")
    for png, frame, matte, pose in zip(written, frames, mattes, prep.inputs.poses, strict=True):
        assert png.shape[2] == 4
        expected = np.clip(matte[y0:y1, x0:x1] * 255.0 + 0.5, 0, 255).astype(np.uint8)
        np.testing.assert_array_equal(png[..., 3], expected)
        neck = np.round(pose.body[1, :2] - 0.5).astype(int)
        assert png[neck[1] - y0, neck[0] - x0, 3] == 255  # the body is opaque
        np.testing.assert_array_equal(png[..., :3], frame[y0:y1, x0:x1])  # straight alpha: colours untouched
    assert json.loads((tmp_path / "alpha.json").read_text())["output"]["alpha"] is True


def test_transparent_webm_is_read_back_with_its_alpha(tmp_path, prepared):
    prep, _frames, _plate, mattes = prepared
    x0, y0, x1, y1 = prep.content_box
    out = tmp_path / "alpha.webm"
    assert render(out, "--background", "transparent", "--color-match", "reference") == 0
    raw = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-c:v", "libvpx-vp9", "-i", str(out),
                          "-f", "rawvideo", "-pix_fmt", "rgba", "pipe:1"], capture_output=True, check=True).stdout
    back = np.frombuffer(raw, np.uint8).reshape(-1, y1 - y0, x1 - x0, 4)
    assert len(back) == FRAMES
    import cv2

    for frame, matte, pose in zip(back, mattes, prep.inputs.poses, strict=True):
        # lossy alpha: nearly 0 a few pixels away from the person (the colour match does not touch the matte)
        far = cv2.dilate((matte > 0).astype(np.uint8), np.ones((9, 9), np.uint8))[y0:y1, x0:x1] == 0
        assert far.mean() > 0.2 and np.percentile(frame[..., 3][far], 99) <= 8
        neck = np.round(pose.body[1, :2] - 0.5).astype(int)
        assert frame[neck[1] - y0, neck[0] - x0, 3] >= 247
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["request"]["color_match"] == "reference"
    import re

    from studio.media.video_io import ffmpeg_header

    # the video's own metadata (WebM: COMMENT; ffmpeg prints its first 255 characters)
    comment = re.search(r"^\s*comment\s*:\s*(.*)$", ffmpeg_header(out), re.MULTILINE | re.IGNORECASE).group(1)
    assert comment.startswith('{"background":"transparent","color_match":"reference"')


def test_transparent_into_a_format_without_alpha_is_a_one_line_error(tmp_path, capsys):
    out = tmp_path / "clip.mp4"
    assert render(out, "--background", "transparent") != 0
    err = capsys.readouterr().err.strip()
    assert "no alpha channel" in err and "prores-mov" in err and "Traceback" not in err
    assert not out.exists()


def test_photo_with_first_frame_colour_match_renders(tmp_path):
    out = tmp_path / "steady.mp4"
    assert render(out, "--background", "photo", "--color-match", "first-frame") == 0
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["request"]["color_match"] == "first-frame" and sidecar["output"]["frames"] == FRAMES
    again = RenderRequest.from_file(out.with_suffix(".json"))  # the sidecar's request renders the same modes
    assert (again.background, again.color_match) == ("photo", "first-frame")
