"""A pose's face box read from motion.json is 4 numbers (x0, y0, x1, y1), or a clear error."""

from __future__ import annotations

import pytest

from studio.motion.types import PoseFrame


def test_a_face_box_round_trips_as_four_numbers_and_other_lengths_are_refused():
    pose = PoseFrame.from_json({"face_box": [1, 2, 30, 40]})
    assert pose.face_box == (1.0, 2.0, 30.0, 40.0)
    assert PoseFrame.from_json(pose.to_json()).face_box == (1.0, 2.0, 30.0, 40.0)
    assert PoseFrame.from_json({"face_box": None}).face_box is None
    for wrong in ([1, 2, 30], [1, 2, 30, 40, 50]):
        with pytest.raises(ValueError, match="'face_box' must hold 4 numbers"):
            PoseFrame.from_json({"face_box": wrong})
