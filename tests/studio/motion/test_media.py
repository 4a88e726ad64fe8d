"""Video input: probe, trim/stride/max-frames, frame folders, rotated phone clips, gif; bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from studio.errors import InputError
from studio.media.video_io import iter_frames, load_image, probe_video, read_frames, selected_indices
from studio.request.render_request import FrameSelection
from studio.motion import extract_poses
from tests.generated_media import (
    astronaut,
    write_corrupt_video,
    write_empty_file,
    write_frame_folder,
    write_image,
    write_personless_video,
    write_rotated_phone_video,
    write_transform_video,
    write_video,
)

FPS = 10.0
COUNT = 12


def _level(i: int) -> int:
    return 10 + 20 * i


@pytest.fixture(scope="module")
def counting_video(tmp_path_factory):
    """12 flat grey frames at 10 fps whose brightness encodes the frame index."""
    frames = [np.full((48, 64, 3), _level(i), np.uint8) for i in range(COUNT)]
    return write_video(tmp_path_factory.mktemp("media") / "count.mp4", frames, fps=FPS)


def _decoded_indices(path, selection) -> list[int]:
    out = []
    for index, frame in iter_frames(path, selection):
        level = int(round((frame.mean() - 10) / 20))
        assert level == index, f"frame labelled {index} shows frame {level}"
        out.append(index)
    return out


def test_probe_reports_fps_count_duration_and_size(counting_video):
    info = probe_video(counting_video)
    assert info.fps == pytest.approx(FPS)
    assert info.frame_count == COUNT
    assert info.duration == pytest.approx(COUNT / FPS, abs=0.06)
    assert (info.width, info.height) == (64, 48)
    assert info.rotation == 0 and info.kind == "video" and not info.has_audio


def test_probe_sees_audio(tmp_path):
    path, _ = write_transform_video(tmp_path / "talk.mp4", num_frames=3, size=64, audio=True)
    assert probe_video(path).has_audio


@pytest.mark.parametrize(
    "selection, expected",
    [
        (FrameSelection(), list(range(COUNT))),
        (FrameSelection(stride=3), [0, 3, 6, 9]),
        (FrameSelection(max_frames=5), [0, 1, 2, 3, 4]),
        (FrameSelection(start=0.3, end=0.8), [3, 4, 5, 6, 7]),
        (FrameSelection(start=0.2, stride=4, max_frames=2), [2, 6]),
        (FrameSelection(start=0.5), [5, 6, 7, 8, 9, 10, 11]),
        (FrameSelection(end=5.0), list(range(COUNT))),
    ],
)
def test_trim_stride_max_frames_pick_the_right_source_frames(counting_video, selection, expected):
    info = probe_video(counting_video)
    assert selected_indices(info, selection) == expected
    assert _decoded_indices(counting_video, selection) == expected


def test_selections_that_select_nothing_or_make_no_sense_are_input_errors(counting_video):
    info = probe_video(counting_video)
    with pytest.raises(InputError, match="selects no frames"):
        selected_indices(info, FrameSelection(start=3.0))
    for bad in (dict(start=-1), dict(start=1.0, end=0.5), dict(stride=0), dict(max_frames=0)):
        with pytest.raises(InputError):
            FrameSelection(**bad)
    assert FrameSelection.from_dict(FrameSelection(0.5, 1.0, 2, 3).to_dict()) == FrameSelection(0.5, 1.0, 2, 3)


def test_a_folder_of_frames_reads_in_natural_order(tmp_path):
    frames = [np.full((32, 40, 3), _level(i), np.uint8) for i in range(11)]
    folder = write_frame_folder(tmp_path / "frames", frames)  # frame_0 .. frame_10 (frame_10 sorts after frame_9)
    info = probe_video(folder)
    assert info.kind == "frames" and info.frame_count == 11 and (info.width, info.height) == (40, 32)
    assert _decoded_indices(folder, FrameSelection(stride=2)) == [0, 2, 4, 6, 8, 10]


def test_a_rotated_phone_video_comes_out_upright(tmp_path):
    path, upright = write_rotated_phone_video(tmp_path / "phone.mp4", num_frames=3)
    info = probe_video(path)
    assert info.rotation in (90, 270)
    assert (info.width, info.height) == (96, 160)  # upright portrait size
    frames = read_frames(path)
    assert len(frames) == 3
    for i, (frame, want) in enumerate(zip(frames, upright, strict=True)):
        assert frame.shape == want.shape
        assert np.abs(frame.astype(int) - want.astype(int)).mean() < 8
        # The corner marker (white on odd frames) sits top-left, where it was drawn.
        assert (frame[1:7, 1:7].mean() > 200) == bool(i % 2)


def test_a_gif_reads(tmp_path):
    frames = [np.full((40, 48, 3), _level(i), np.uint8) for i in range(4)]
    path = write_video(tmp_path / "clip.gif", frames, fps=8.0)
    info = probe_video(path)
    assert info.frame_count == 4 and (info.width, info.height) == (48, 40)
    decoded = read_frames(path)
    assert len(decoded) == 4
    assert [int(round((f.mean() - 10) / 20)) for f in decoded] == [0, 1, 2, 3]


def test_a_missing_file_is_a_clear_error(tmp_path):
    missing = tmp_path / "nope.mp4"
    with pytest.raises(InputError, match="not found") as error:
        probe_video(missing)
    assert str(missing) in str(error.value)
    with pytest.raises(InputError, match="not found"):
        extract_poses(missing)


def test_an_empty_file_is_a_clear_error(tmp_path):
    empty = write_empty_file(tmp_path / "empty.mp4")
    with pytest.raises(InputError, match="empty") as error:
        probe_video(empty)
    assert str(empty) in str(error.value)


def test_a_corrupt_file_is_a_clear_error(tmp_path):
    corrupt = write_corrupt_video(tmp_path / "corrupt.mp4")
    with pytest.raises(InputError) as error:
        probe_video(corrupt)
    assert str(corrupt) in str(error.value) and "video" in str(error.value)
    with pytest.raises(InputError):
        extract_poses(corrupt)


def test_an_empty_frame_folder_and_a_bad_image_are_clear_errors(tmp_path):
    (tmp_path / "nothing").mkdir()
    with pytest.raises(InputError, match="no images"):
        probe_video(tmp_path / "nothing")
    bad = tmp_path / "photo.png"
    bad.write_bytes(b"not a png at all")
    with pytest.raises(InputError, match="not a readable image"):
        load_image(bad)


def test_a_video_with_nobody_is_a_clear_error(tmp_path):
    path = write_personless_video(tmp_path / "empty_room.mp4", num_frames=3)
    with pytest.raises(InputError, match="no person"):
        extract_poses(path, use_cache=False)


def test_frames_without_a_person_hold_the_last_pose_with_a_warning(tmp_path):
    person = astronaut()[::2, ::2]  # 256×256
    blank = np.full_like(person, 40)
    folder = write_frame_folder(tmp_path / "frames", [person, blank, person])
    with pytest.warns(UserWarning, match="no person found in 1 of 3"):
        clip = extract_poses(folder, use_cache=False)
    assert clip.held == [False, True, False]
    np.testing.assert_array_equal(clip.poses[1].body, clip.poses[0].body)
    assert any("no person" in w for w in clip.warnings)


def test_load_image_applies_exif_orientation(tmp_path):
    from PIL import Image

    photo = np.zeros((20, 30, 3), np.uint8)
    photo[:5, :5] = 255  # marker top-left of the stored pixels
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    Image.fromarray(photo).save(path, exif=exif, quality=95)
    image = load_image(path)
    assert image.shape == (30, 20, 3)
    assert image[:5, -5:].mean() > 200  # the marker ends up top-right
    write_image(tmp_path / "plain.png", photo)
    assert load_image(tmp_path / "plain.png").shape == (20, 30, 3)


@pytest.mark.parametrize("suffix", [".mov", ".mkv", ".webm"])
def test_other_containers_read(tmp_path, suffix):
    frames = [np.full((48, 64, 3), _level(i), np.uint8) for i in range(5)]
    path = write_video(tmp_path / f"clip{suffix}", frames, fps=FPS)
    info = probe_video(path)
    assert info.frame_count == 5 and info.fps == pytest.approx(FPS) and (info.width, info.height) == (64, 48)
    assert _decoded_indices(path, FrameSelection(stride=2)) == [0, 2, 4]
