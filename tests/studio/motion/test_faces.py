"""Faces: the antelopev2 folder layouts, face masks in the original's format, face boxes from keypoints."""

from __future__ import annotations

import numpy as np
import pytest

from studio.errors import ModelFolderError
from studio.faces.reference_face import (
    ANTELOPEV2_REQUIRED,
    detect_face_boxes,
    face_mask,
    find_antelopev2,
    write_face_mask,
)
from studio.motion.head import face_box_from_pose
from studio.motion import PoseFrame
from tests.generated_media import ASTRONAUT_FACE_BOX, astronaut

ALL_FILES = ("1k3d68.onnx", "2d106det.onnx", "genderage.onnx", "glintr100.onnx", "scrfd_10g_bnkps.onnx")


def _pack(folder, names=ALL_FILES):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"")  # placeholders: only the layout is checked
    return folder


def test_required_files_are_detection_and_recognition():
    assert set(ANTELOPEV2_REQUIRED) == {"scrfd_10g_bnkps.onnx", "glintr100.onnx"}


@pytest.mark.parametrize("layout", ["", "antelopev2", "antelopev2/antelopev2", "models/antelopev2"])
def test_find_antelopev2_accepts_the_usual_layouts(tmp_path, layout):
    target = _pack(tmp_path / layout if layout else tmp_path)
    assert find_antelopev2(tmp_path) == target
    assert find_antelopev2(str(tmp_path)) == target


def test_the_nested_layout_is_found_from_the_middle_folder_too(tmp_path):
    target = _pack(tmp_path / "antelopev2" / "antelopev2")
    assert find_antelopev2(tmp_path / "antelopev2") == target


def test_missing_files_are_listed(tmp_path):
    _pack(tmp_path / "antelopev2", names=("scrfd_10g_bnkps.onnx", "1k3d68.onnx"))
    with pytest.raises(ModelFolderError) as error:
        find_antelopev2(tmp_path)
    message = str(error.value)
    listed = message.split("missing", 1)[1].split(". ")[0]
    assert "glintr100.onnx" in listed and "scrfd_10g_bnkps.onnx" not in listed
    assert str(tmp_path / "antelopev2") in message


def test_a_folder_that_does_not_exist_is_a_clear_error(tmp_path):
    with pytest.raises(ModelFolderError, match="does not exist"):
        find_antelopev2(tmp_path / "nowhere")


def test_an_empty_folder_lists_both_required_files(tmp_path):
    with pytest.raises(ModelFolderError) as error:
        find_antelopev2(tmp_path)
    assert "scrfd_10g_bnkps.onnx" in str(error.value) and "glintr100.onnx" in str(error.value)


def test_face_mask_is_255_inside_inclusive_boxes():
    mask = face_mask([(2.7, 3.2, 5.9, 6.0), (10, 1, 11, 2)], 16, 12)
    assert mask.shape == (12, 16) and mask.dtype == np.uint8
    assert set(np.unique(mask)) == {0, 255}
    expected = np.zeros((12, 16), np.uint8)
    expected[3:7, 2:6] = 255  # int-truncated corners, inclusive
    expected[1:3, 10:12] = 255
    np.testing.assert_array_equal(mask, expected)
    # A single box works, and no box means "the whole frame" (the original's fallback) unless asked otherwise.
    np.testing.assert_array_equal(face_mask((2.7, 3.2, 5.9, 6.0), 16, 12), face_mask([(2.7, 3.2, 5.9, 6.0)], 16, 12))
    assert (face_mask(None, 8, 4) == 255).all()
    assert not face_mask([], 8, 4, fill_when_empty=False).any()


def test_write_face_mask_writes_a_single_channel_png(tmp_path):
    from PIL import Image

    mask = face_mask([(4, 4, 9, 9)], 20, 16)
    path = write_face_mask(tmp_path / "faces" / "frame_0.png", mask)
    with Image.open(path) as image:
        assert image.mode == "L" and image.size == (20, 16)
        np.testing.assert_array_equal(np.asarray(image), mask)
    assert [p.name for p in path.parent.iterdir()] == ["frame_0.png"]  # no temporary file left


def _face_pose(rng) -> PoseFrame:
    pose = PoseFrame()
    pose.face[:, :2] = rng.uniform([100, 80], [160, 150], (68, 2))
    pose.face[:, 2] = 0.9
    pose.body[0] = [130, 120, 0.9]
    return pose


def test_face_box_from_pose_contains_the_face_points():
    rng = np.random.default_rng(1)
    pose = _face_pose(rng)
    box = face_box_from_pose(pose, 400, 300)
    x0, y0, x1, y1 = box
    face = pose.face[:, :2]
    assert (face[:, 0] >= x0).all() and (face[:, 0] <= x1).all()
    assert (face[:, 1] >= y0).all() and (face[:, 1] <= y1).all()
    # The forehead above the brows is included, and the box stays a face box (not the frame).
    assert y0 < face[:, 1].min() - 10
    assert (x1 - x0) < 2 * np.ptp(face[:, 0]) and (y1 - y0) < 2.5 * np.ptp(face[:, 1])


def test_face_box_from_pose_clips_to_the_frame_and_falls_back_to_the_head():
    rng = np.random.default_rng(2)
    pose = _face_pose(rng)
    x0, y0, x1, y1 = face_box_from_pose(pose, 140, 130)
    assert x0 >= 0 and y0 >= 0 and x1 <= 139 and y1 <= 129
    head_only = PoseFrame()
    head_only.body[[0, 14, 15, 16, 17]] = [[100, 100, 0.9], [95, 95, 0.9], [105, 95, 0.9], [85, 98, 0.9], [115, 98, 0.9]]
    box = face_box_from_pose(head_only, 300, 300)
    assert box is not None
    assert box[0] <= 85 and box[2] >= 115 and box[1] < 95 and box[3] > 100
    assert face_box_from_pose(PoseFrame(), 300, 300) is None
    assert face_box_from_pose(None, 300, 300) is None


def test_the_bundled_detector_finds_the_astronaut_face():
    boxes = detect_face_boxes(astronaut())
    assert boxes
    x0, y0, x1, y1 = boxes[0]
    cx, cy = (ASTRONAUT_FACE_BOX[0] + ASTRONAUT_FACE_BOX[2]) / 2, (ASTRONAUT_FACE_BOX[1] + ASTRONAUT_FACE_BOX[3]) / 2
    assert x0 < cx < x1 and y0 < cy < y1
    assert 40 < x1 - x0 < 200
    assert detect_face_boxes(np.full((128, 128, 3), 90, np.uint8)) == []
