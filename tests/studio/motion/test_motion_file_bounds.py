"""A motion.json is read only as far as a render needs, and its numbers must be finite and near the frame
(issue 25, causes 5 and 6): NaN, Infinity, 1e999 or 1e30 coordinates are one clear line, never a traceback."""

from __future__ import annotations

import json

import pytest

from studio.__main__ import main
from studio.errors import InputError
from studio.motion import PoseFrame
from studio.motion.json_stream import read_object
from studio.motion.motion_file import read_motion_json
from tests.studio.cli.test_bad_inputs import media, one_error_line, warp  # noqa: F401 - media is a fixture


def _pose(x: float = 30.0) -> dict:
    pose = PoseFrame()
    pose.body[:, 0], pose.body[:, 1], pose.body[:, 2] = x, 32.0, 0.9
    pose.body[1, 1] = 20.0
    return pose.to_json()


def _frames_text(count: int, x: float = 30.0) -> list[str]:
    return [json.dumps({"index": i, "status": "detected", "source": _pose(x), "aligned": _pose(x)})
            for i in range(count)]


def _write(folder, frames: list[str], tail: str = "]}") -> None:
    folder.mkdir(exist_ok=True)
    head = ('{"version":2,"backend":"mediapipe","output":{"width":64,"height":64},'
            '"source":{"path":"gone.mp4","fps":8.0,"width":64,"height":64,"frame_count":8},"frames":[')
    (folder / "motion.json").write_text(head + ",".join(frames) + tail)


@pytest.mark.parametrize(("bad", "says"), [("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "Infinity"),
                                          ("1e999", "too large"), ("1e30", "far outside")])
def test_non_finite_or_absurd_coordinates_are_one_line(media, tmp_path, capsys, bad, says):  # noqa: F811
    folder = tmp_path / "mj"
    frames = _frames_text(3)
    frames[1] = frames[1].replace("30.0", bad, 1)
    _write(folder, frames)
    with pytest.raises(InputError, match=says):
        read_motion_json(folder / "motion.json")
    assert main(warp(media, tmp_path / "o.mp4", motion=folder)) == 1
    line = one_error_line(capsys)
    assert "motion.json" in line and says in line and not (tmp_path / "o.mp4").exists()


def test_only_the_entries_a_render_needs_are_read(tmp_path):
    folder = tmp_path / "mj"
    _write(folder, _frames_text(6), tail=", this is not JSON at all")  # a file cut or damaged after frame 6
    with pytest.raises(InputError, match="not a valid motion.json"):
        read_motion_json(folder / "motion.json")
    motion = read_motion_json(folder / "motion.json", stop=lambda header: 4)
    assert len(motion.poses) == 4 and not motion.complete and motion.indices == [0, 1, 2, 3]


def test_a_render_of_a_few_frames_reads_a_few_entries(media, tmp_path, capsys):  # noqa: F811
    folder = tmp_path / "mj"
    _write(folder, _frames_text(6), tail=", this is not JSON at all")
    assert main(warp(media, tmp_path / "o.mp4", motion=folder)) == 0, capsys.readouterr().err  # --frames 2


def test_a_header_after_the_frames_is_still_found(tmp_path):
    path = tmp_path / "motion.json"
    path.write_text('{"frames":[1,2,3,4,5],"source":{"fps":8}}')
    data, complete = read_object(path, "frames", stop=lambda header: 2, needs=("source",))
    assert data == {"frames": [1, 2], "source": {"fps": 8}} and not complete


def test_numbers_split_across_read_chunks_are_whole(tmp_path, monkeypatch):
    from studio.motion import json_stream

    monkeypatch.setattr(json_stream, "CHUNK", 7)  # every value straddles a chunk's edge
    path = tmp_path / "x.json"
    path.write_text('{"a": 123456789, "frames": [1.25, [2, 3], {"k": "vvvvvvvvvv"}, 44444], "z": -0.5}')
    assert read_object(path, "frames") == ({"a": 123456789, "frames": [1.25, [2, 3], {"k": "vvvvvvvvvv"}, 44444],
                                            "z": -0.5}, True)
