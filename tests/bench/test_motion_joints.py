"""The per-joint view of bench/motion_real.py (``--joints``): signed offsets in the body's own frame."""

from __future__ import annotations

import numpy as np
import pytest

from bench.motion_joints import body_frame, error_against_keypoints, joint_offsets, joint_table


def _body(up, right, torso=100.0):
    """An OpenPose-18 body: mid-hips at (500, 500), torso along unit ``up``, the person's right along ``right``."""
    up, right = np.asarray(up, float), np.asarray(right, float)
    body = np.zeros((18, 3))
    hips, shoulders = np.array([500.0, 500.0]), np.array([500.0, 500.0]) + torso * up
    for joint, base, side, along in ((2, shoulders, 1, 0.0), (5, shoulders, -1, 0.0), (3, shoulders, 1, -0.4),
                                     (6, shoulders, -1, -0.4), (4, shoulders, 1, -0.8), (7, shoulders, -1, -0.8),
                                     (8, hips, 1, 0.0), (11, hips, -1, 0.0), (9, hips, 1, -0.9),
                                     (12, hips, -1, -0.9), (10, hips, 1, -1.8), (13, hips, -1, -1.8)):
        body[joint, :2] = base + side * 0.2 * torso * right + along * torso * up
        body[joint, 2] = 1.0
    return body


@pytest.mark.parametrize(("up", "right"), [((0.0, -1.0), (-1.0, 0.0)), ((1.0, 0.0), (0.0, 1.0))])
def test_hips_low_and_narrow_read_as_down_and_in_whichever_way_the_body_lies(up, right):
    truth = _body(up, right)
    moved = truth.copy()
    # hips 10 % of the torso toward the feet and 5 % toward the body's middle
    up_v, right_v = np.asarray(up), np.asarray(right)
    moved[8, :2] += -10.0 * up_v - 5.0 * right_v
    moved[11, :2] += -10.0 * up_v + 5.0 * right_v
    frame_up, frame_right, length = body_frame(truth)
    np.testing.assert_allclose(frame_up, up_v, atol=1e-9)
    np.testing.assert_allclose(frame_right, right_v, atol=1e-9)
    assert length == pytest.approx(100.0)
    rows = joint_offsets([moved], [truth])
    for hip in ("RHip", "LHip"):
        assert rows[hip]["up"] == pytest.approx(-10.0) and rows[hip]["out"] == pytest.approx(-5.0)
        assert rows[hip]["error"] == pytest.approx(np.hypot(10.0, 5.0))
    assert all(rows[name]["error"] == 0.0 for name in rows if not name.endswith("Hip"))


def test_unsure_joints_are_left_out_and_the_table_has_a_row_per_joint():
    truth = _body((0.0, -1.0), (-1.0, 0.0))
    seen = truth.copy()
    seen[8, :2] += 30.0
    seen[8, 2] = 0.1  # below ``sure``: not counted
    rows = joint_offsets([seen], [truth], sure=0.3)
    assert "RHip" not in rows and rows["LHip"]["error"] == 0.0
    lines = joint_table({"clip": {"joints": rows}}, "title")
    assert len(lines) == 3 + 12 and lines[3].startswith("| RShoulder | 0.0 (+0.0, +0.0)")
    assert any(line.startswith("| RHip | –") for line in lines)


def test_the_extractor_against_another_models_keypoints_counts_only_their_sure_joints_and_frames():
    truth = _body((0.0, -1.0), (-1.0, 0.0))  # torso 100 px
    keypoints = truth.copy()
    ours = truth.copy()
    ours[[2, 5, 3, 6, 4, 7, 8], 0] += 10.0  # 7 of 12 joints 10 px off: the median is 10 % of the torso
    assert error_against_keypoints(ours, [None, keypoints], 1, truth) == pytest.approx(0.10)
    unsure = keypoints.copy()
    unsure[[9, 12, 10, 13], 2] = 0.0  # the other model did not see the legs: only the 7 off and the last hip count
    assert error_against_keypoints(ours, [unsure], 0, truth, least=8) == pytest.approx(0.10)
    unsure[11, 2] = 0.0  # 7 sure joints left: too few to judge
    assert error_against_keypoints(ours, [unsure], 0, truth, least=8) is None
    assert error_against_keypoints(ours, [None, keypoints], 0, truth) is None  # no keypoints for that frame
    assert error_against_keypoints(ours, [keypoints], 3, truth) is None  # before or after the other model's frames
