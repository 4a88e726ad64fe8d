"""``python -m studio extract-motion`` end to end (subprocess): files, motion.json schema, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.motion.motion_file import read_motion_json
from tests.generated_media import (
    write_astronaut_photo,
    write_corrupt_video,
    write_empty_file,
    write_personless_video,
    write_transform_video,
)

REPO = Path(__file__).resolve().parents[3]
WIDTH, HEIGHT = 128, 160


def _cli(*args, home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, STUDIO_HOME=str(home), OMP_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, "-m", "studio", "extract-motion", *map(str, args)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    video, _ = write_transform_video(root / "drive.mp4", num_frames=4, size=128)
    photo = write_astronaut_photo(root / "photo.png", size=200)
    out = root / "out"
    result = _cli(video, "--reference", photo, "--out", out, "--width", WIDTH, "--height", HEIGHT,
                  "--align", "bones", "--max-frames", 3, "--quiet", home=root / "home")
    assert result.returncode == 0, result.stderr
    return video, out, result


def test_writes_pose_and_face_images_for_each_selected_frame(extracted):
    _, out, _ = extracted
    assert sorted(p.name for p in (out / "poses").iterdir()) == ["frame_0.png", "frame_1.png", "frame_2.png"]
    assert sorted(p.name for p in (out / "faces").iterdir()) == ["frame_0.png", "frame_1.png", "frame_2.png"]
    for i in range(3):
        with Image.open(out / "poses" / f"frame_{i}.png") as image:
            assert image.size == (WIDTH, HEIGHT) and image.mode == "RGB"
            pose = np.asarray(image)
        assert (pose.max(-1) > 0).sum() > 20  # a skeleton is drawn (thin: the 2160 px canvas is shrunk 13×)
        with Image.open(out / "faces" / f"frame_{i}.png") as image:
            assert image.size == (WIDTH, HEIGHT) and image.mode == "L"
            mask = np.asarray(image)
        assert set(np.unique(mask)) == {0, 255}
        assert 0.01 < (mask == 255).mean() < 0.5  # a face-sized box, not the whole frame


def _check_pose_json(pose: dict):
    assert set(pose) == {"body", "face", "left_hand", "right_hand", "face_box"}
    for key, n in (("body", 18), ("face", 68), ("left_hand", 21), ("right_hand", 21)):
        points = pose[key]
        assert len(points) == n and all(len(p) == 3 for p in points)
        assert all(isinstance(v, (int, float)) for p in points for v in p)
    box = pose["face_box"]
    assert box is None or (len(box) == 4 and all(isinstance(v, (int, float)) for v in box))


def test_motion_json_has_exactly_the_issue_schema(extracted):
    video, out, _ = extracted
    data = json.loads((out / "motion.json").read_text())
    assert set(data) == {"version", "backend", "person", "source", "output", "frames"}
    assert data["version"] == 3 and data["backend"] == "mediapipe" and data["person"] == "auto"
    assert set(data["source"]) == {"path", "fps", "width", "height", "frame_count"}
    assert Path(data["source"]["path"]).resolve() == video.resolve()
    assert data["source"]["fps"] == pytest.approx(8.0)
    assert (data["source"]["width"], data["source"]["height"], data["source"]["frame_count"]) == (128, 128, 4)
    assert data["output"] == {"width": WIDTH, "height": HEIGHT}
    assert [f["index"] for f in data["frames"]] == [0, 1, 2]
    for frame in data["frames"]:
        assert set(frame) == {"index", "status", "person_box", "source", "aligned"}
        assert frame["status"] == "detected"  # the astronaut is in every frame
        x0, y0, x1, y1 = frame["person_box"]  # the followed person's box (issue 19), in source pixels
        assert 0 <= x0 < x1 <= 128 and 0 <= y0 < y1 <= 128
        _check_pose_json(frame["source"])
        _check_pose_json(frame["aligned"])
        # Source points in source pixels, aligned points in output pixels; the person is found in both.
        src = np.array(frame["source"]["body"])
        aligned = np.array(frame["aligned"]["body"])
        assert (src[:, 2] > 0.3).sum() >= 6
        seen = aligned[aligned[:, 2] > 0.3]
        assert (seen[:, 0] > -5).all() and (seen[:, 0] < WIDTH + 5).all()
        assert frame["aligned"]["face_box"] is not None
        x0, y0, x1, y1 = frame["aligned"]["face_box"]
        assert 0 <= x0 < x1 <= WIDTH and 0 <= y0 < y1 <= HEIGHT


def test_face_masks_are_the_aligned_face_boxes(extracted):
    _, out, _ = extracted
    data = json.loads((out / "motion.json").read_text())
    for i, frame in enumerate(data["frames"]):
        mask = np.asarray(Image.open(out / "faces" / f"frame_{i}.png"))
        x0, y0, x1, y1 = (int(v) for v in frame["aligned"]["face_box"])
        assert (mask[y0 + 1 : y1, x0 + 1 : x1] == 255).all()
        assert (mask == 255).sum() <= (x1 - x0 + 2) * (y1 - y0 + 2)


def test_motion_json_reads_back(extracted):
    _, out, _ = extracted
    motion = read_motion_json(out / "motion.json")
    assert (motion.width, motion.height) == (WIDTH, HEIGHT) and motion.backend == "mediapipe"
    assert len(motion.poses) == len(motion.source_poses) == 3
    assert motion.poses[0].body.shape == (18, 3)


def test_progress_and_summary(extracted):
    _, out, result = extracted
    assert "wrote 3 frames" in result.stdout and "Traceback" not in result.stderr


def _assert_clean_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


def test_bad_videos_exit_non_zero_with_one_line_errors(tmp_path):
    photo = write_astronaut_photo(tmp_path / "photo.png", size=96)
    home = tmp_path / "home"
    cases = [
        (tmp_path / "missing.mp4", ("missing.mp4", "not found")),
        (write_empty_file(tmp_path / "empty.mp4"), ("empty.mp4", "empty")),
        (write_corrupt_video(tmp_path / "corrupt.mp4"), ("corrupt.mp4", "video")),
        (write_personless_video(tmp_path / "room.mp4", num_frames=2, size=64), ("room.mp4", "no person")),
    ]
    for video, fragments in cases:
        result = _cli(video, "--reference", photo, "--out", tmp_path / "out", "--quiet", home=home)
        _assert_clean_error(result, *fragments)
    assert not (tmp_path / "out" / "motion.json").exists()


def test_a_bad_reference_is_a_clean_error(tmp_path):
    video = write_empty_file(tmp_path / "unused.mp4")
    bad = tmp_path / "photo.png"
    bad.write_bytes(b"garbage")
    result = _cli(video, "--reference", bad, "--out", tmp_path / "out", home=tmp_path / "home")
    _assert_clean_error(result, "photo.png")


def test_strided_extraction_records_source_frame_numbers_and_renders_at_the_strided_rate(extracted, tmp_path):
    video, _, _ = extracted
    photo = write_astronaut_photo(tmp_path / "photo.png", size=200)
    out = tmp_path / "strided"
    result = _cli(video, "--reference", photo, "--out", out, "--width", WIDTH, "--height", HEIGHT,
                  "--stride", 2, "--quiet", home=tmp_path / "home")
    assert result.returncode == 0, result.stderr
    data = json.loads((out / "motion.json").read_text())
    assert [f["index"] for f in data["frames"]] == [0, 2]  # frame numbers in the 4-frame source video
    assert sorted(p.name for p in (out / "poses").iterdir()) == ["frame_0.png", "frame_1.png"]

    from studio.render.renderer import Renderer
    from studio.request.render_request import RenderRequest

    request = RenderRequest(reference=str(photo), motion=str(out), engine="warp", width=WIDTH, height=HEIGHT)
    prepared = Renderer().prepare(request)
    assert prepared.export_fps == pytest.approx(8.0 / 2)  # the driving clip's 8 fps, every second frame


def _fake_extraction(out: Path, frames: int) -> None:
    (out / "poses").mkdir(parents=True)
    (out / "faces").mkdir()
    for i in range(frames):
        (out / "poses" / f"frame_{i}.png").write_bytes(b"pose")
        (out / "faces" / f"frame_{i}.png").write_bytes(b"face")
    (out / "motion.json").write_text(json.dumps({"frames": [{}] * frames}))


def test_a_second_extraction_keeps_files_a_user_put_into_its_folders(extracted, tmp_path):
    video, first, _ = extracted
    photo = write_astronaut_photo(tmp_path / "photo.png", size=200)
    out = tmp_path / "again"
    _fake_extraction(out, 3)
    (out / "poses" / "notes.txt").write_text("mine")
    (out / "faces" / "keep").mkdir()
    args = (video, "--reference", photo, "--out", out, "--width", WIDTH, "--height", HEIGHT, "--max-frames", 2,
            "--quiet")
    _assert_clean_error(_cli(*args, home=tmp_path / "home"), "did not write", "--overwrite")
    assert (out / "poses" / "notes.txt").read_text() == "mine" and (out / "poses" / "frame_2.png").exists()
    result = _cli(*args, "--overwrite", home=tmp_path / "home")
    assert result.returncode == 0, result.stderr
    assert (out / "poses" / "notes.txt").read_text() == "mine" and (out / "faces" / "keep").is_dir()
    assert sorted(p.name for p in (out / "poses").iterdir()) == ["frame_0.png", "frame_1.png", "notes.txt"]
    assert len(read_motion_json(out / "motion.json").poses) == 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no work or old folder left


def test_extracting_from_the_output_folders_own_frames_is_refused(tmp_path):
    photo = write_astronaut_photo(tmp_path / "photo.png", size=96)
    out = tmp_path / "out"
    _fake_extraction(out, 2)
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    for video, where in ((out / "poses", "inside the output folder"), (tmp_path, "inside the input folder")):
        _assert_clean_error(_cli(video, "--reference", photo, "--out", out, "--quiet", home=tmp_path / "home"),
                            where)
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before


def test_warnings_are_one_line_each_and_the_chosen_person_is_saved(tmp_path):
    # Issue 19: a Python warning used to print its file:line and the source line under it
    # ("clip = extract_poses(...)") before the studio's own "warning:" line said the same again.
    from studio.media.video_io import read_frames
    from tests.generated_media import write_video

    person = read_frames(Path(__file__).resolve().parents[2] / "data" / "pose2sim_balance_cam01_270x480.mp4")[:12]
    nobody = [np.full_like(person[0], 90)] * 40  # 40 frames at 60 fps: a gap longer than half a second
    video = write_video(tmp_path / "gap.mp4", person + nobody, fps=60.0)
    photo = write_astronaut_photo(tmp_path / "photo.png", size=200)
    result = _cli(video, "--reference", photo, "--out", tmp_path / "out", "--person", "1", "--quiet",
                  "--no-cache", home=tmp_path / "home")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    gap_lines = [line for line in lines if "no person in frames" in line]
    assert len(gap_lines) == 1 and gap_lines[0].startswith("warning: "), result.stderr
    assert "extract_poses(" not in result.stderr and "UserWarning" not in result.stderr, result.stderr
    assert json.loads((tmp_path / "out" / "motion.json").read_text())["person"] == 1


def test_a_bad_person_choice_is_a_one_line_error(tmp_path):
    video, _ = write_transform_video(tmp_path / "drive.mp4", num_frames=2, size=96)
    photo = write_astronaut_photo(tmp_path / "photo.png", size=96)
    result = _cli(video, "--reference", photo, "--out", tmp_path / "out", "--person", "zero", "--quiet",
                  home=tmp_path / "home")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: --person must be auto, a number from 1 (the first person from the left) or @F:X,Y")
