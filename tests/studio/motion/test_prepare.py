"""prepare_motion on a real clip (astronaut), following the main person, and the reference pose."""

from __future__ import annotations

import numpy as np
import pytest

from studio.media.video_io import fit_to_size
from studio.motion import AlignmentOptions, PoseFrame, detect_pose, prepare_motion
from studio.motion.align import BONES
from studio.motion.head import face_box_from_pose
from studio.motion.landmark_convention import SHOULDER_ALONG_TORSO
from studio.motion.tracking import select_person
from studio.motion.types import VISIBLE
from tests.generated_media import astronaut, write_transform_video


@pytest.fixture(scope="module")
def clip_and_reference(tmp_path_factory):
    path, _ = write_transform_video(tmp_path_factory.mktemp("prep") / "drive.mp4", num_frames=4, size=192)
    reference, _ = fit_to_size(astronaut(), 160, 224, "crop")  # a portrait output, cropped from the photo
    return path, reference


def _lengths(pose: PoseFrame, reference: PoseFrame) -> list[tuple[float, float]]:
    out = []
    for p, c in BONES:
        if min(pose.body[p, 2], pose.body[c, 2], reference.body[p, 2], reference.body[c, 2]) > VISIBLE:
            out.append((float(np.linalg.norm(pose.body[c, :2] - pose.body[p, :2])),
                        float(np.linalg.norm(reference.body[c, :2] - reference.body[p, :2]))))
    return out


def test_bones_on_a_real_clip_takes_the_reference_proportions(clip_and_reference):
    path, reference = clip_and_reference
    # face="driver": the head bones keep the reference's lengths exactly (a retargeted face re-derives the eyes
    # and ears from the photo's face shape plus the driver's expression; tests/motion/test_retarget.py).
    prepared = prepare_motion(path, reference, AlignmentOptions("bones", smoothing=False, face="driver"))
    assert (prepared.width, prepared.height) == (160, 224)
    assert prepared.reference_pose is not None and prepared.reference_pose.has_person
    assert len(prepared.poses) == len(prepared.clip.poses) == 4
    for pose in prepared.poses:
        pairs = _lengths(pose, prepared.reference_pose)
        assert len(pairs) >= 5
        for aligned, ref in pairs:
            assert aligned == pytest.approx(ref, abs=1.0)
    images = list(prepared.pose_images())
    assert len(images) == 4 and images[0].shape == (224, 160, 3) and images[0].any()


def test_global_on_a_real_clip_lands_on_the_reference(clip_and_reference, tmp_path):
    # A still clip of the photo, zoomed out and shifted: one global scale and offset maps it onto the photo.
    _, reference = clip_and_reference
    path, _ = write_transform_video(tmp_path / "still.mp4", size=192, transforms=[(0.0, 0.7, 20.0, 10.0)] * 3)
    prepared = prepare_motion(path, reference, AlignmentOptions("global", smoothing=False))
    ref = prepared.reference_pose
    for pose in prepared.poses:
        # Head and neck (mediapipe's guesses for points near the crop's edge, shoulders included, are looser;
        # the neck is the shoulders' mid-point, so it gets a looser bound than the face-derived head points).
        # The shoulders are moved up the torso (COCO's convention, ``landmark_convention``), whose lower end is
        # mediapipe's guess of the hips at the photo's edge: up to 20 px apart between photo and clip here, so
        # the neck's bound grows by that share of 20 px.
        neck_bound = 9.0 + SHOULDER_ALONG_TORSO * 20.0
        for i in (0, 1, 14, 15, 16, 17):
            assert min(pose.body[i, 2], ref.body[i, 2]) > VISIBLE
            assert np.linalg.norm(pose.body[i, :2] - ref.body[i, :2]) < (neck_bound if i == 1 else 5.0), i
    # The fitted scale undoes the zoom: frame (192/512 × 0.7) -> reference (224/512).
    ratio = np.linalg.norm(prepared.poses[0].body[16, :2] - prepared.poses[0].body[17, :2]) / np.linalg.norm(
        prepared.clip.poses[0].body[16, :2] - prepared.clip.poses[0].body[17, :2])
    assert ratio == pytest.approx((224 / 512) / (192 / 512 * 0.7), rel=0.08)


def test_face_boxes_follow_the_aligned_face_points(clip_and_reference):
    path, reference = clip_and_reference
    prepared = prepare_motion(path, reference, AlignmentOptions("bones"))
    for pose, box in zip(prepared.poses, prepared.face_boxes, strict=True):
        assert box is not None and pose.face_box == box
        assert box == face_box_from_pose(pose, prepared.width, prepared.height)


def test_the_reference_pose_is_the_photo_pose_in_output_pixels():
    photo = astronaut()
    reference, matrix = fit_to_size(photo, 256, 256)
    pose = detect_pose(reference)
    full = detect_pose(photo)
    both = (pose.body[:, 2] > VISIBLE) & (full.body[:, 2] > VISIBLE)
    mapped = full.body[:, :2] @ matrix[:, :2].T + matrix[:, 2]
    assert both.sum() >= 6
    assert np.median(np.linalg.norm(mapped[both] - pose.body[both, :2], axis=1)) < 4.0


def _person(x: float, size: float, score: float = 0.9) -> PoseFrame:
    pose = PoseFrame()
    pose.body[:, 0] = x + np.linspace(0, size, 18)
    pose.body[:, 1] = 50 + np.linspace(0, 2 * size, 18)
    pose.body[:, 2] = score
    return pose


def test_tracking_picks_the_main_person_then_follows_them():
    big, small = _person(10, 100), _person(300, 40)
    assert select_person([small, big], None) is big
    # Next frame: the followed person shrinks (walks away) while another comes close; overlap wins.
    moved_big = _person(15, 60)
    other = _person(200, 120)
    assert select_person([other, moved_big], big) is moved_big
    assert select_person([PoseFrame()], big) is None
    assert select_person([], None) is None
