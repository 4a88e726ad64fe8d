"""Pose videos in (issue 12): a rendered skeleton clip is recognised and read back into keypoints."""

from __future__ import annotations

import numpy as np
import pytest

from studio.media.video_io import fit_to_size, iter_frames
from studio.motion import draw_pose, extract_poses
from studio.motion.skeleton_video import looks_like_skeleton, read_skeleton
from studio.motion.types import VISIBLE
from tests.generated_media import astronaut, dance_poses, write_astronaut_photo, write_video

SIZE = 512


@pytest.fixture(scope="module")
def skeleton_clip(tmp_path_factory):
    """8 frames of the keyframed dance (known keypoints), drawn in the DWPose style and encoded as H.264."""
    poses = dance_poses(32, SIZE, SIZE)[::4]
    folder = tmp_path_factory.mktemp("skeleton")
    return write_video(folder / "dwpose.mp4", [draw_pose(p, SIZE, SIZE) for p in poses]), poses, folder


def test_skeleton_frames_are_recognised_and_photos_are_not(skeleton_clip):
    path, _, _ = skeleton_clip
    _, frame = next(iter(iter_frames(path)))
    assert looks_like_skeleton(frame)
    assert not looks_like_skeleton(astronaut())
    assert not looks_like_skeleton(np.zeros((64, 64, 3), np.uint8))  # black, but no limbs
    assert read_skeleton(np.zeros((64, 64, 3), np.uint8)) is None


def test_body_joints_are_read_back_from_the_video(skeleton_clip):
    path, truth, _ = skeleton_clip
    clip = extract_poses(path, use_cache=False)  # the default backend: the clip is recognised, not searched
    assert clip.backend == "skeleton" and clip.status == ["detected"] * len(truth)
    errors, drawn, found = [], 0, 0
    for pose, known in zip(clip.poses, truth, strict=True):
        for joint in np.nonzero(known.body[:, 2] > VISIBLE)[0]:
            drawn += 1
            if pose.body[joint, 2] > VISIBLE:
                found += 1
                errors.append(float(np.linalg.norm(pose.body[joint, :2] - known.body[joint, :2])))
    # 2 px at 512 px: the limbs are about 2 px wide after DWPose's 2160 px canvas is scaled down.
    assert found >= 0.9 * drawn
    assert np.median(errors) <= 2.0, np.round(errors, 1)
    assert all(pose.face_box is not None for pose in clip.poses)  # from the white face dots


def test_a_render_runs_from_the_skeleton_clip(skeleton_clip):
    from studio.render.renderer import Renderer
    from studio.request.render_request import RenderRequest

    path, _, folder = skeleton_clip
    photo = write_astronaut_photo(folder / "photo.png", size=160)
    request = RenderRequest(reference=str(photo), motion=str(path), engine="warp", width=96, height=96,
                            face_model="none", seed=1)
    prepared = Renderer().prepare(request)
    poses = prepared.inputs.poses
    assert len(poses) == 8 and all(p.has_person for p in poses)
    assert all(box is not None for box in prepared.inputs.face_boxes)
    result = Renderer().render(request, folder / "out.mp4")
    assert result.path.is_file()
    # Alignment "none": the clip's own frames are the pose images, unchanged (only fitted to the size).
    as_is = Renderer().prepare(request.replace(alignment={"mode": "none"}))
    first = next(iter(iter_frames(path)))[1]
    np.testing.assert_array_equal(as_is.inputs.pose_images[0], fit_to_size(first, 96, 96, mode=request.fit)[0])
