"""Closed loop, offline: a skeleton moved by a known translation → warp render → mp4 → extract the motion
again (engineer C's mediapipe backend) → the re-extracted keypoints lie within a few pixels of the targets.

Which keypoints: the face points and the head's body points (nose, eyes, ears). On this photo mediapipe's
shoulder and elbow estimates move by 5–30 px even when the *whole image* is shifted exactly (measured while
writing this test), so they cannot check a warp to a few pixels; they are not asserted.
"""

from __future__ import annotations

import numpy as np
import pytest

from studio.render.engine import RenderInputs
from studio.render.warp_engine import WarpEngine
from studio.request.render_request import RenderRequest
from studio.system.progress import CancelToken
from studio.warp import WarpSettings
from tests.studio.warp.test_warp_support import astronaut_on_canvas, translated

HEAD = [0, 14, 15, 16, 17]
RADIUS = 18.0


@pytest.fixture(scope="module")
def reference():
    motion = pytest.importorskip("studio.motion")
    if not hasattr(motion, "extract_poses"):
        pytest.skip("engineer C's motion extraction (studio.motion.extract_poses) is not installed")
    image = astronaut_on_canvas()
    pose = motion.detect_pose(image, backend="mediapipe")
    assert pose is not None and (pose.body[HEAD, 2] > 0.3).all()
    return image, pose


def _roundtrip(tmp_path, image, pose, settings: WarpSettings):
    import imageio.v2 as iio

    from studio.motion import extract_poses

    # The skeleton circles around its start, RADIUS px away in every frame (so a warp that does nothing fails).
    angles = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    targets = [translated(pose, RADIUS * np.cos(a), RADIUS * np.sin(a)) for a in angles]
    inputs = RenderInputs(request=RenderRequest(reference="", motion="", engine="warp"), width=512, height=512, reference=image, reference_pose=pose,
                          poses=targets, pose_images=[], fps=25.0)
    frames = list(WarpEngine(settings=settings).render(inputs, lambda p: None, CancelToken()))
    out = tmp_path / "warp.mp4"
    writer = iio.get_writer(out, fps=25, codec="libx264", pixelformat="yuv420p",
                            ffmpeg_params=["-crf", "18"], macro_block_size=1)
    for frame in frames:
        writer.append_data(frame)
    writer.close()
    clip = extract_poses(out, backend="mediapipe", use_cache=False)
    assert len(clip.poses) == len(targets)
    return targets, clip.poses


def _errors(target, got):
    head = np.hypot(*(got.body[HEAD, :2] - target.body[HEAD, :2]).T)
    seen = (target.face[:, 2] > 0.3) & (got.face[:, 2] > 0.3)
    face = np.hypot(*(got.face[seen, :2] - target.face[seen, :2]).T)
    return head, face


@pytest.mark.parametrize("smoothing, face_tol", [(True, 4.0), (False, 2.0)])
def test_reextracted_keypoints_follow_the_targets(tmp_path, reference, smoothing, face_tol):
    image, pose = reference
    targets, got = _roundtrip(tmp_path, image, pose, WarpSettings(smoothing=smoothing))
    head_means = []
    for i, (t, g) in enumerate(zip(targets, got, strict=True)):
        assert g is not None and g.has_person, f"frame {i}: nobody found in the rendered frame"
        head, face = _errors(t, g)
        if (pose.face[:, 2] > 0.3).sum() >= 20:
            assert face.size >= 20, f"frame {i}: face lost"
            assert np.median(face) <= face_tol, f"frame {i}: face points off by {np.median(face):.1f} px"
        assert np.median(head) <= 8.0, f"frame {i}: head keypoints off by {np.round(head, 1)} px"
        head_means.append(head.mean())
    # Far better than not moving at all (that would be RADIUS px everywhere).
    assert np.mean(head_means) <= 5.0
