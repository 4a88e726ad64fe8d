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
    with pytest.raises(InputError, match="unsupported motion.json version 3"):
        read_motion_json(_file(tmp_path, 3, ["detected"]))
    with pytest.raises(InputError, match="unknown frame status 'maybe'"):
        read_motion_json(_file(tmp_path, 2, ["maybe"]))
