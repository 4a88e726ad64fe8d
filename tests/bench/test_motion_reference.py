"""The judge of bench/motion_real.py: the reference projected into a view, and the camera refitted on the
reference's own 2-D keypoints (bench/motion_reference.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bench.motion_reference import (
    BODY_25B,
    project,
    project_points,
    read_keypoints_2d,
    read_trc,
    refit_camera,
    to_calibration_world,
)

MATRIX = [[1680.0, 0.0, 540.0], [0.0, 1680.0, 960.0], [0.0, 0.0, 1.0]]
#: The demo trial's cam_04, rounded: 4.4 m from the person, looking at them.
TRUE_CAMERA = {"matrix": MATRIX, "distortions": [0.0, 0.0, 0.0, 0.0],
               "rotation": [1.40, -1.39, 0.43], "translation": [0.50, 0.05, 4.40]}
MARKERS = ["RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "Neck", "RShoulder", "RElbow", "RWrist",
           "LShoulder", "LElbow", "LWrist"]


def _write_trc(path, points):
    """A .trc as pose2sim writes it: 5 header lines, then frame, time and X Y Z per marker (tab-separated)."""
    header = ["PathFileType\t4\t(X/Y/Z)\tx.trc", "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits",
              f"60\t60\t{len(points)}\t{len(MARKERS)}\tm",
              "Frame#\tTime\t" + "\t\t\t".join(MARKERS) + "\t\t", "\t\t" + "\t".join("X Y Z".split() * len(MARKERS))]
    rows = [f"{k + 1}\t{k / 60}\t" + "\t".join(f"{v:.6f}" for v in frame.ravel()) for k, frame in enumerate(points)]
    path.write_text("\n".join(header + rows) + "\n")


def _person(frames=40, seed=0):
    """Markers of a person standing near the origin (.trc axes: Y up), moving a little from frame to frame."""
    rng = np.random.default_rng(seed)
    base = rng.uniform([-0.25, 0.1, -0.15], [0.25, 1.6, 0.15], (len(MARKERS), 3))
    drift = np.cumsum(rng.normal(0, 0.01, (frames, len(MARKERS), 3)), axis=0)
    return base + drift


def _keypoints(folder, pixels, likelihood=0.9):
    """pose2sim's 2-D json files: BODY_25B keypoints (x, y, likelihood) of one person per frame."""
    folder.mkdir()
    for k, frame in enumerate(pixels):
        body = np.zeros((25, 3))
        for m, name in enumerate(MARKERS):
            body[BODY_25B.index(name)] = (*frame[m], likelihood)
        (folder / f"cam.{k:04d}.json").write_text(json.dumps({"people": [{"pose_keypoints_2d": body.ravel().tolist()}]}))


def test_the_trc_up_axis_is_the_calibration_worlds_up_axis():
    # OpenSim's .trc is Y up; the Qualisys calibration's world is Z up, with the .trc's Z as its X
    assert to_calibration_world(np.array([0.1, 1.0, 0.3])).tolist() == [0.3, 0.1, 1.0]


def test_a_point_on_the_optical_axis_projects_onto_the_principal_point():
    camera = {**TRUE_CAMERA, "rotation": [0.0, 0.0, 0.0], "translation": [0.0, 0.0, 0.0]}
    assert project_points(np.array([[0.0, 0.0, 3.0]]), camera)[0] == pytest.approx([540.0, 960.0])
    # and one 0.3 m to the side at 3 m lands f · 0.1 = 168 px off it
    assert project_points(np.array([[0.3, 0.0, 3.0]]), camera)[0] == pytest.approx([708.0, 960.0])


def test_a_camera_off_by_a_few_centimetres_is_refitted_on_the_references_own_keypoints(tmp_path):
    points = _person()
    _write_trc(tmp_path / "t.trc", points)
    names, read = read_trc(tmp_path / "t.trc")
    assert names == MARKERS and np.allclose(read, points, atol=1e-6)
    truth = project_points(to_calibration_world(points), TRUE_CAMERA)
    # a tenth of the keypoints are wrong detections 80 px away: the refit leaves them out
    wrong = np.random.default_rng(1).random(truth.shape[:2]) < 0.1
    seen = truth + 80.0 * wrong[..., None]
    _keypoints(tmp_path / "cam_json", seen)
    calibrated = {**TRUE_CAMERA, "rotation": [1.41, -1.38, 0.42], "translation": [0.53, 0.02, 4.43]}
    before = np.linalg.norm(project(tmp_path / "t.trc", calibrated)[:, [8, 9, 10], :2]
                            - truth[:, [0, 1, 2]], axis=-1)
    assert np.median(before) > 10  # the calibrated camera misplaces the reference by more than 10 px

    refitted, change = refit_camera(calibrated, names, read, read_keypoints_2d(tmp_path / "cam_json"))

    after = project(tmp_path / "t.trc", refitted)
    # RHip, RKnee, RAnkle (OpenPose-18 8, 9, 10) back on the true projection to well under a pixel (the .trc's
    # six decimals are a micrometre)
    assert np.abs(after[:, [8, 9, 10], :2] - truth[:, [0, 1, 2]]).max() < 0.05
    assert change["residual_px"][0] > 10 > 0.05 > change["residual_px"][1]
    assert change["moved_mm"] > 10


def test_keypoints_below_the_references_likelihood_are_not_used(tmp_path):
    points = _person(frames=10)
    _write_trc(tmp_path / "t.trc", points)
    names, read = read_trc(tmp_path / "t.trc")
    _keypoints(tmp_path / "cam_json", project_points(to_calibration_world(points), TRUE_CAMERA) + 50.0,
               likelihood=0.2)
    calibrated = {**TRUE_CAMERA, "translation": [0.53, 0.02, 4.43]}
    refitted, change = refit_camera(calibrated, names, read, read_keypoints_2d(tmp_path / "cam_json"))
    assert refitted is calibrated and change == {}


def _moving_patch(frames=60):
    """Grey frames of a textured square swinging over a textured background (speeding up and slowing down: a
    body part's motion, whose displacement over a few frames depends on when they start), and its centre."""
    import cv2

    def texture(shape):  # blobs a few pixels across (the flow's pyramid levels still see them), full contrast
        smooth = cv2.GaussianBlur(rng.random(shape).astype(np.float32), (0, 0), 3)
        return cv2.normalize(smooth, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)

    rng = np.random.default_rng(2)
    background, patch = texture((300, 400)), texture((60, 60))
    centres = [(200 + 50 * np.sin(2 * np.pi * t / 40), 150 + 30 * np.cos(2 * np.pi * t / 40)) for t in range(frames)]
    images = []
    for cx, cy in centres:
        image = background.copy()
        x0, y0 = int(round(cx)) - 30, int(round(cy)) - 30
        image[y0:y0 + 60, x0:x0 + 60] = patch
        images.append(image)
    return images, [(int(round(cx)), int(round(cy))) for cx, cy in centres]


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_the_video_frame_the_references_keypoints_show_is_found_by_optical_flow(offset):
    from bench.motion_reference import video_offset

    images, centres = _moving_patch()
    keypoints = []
    for k in range(len(images)):  # the reference's frame k shows the video's frame k + offset
        t = min(max(k + offset, 0), len(images) - 1)
        body = np.zeros((25, 3))
        for j, (dx, dy) in enumerate([(0, 0), (-15, -15), (15, -15), (-15, 15), (15, 15)]):
            body[j] = (centres[t][0] + dx, centres[t][1] + dy, 0.9)
        keypoints.append(body)
    found, misses = video_offset(images, keypoints)
    assert found == offset, misses
    assert misses[offset] < 1.0 < min(v for s, v in misses.items() if s != offset)
