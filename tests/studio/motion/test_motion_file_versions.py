"""motion.json version 2 (per-frame status) is read, and version-1 files still are (all frames detected)."""

from __future__ import annotations

import json

import pytest

from studio.errors import InputError
from studio.motion import PoseFrame
from studio.motion.motion_file import read_motion_json


def _file(tmp_path, version: int, statuses: list[str | None]):
    frames = []
    for i, status in enumerate(statuses):
        frame = {"index": 2 * i, "source": PoseFrame().to_json(), "aligned": PoseFrame().to_json()}
        if status is not None:
            frame["status"] = status
        frames.append(frame)
    data = {"version": version, "backend": "mediapipe", "output": {"width": 64, "height": 64},
            "source": {"path": "x.mp4", "fps": 8.0, "width": 64, "height": 64, "frame_count": 8}, "frames": frames}
    path = tmp_path / "motion.json"
    path.write_text(json.dumps(data))
    return path


def test_version_2_statuses_and_version_1_files(tmp_path):
    motion = read_motion_json(_file(tmp_path, 2, ["detected", "held", "none"]))
    assert motion.status == ["detected", "held", "none"] and motion.indices == [0, 2, 4]
    old = read_motion_json(_file(tmp_path, 1, [None, None]))
    assert old.status == ["detected", "detected"] and len(old.poses) == 2


def test_unknown_versions_and_statuses_are_clear_errors(tmp_path):
    with pytest.raises(InputError, match="unsupported motion.json version 4"):
        read_motion_json(_file(tmp_path, 4, ["detected"]))
    with pytest.raises(InputError, match="unknown frame status 'maybe'"):
        read_motion_json(_file(tmp_path, 2, ["maybe"]))


def _standing(x: float) -> dict:
    """A pose with two sure points: a box from (x, 10) to (x + 10, 40)."""
    pose = PoseFrame()
    pose.body[1] = (x, 10, 0.9)
    pose.body[8] = (x + 10, 40, 0.9)
    return pose.to_json()


def test_version_3_person_boxes_and_older_files_get_them_from_their_poses(tmp_path):
    # issue 19: each frame's followed-person box; a version-2 file's boxes follow from its poses and statuses
    path = _file(tmp_path, 2, ["detected", "held"])
    data = json.loads(path.read_text())
    for frame in data["frames"]:
        frame["source"] = _standing(20)
    path.write_text(json.dumps(data))
    old = read_motion_json(path)
    # the sure points' box grown by a tenth of its longer side (30 px): 3 px on every side; a held frame has none
    assert old.person_boxes == [(17.0, 7.0, 33.0, 43.0), None] and old.person == "auto"
    data.update(version=3, person="@4:25,30")
    data["frames"][0]["person_box"], data["frames"][1]["person_box"] = [1, 2, 3, 4], None
    path.write_text(json.dumps(data))
    new = read_motion_json(path)
    assert new.person_boxes == [(1.0, 2.0, 3.0, 4.0), None] and new.person == "@4:25,30"
    data["frames"][0]["person_box"] = [1, 2, 3]
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match="frame 0 person_box must be 4 numbers"):
        read_motion_json(path)
