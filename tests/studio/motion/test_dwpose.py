"""The dwpose backend against docs/model.md §13 (YOLOX-L detector + dw-ll_ucoco_384 RTMPose/SimCC via onnxruntime).

Expectations are worked out here from the text of docs/model.md §13 (sizes, strides, thresholds, padding, mean/std, split
ratio, index ranges), not read back from ``studio.motion.dwpose``. The end-to-end tests run the backend on tiny
generated ONNX stand-ins (``dwpose_models.py``) that plant a known person box and known SimCC peaks.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from studio.errors import ModelFolderError
from studio.motion import available_backends, create_backend
from studio.motion.dwpose import (
    DETECTOR_FILE,
    POSE_FILE,
    DWPoseBackend,
    box_to_center_scale,
    crop_affine,
    decode_simcc,
    decode_yolox,
    find_dwpose_models,
    letterbox,
    nms,
    person_boxes,
    pose_input,
    to_openpose,
)
from tests.studio.motion.dwpose_models import (
    NUM_KEYPOINTS,
    SIMCC_X_BINS,
    SIMCC_Y_BINS,
    anchor_index,
    empty_detections,
    plant_box,
    write_detector,
    write_marker_pose_model,
    write_pose_model,
)

POSE_WH = (288, 384)  # the pose model's input, w×h (§13)
MEAN = np.array([123.675, 116.28, 103.53])
STD = np.array([58.395, 57.12, 57.375])

# COCO-WholeBody body order (0-based): the names docs/model.md's OpenPose order refers to.
COCO_BODY = {
    "nose": 0, "l_eye": 1, "r_eye": 2, "l_ear": 3, "r_ear": 4, "l_shoulder": 5, "r_shoulder": 6, "l_elbow": 7,
    "r_elbow": 8, "l_wrist": 9, "r_wrist": 10, "l_hip": 11, "r_hip": 12, "l_knee": 13, "r_knee": 14,
    "l_ankle": 15, "r_ankle": 16,
}
# §13: "0 nose, 1 neck, 2 R-shoulder, 3 R-elbow, 4 R-wrist, 5 L-shoulder, 6 L-elbow, 7 L-wrist, 8 R-hip, 9 R-knee,
# 10 R-ankle, 11 L-hip, 12 L-knee, 13 L-ankle, 14 R-eye, 15 L-eye, 16 R-ear, 17 L-ear"
OPENPOSE_BODY = (
    "nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow", "l_wrist", "r_hip", "r_knee",
    "r_ankle", "l_hip", "l_knee", "l_ankle", "r_eye", "l_eye", "r_ear", "l_ear",
)


# ----------------------------------------------------------------------------------------------- letterbox
@pytest.mark.parametrize("height, width", [(300, 200), (100, 400), (640, 640), (1000, 750)])
def test_letterbox_fits_top_left_on_grey_with_linear_resize(height: int, width: int) -> None:
    rng = np.random.default_rng(height + width)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    blob, ratio = letterbox(image)

    expected_ratio = min(640 / height, 640 / width)
    assert ratio == pytest.approx(expected_ratio)
    assert blob.shape == (1, 3, 640, 640) and blob.dtype == np.float32
    new_w, new_h = int(width * expected_ratio), int(height * expected_ratio)
    assert max(new_w, new_h) == 640  # the long side fills the canvas
    resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    canvas = blob[0].transpose(1, 2, 0)
    np.testing.assert_array_equal(canvas[:new_h, :new_w], resized)  # top-left aligned, channels as given
    assert (canvas[new_h:] == 114).all() and (canvas[:, new_w:] == 114).all()  # pad value 114 right/below
    if (new_w, new_h) != (width, height):
        nearest = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_NEAREST)
        assert not np.array_equal(canvas[:new_h, :new_w], nearest)


# ----------------------------------------------------------------------------------------------- YOLOX decoding
@pytest.mark.parametrize("stride, cx, cy, w, h", [(8, 100.5, 36.25, 40.0, 90.0), (16, 333.0, 500.0, 120.0, 64.0),
                                                  (32, 168.0, 336.0, 160.0, 480.0), (32, 639.0, 7.0, 20.0, 30.0)])
def test_decode_yolox_grid_strides(stride: int, cx: float, cy: float, w: float, h: float) -> None:
    raw = empty_detections()
    row = plant_box(raw, stride, cx, cy, w, h, objectness=0.9, cls=0)
    decoded = decode_yolox(raw)
    assert decoded.shape == raw.shape
    np.testing.assert_allclose(decoded[row, :4], [cx, cy, w, h], rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(decoded[row, 4:], raw[row, 4:])  # scores pass through untouched
    # an untouched anchor decodes to its own grid cell's corner with a one-stride box (exp(0) · stride)
    other = anchor_index(16, 3, 7)
    np.testing.assert_allclose(decoded[other, :4], [3 * 16, 7 * 16, 16, 16])


def test_decode_yolox_rejects_wrong_anchor_count() -> None:
    with pytest.raises(ModelFolderError, match="anchors"):
        decode_yolox(np.zeros((100, 85), dtype=np.float32))


def test_nms_keeps_best_of_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 100, 100], [5, 5, 105, 105], [300, 300, 400, 400], [5, 5, 105, 217]], dtype=np.float32)
    scores = np.array([0.8, 0.9, 0.5, 0.7], dtype=np.float32)
    # (+1 pixel convention) box 0 vs box 1: IoU 96² / (2·101² − 96²) ≈ 0.82; box 3 lies over box 1 with
    # IoU 101·101 / (101·213) ≈ 0.474 -> dropped at 0.45, kept at 0.5
    assert nms(boxes, scores, 0.45) == [1, 2]
    assert nms(boxes, scores, 0.5) == [1, 3, 2]


def _decoded(cands: list[tuple[float, float, float, float, float, int]]) -> np.ndarray:
    """Decoded rows from (cx, cy, w, h, objectness, class) in letterboxed pixels; class prob 1."""
    out = np.zeros((len(cands), 85), dtype=np.float32)
    for i, (cx, cy, w, h, obj, cls) in enumerate(cands):
        out[i, :5] = cx, cy, w, h, obj
        out[i, 5 + cls] = 1.0
    return out


def test_person_boxes_class_score_nms_and_ratio() -> None:
    ratio = 0.8
    decoded = _decoded([
        (160, 320, 160, 480, 0.9, 0),   # person A
        (210, 320, 160, 480, 0.8, 0),   # A shifted 50 px: IoU 111/211 ≈ 0.53 > 0.45 -> suppressed
        (480, 320, 100, 300, 0.6, 0),   # person B, separate -> kept
        (229, 320, 160, 480, 0.55, 0),  # person C, A shifted 69 px: IoU 92/230 = 0.40 <= 0.45 -> kept
        (300, 100, 50, 50, 0.95, 2),    # a car: not a person -> dropped
        (560, 560, 40, 40, 0.25, 0),    # a person at score 0.25 (> 0.1 NMS, <= 0.3) -> dropped
        (40, 40, 30, 30, 0.05, 0),      # below the NMS score -> dropped
    ])
    boxes = person_boxes(decoded, ratio)
    expected = np.array([[80, 80, 240, 560], [430, 170, 530, 470], [149, 80, 309, 560]], dtype=np.float32) / ratio
    np.testing.assert_allclose(boxes, expected, rtol=1e-5)


def test_person_boxes_two_overlapping_people_keep_one() -> None:
    decoded = _decoded([(200, 300, 200, 400, 0.7, 0), (210, 310, 200, 400, 0.9, 0)])
    boxes = person_boxes(decoded, 1.0)
    np.testing.assert_allclose(boxes, [[110, 110, 310, 510]])  # the higher-scoring one


def test_person_boxes_nms_is_class_agnostic_before_the_person_filter() -> None:
    # §13 order: NMS (all classes) first, then keep class 0 — a better-scoring overlapping non-person box
    # suppresses the person, as in the original detector post-processing.
    decoded = _decoded([(200, 300, 200, 400, 0.7, 0), (202, 300, 200, 400, 0.9, 1)])
    assert person_boxes(decoded, 1.0).shape == (0, 4)
    assert person_boxes(_decoded([(200, 300, 200, 400, 0.05, 0)]), 1.0).shape == (0, 4)


# ----------------------------------------------------------------------------------------------- crop
@pytest.mark.parametrize("box, center, wh", [
    ((10, 20, 110, 420), (60, 220), (375.0, 500.0)),   # tall: 125×500 padded -> widened to 3:4
    ((0, 0, 300, 100), (150, 50), (375.0, 500.0)),     # wide: 375×125 padded -> heightened to 3:4
    ((50, 50, 290, 370), (170, 210), (300.0, 400.0)),  # already 3:4: 240×320 · 1.25
])
def test_box_to_center_scale_pads_and_fixes_aspect(box, center, wh) -> None:
    c, s = box_to_center_scale(np.array(box, dtype=np.float32), POSE_WH)
    np.testing.assert_allclose(c, center)
    np.testing.assert_allclose(s, wh)
    assert s[0] / s[1] == pytest.approx(288 / 384)


def test_crop_affine_maps_the_scaled_box_onto_the_model_input() -> None:
    center, scale = np.array([450.0, 300.0]), np.array([281.25, 375.0])
    left, top = center - scale / 2
    src = np.float32([center, [left, top], [left + scale[0], top]])
    dst = np.float32([[144, 192], [0, 0], [288, 0]])
    expected = cv2.getAffineTransform(src, dst)
    np.testing.assert_allclose(crop_affine(center, scale, POSE_WH), expected, rtol=1e-5, atol=1e-4)


def test_pose_input_normalises_the_warped_crop() -> None:
    image = np.empty((1000, 1000, 3), dtype=np.uint8)
    image[:] = (200, 100, 50)
    image[448:453, 448:453] = (10, 240, 130)  # a marker at the box centre (450, 450)
    box = np.array([400, 300, 500, 600], dtype=np.float32)
    blob, center, scale = pose_input(image, box, POSE_WH)
    assert blob.shape == (1, 3, 384, 288) and blob.dtype == np.float32
    np.testing.assert_allclose(center, [450, 450])
    np.testing.assert_allclose(scale, [281.25, 375.0])
    np.testing.assert_allclose(blob[0, :, 10, 10], (np.array([200, 100, 50]) - MEAN) / STD, rtol=1e-5)
    np.testing.assert_allclose(blob[0, :, 192, 144], (np.array([10, 240, 130]) - MEAN) / STD, rtol=1e-5)


# ----------------------------------------------------------------------------------------------- SimCC
def _image_point(u: float, v: float, center, scale) -> tuple[float, float]:
    """Input pixel (u, v) of the 288×384 crop -> image pixel: the crop centre is ``center`` and the crop spans
    ``scale`` (w, h) image pixels."""
    return center[0] + (u - 144) * scale[0] / 288, center[1] + (v - 192) * scale[1] / 384


def test_decode_simcc_peak_bins_to_image_pixels() -> None:
    rng = np.random.default_rng(0)
    simcc_x = rng.uniform(0, 0.05, (3, SIMCC_X_BINS)).astype(np.float32)
    simcc_y = rng.uniform(0, 0.05, (3, SIMCC_Y_BINS)).astype(np.float32)
    bins = [(301, 100), (0, 767), (575, 384)]
    for k, (bx, by) in enumerate(bins):
        simcc_x[k, bx], simcc_y[k, by] = 0.8, 0.6 + 0.1 * k  # score = the smaller of the two maxima
    center, scale = np.array([210.0, 420.0]), np.array([562.5, 750.0])
    keypoints, scores = decode_simcc(simcc_x, simcc_y, center, scale, POSE_WH)
    assert keypoints.shape == (3, 2)
    for k, (bx, by) in enumerate(bins):
        np.testing.assert_allclose(keypoints[k], _image_point(bx / 2, by / 2, center, scale), atol=1e-3)
    np.testing.assert_allclose(scores, [0.6, 0.7, 0.8], rtol=1e-6)

    flat = np.zeros((1, SIMCC_X_BINS), dtype=np.float32), np.zeros((1, SIMCC_Y_BINS), dtype=np.float32)
    _, zero_scores = decode_simcc(*flat, center, scale, POSE_WH)
    assert zero_scores[0] == 0


# ----------------------------------------------------------------------------------------------- OpenPose layout
def _wholebody(shoulder_scores=(0.9, 0.8)) -> tuple[np.ndarray, np.ndarray]:
    keypoints = np.stack([np.arange(133) * 3.0 + 1, np.arange(133) * 2.0 + 5], -1).astype(np.float32)
    scores = np.linspace(0.31, 0.99, 133).astype(np.float32)
    scores[[5, 6]] = shoulder_scores
    return keypoints, scores


def test_to_openpose_body_order_and_neck() -> None:
    keypoints, scores = _wholebody()
    pose = to_openpose(keypoints, scores)
    assert pose.body.shape == (18, 3)
    for i, name in enumerate(OPENPOSE_BODY):
        if name == "neck":
            mid = (keypoints[5] + keypoints[6]) / 2
            np.testing.assert_allclose(pose.body[i], [mid[0], mid[1], 1.0])
        else:
            j = COCO_BODY[name]
            np.testing.assert_allclose(pose.body[i], [keypoints[j, 0], keypoints[j, 1], scores[j]], err_msg=name)


@pytest.mark.parametrize("shoulders, neck_score", [((0.9, 0.8), 1.0), ((0.9, 0.3), 0.0), ((0.2, 0.95), 0.0),
                                                   ((0.31, 0.31), 1.0), ((0.0, 0.0), 0.0)])
def test_to_openpose_neck_score_needs_both_shoulders(shoulders, neck_score) -> None:
    keypoints, scores = _wholebody(shoulders)
    pose = to_openpose(keypoints, scores)
    assert pose.body[1, 2] == neck_score
    np.testing.assert_allclose(pose.body[1, :2], (keypoints[5] + keypoints[6]) / 2)  # position regardless


def test_to_openpose_face_and_hands_ranges() -> None:
    keypoints, scores = _wholebody()
    pose = to_openpose(keypoints, scores)
    info = np.concatenate([keypoints, scores[:, None]], 1)
    # §13's 134-point layout (neck inserted at 17): face 24–91, hands 92–112 and 113–133, i.e. COCO-WholeBody
    # 23–90, 91–111 (its left hand) and 112–132 (its right hand); 17–22 (feet) are not used.
    with_neck = np.insert(info, 17, 0.0, axis=0)
    np.testing.assert_allclose(pose.face, with_neck[24:92])
    np.testing.assert_allclose(pose.left_hand, with_neck[92:113])
    np.testing.assert_allclose(pose.right_hand, with_neck[113:134])
    np.testing.assert_allclose(pose.face[0], info[23])
    np.testing.assert_allclose(pose.left_hand[0], info[91])
    np.testing.assert_allclose(pose.right_hand[20], info[132])
    assert pose.face_box is None


# ----------------------------------------------------------------------------------------------- model files
def test_find_dwpose_models_errors_name_the_files(tmp_path) -> None:
    with pytest.raises(ModelFolderError) as error:
        find_dwpose_models(tmp_path)
    message = str(error.value)
    assert DETECTOR_FILE in message and POSE_FILE in message and str(tmp_path) in message
    (tmp_path / DETECTOR_FILE).write_bytes(b"x")
    with pytest.raises(ModelFolderError, match=POSE_FILE):
        find_dwpose_models(tmp_path)
    status = available_backends(tmp_path)
    assert status["dwpose"] is not None and POSE_FILE in status["dwpose"]
    assert available_backends(None)["dwpose"] is not None


def test_find_dwpose_models_in_folder_or_dwpose_subfolder(tmp_path) -> None:
    sub = tmp_path / "DWPose"
    sub.mkdir()
    for name in (DETECTOR_FILE, POSE_FILE):
        (sub / name).write_bytes(b"x")
    assert find_dwpose_models(tmp_path) == (sub / DETECTOR_FILE, sub / POSE_FILE)
    assert available_backends(tmp_path)["dwpose"] is None
    for name in (DETECTOR_FILE, POSE_FILE):
        (tmp_path / name).write_bytes(b"y")
    assert find_dwpose_models(tmp_path) == (tmp_path / DETECTOR_FILE, tmp_path / POSE_FILE)


def test_unreadable_model_files_give_a_model_folder_error(tmp_path) -> None:
    for name in (DETECTOR_FILE, POSE_FILE):
        (tmp_path / name).write_bytes(b"not an onnx model")
    with pytest.raises(ModelFolderError, match="could not load the DWPose models"):
        DWPoseBackend(tmp_path, providers=["CPUExecutionProvider"])


# ----------------------------------------------------------------------------------------------- end to end
# The frame: 400 wide × 800 tall -> letterbox ratio 0.8 (640/800), so the image is 320×640 on the canvas.
FRAME_HW = (800, 400)
RATIO = 0.8
PERSON_IMAGE_BOX = (110.0, 120.0, 310.0, 720.0)  # x0, y0, x1, y1 in image pixels


def _planted_simcc() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    simcc_x = rng.uniform(0, 0.05, (NUM_KEYPOINTS, SIMCC_X_BINS)).astype(np.float32)
    simcc_y = rng.uniform(0, 0.05, (NUM_KEYPOINTS, SIMCC_Y_BINS)).astype(np.float32)
    k = np.arange(NUM_KEYPOINTS)
    bins = np.stack([40 + 4 * k, 60 + 5 * k], -1)
    peak = 0.2 + 0.7 * (k % 5) / 4
    simcc_x[k, bins[:, 0]] = np.where(k % 2 == 0, peak, peak + 0.05)
    simcc_y[k, bins[:, 1]] = np.where(k % 2 == 0, peak + 0.05, peak)
    return simcc_x, simcc_y, bins, peak


@pytest.fixture
def dwpose_dir(tmp_path):
    raw = empty_detections()
    x0, y0, x1, y1 = (v * RATIO for v in PERSON_IMAGE_BOX)  # the person on the letterboxed canvas
    plant_box(raw, 32, (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0, objectness=0.9, cls=0)
    plant_box(raw, 8, 300.0, 40.0, 30.0, 30.0, objectness=0.95, cls=56)  # a chair, far away: not a person
    plant_box(raw, 16, 40.0, 600.0, 50.0, 80.0, objectness=0.2, cls=0)   # an unsure person: score 0.2 <= 0.3
    write_detector(tmp_path / DETECTOR_FILE, raw)
    simcc_x, simcc_y, _, _ = _planted_simcc()
    write_pose_model(tmp_path / POSE_FILE, simcc_x, simcc_y)
    return tmp_path


def _expected_wholebody() -> tuple[np.ndarray, np.ndarray]:
    """The planted SimCC peaks in image pixels, derived from §13: box padded 1.25 and widened to 3:4, crop
    288×384, bins / 2 = input pixels."""
    _, _, bins, peak = _planted_simcc()
    x0, y0, x1, y1 = PERSON_IMAGE_BOX
    center = ((x0 + x1) / 2, (y0 + y1) / 2)
    w, h = (x1 - x0) * 1.25, (y1 - y0) * 1.25  # 250 × 750: too narrow for 3:4 -> width 562.5
    scale = (max(w, h * 0.75), max(h, w / 0.75))
    points = np.array([_image_point(bx / 2, by / 2, center, scale) for bx, by in bins], dtype=np.float32)
    return points, peak.astype(np.float32)


def test_backend_end_to_end_on_generated_models(dwpose_dir) -> None:
    backend = DWPoseBackend(dwpose_dir, providers=["CPUExecutionProvider"])
    assert backend.input_wh == POSE_WH  # taken from the model's input shape
    frame = np.random.default_rng(2).integers(0, 256, (*FRAME_HW, 3), dtype=np.uint8)

    np.testing.assert_allclose(backend.detect_boxes(frame), [PERSON_IMAGE_BOX], atol=0.05)
    people = backend.detect(frame)
    assert len(people) == 1
    pose = people[0]
    points, scores = _expected_wholebody()
    info = np.concatenate([points, scores[:, None]], 1)
    for i, name in enumerate(OPENPOSE_BODY):
        if name != "neck":
            np.testing.assert_allclose(pose.body[i], info[COCO_BODY[name]], atol=0.1, err_msg=name)
    np.testing.assert_allclose(pose.body[1, :2], (points[5] + points[6]) / 2, atol=0.1)
    assert pose.body[1, 2] == float(scores[5] > 0.3 and scores[6] > 0.3)
    np.testing.assert_allclose(pose.face, info[23:91], atol=0.1)
    np.testing.assert_allclose(pose.left_hand, info[91:112], atol=0.1)
    np.testing.assert_allclose(pose.right_hand, info[112:133], atol=0.1)
    # the planted points lie inside the frame, spread over the person's box
    assert (pose.face[:, 0] > 0).all() and (pose.right_hand[:, 1] < FRAME_HW[0]).all()
    params = backend.parameters()
    assert params["detector"] == DETECTOR_FILE and params["pose"] == POSE_FILE and params["pose_bytes"] > 0
    backend.close()


def test_backend_finds_nobody_when_no_person_scores(tmp_path) -> None:
    write_detector(tmp_path / DETECTOR_FILE, empty_detections())
    simcc_x, simcc_y, _, _ = _planted_simcc()
    write_pose_model(tmp_path / POSE_FILE, simcc_x, simcc_y)
    backend = create_backend("dwpose", model_dir=tmp_path)
    assert backend.detect(np.zeros((480, 640, 3), dtype=np.uint8)) == []
    backend.close()


def test_available_backends_reports_dwpose_usable_with_the_files(dwpose_dir) -> None:
    status = available_backends(dwpose_dir)
    assert status["dwpose"] is None


def test_backend_crops_the_detected_box_and_maps_content_back(tmp_path) -> None:
    # The pose stand-in puts every keypoint on the brightest channel-0 pixel of the crop it is given, so this
    # checks the real crop (affine warp of the frame around the detected box, mean/std normalisation) and the
    # decoding back to the frame together. The crop spans 562.5×750 image pixels (box padded 1.25, widened
    # to 3:4) over 288×384 input pixels: 125/64 image pixels each; input pixel (80, 128) samples exactly
    # image pixel (210 − 64·125/64, 420 − 64·125/64) = (85, 295).
    raw = empty_detections()
    x0, y0, x1, y1 = (v * RATIO for v in PERSON_IMAGE_BOX)
    plant_box(raw, 32, (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0, objectness=0.9, cls=0)
    write_detector(tmp_path / DETECTOR_FILE, raw)
    write_marker_pose_model(tmp_path / POSE_FILE)
    frame = np.zeros((*FRAME_HW, 3), dtype=np.uint8)
    frame[295, 85] = (255, 0, 0)  # channel 0 = R: the script feeds RGB and the mean/std are in RGB order

    people = DWPoseBackend(tmp_path, providers=["CPUExecutionProvider"]).detect(frame)
    assert len(people) == 1
    pose = people[0]
    marker_score = (255 - 123.675) / 58.395
    for points in (pose.body, pose.face, pose.left_hand, pose.right_hand):
        np.testing.assert_allclose(points[:, :2], np.broadcast_to([85.0, 295.0], points[:, :2].shape), atol=0.01)
    np.testing.assert_allclose(pose.body[np.arange(18) != 1, 2], marker_score, rtol=1e-5)
    assert pose.body[1, 2] == 1.0  # neck: both shoulders visible

    frame[295, 85] = 0
    frame[600, 300] = (255, 0, 0)  # another spot inside the crop: x = 210 + k·125/64 needs k = 46.08 -> ±1 px
    pose = DWPoseBackend(tmp_path, providers=["CPUExecutionProvider"]).detect(frame)[0]
    np.testing.assert_allclose(pose.body[0, :2], [300, 600], atol=1.0)
