"""The warp engine's parts: spline, fold check, missing keypoints, smoothing, background fill, engine."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from studio.errors import InputError
from studio.motion.types import PoseFrame
from studio.render.engine import RenderInputs, engine_class
from studio.render.warp_engine import WarpEngine
from studio.request.render_request import RenderRequest
from studio.system.progress import Cancelled, CancelToken, Progress
from studio.warp import (
    ControlTracker,
    PersonWarper,
    ThinPlateSpline,
    WarpReference,
    WarpSettings,
    fill_background,
    jacobian_determinant,
    solve_backward_map,
)
from tests.studio.warp.test_warp_support import synthetic_person, translated


def _inputs(image: np.ndarray, ref_pose: PoseFrame | None, poses: list[PoseFrame], **fields) -> RenderInputs:
    h, w = image.shape[:2]
    return RenderInputs(request=RenderRequest(reference="", motion="", engine="warp"), width=w, height=h,
                        reference=image, reference_pose=ref_pose, poses=poses,
                        pose_images=[np.zeros_like(image) for _ in poses], fps=25.0, **fields)


def _synthetic_reference() -> tuple[WarpReference, PoseFrame]:
    image, matte, pose = synthetic_person()
    return WarpReference.prepare(image, pose, matte=matte), pose


def test_spline_reproduces_an_affine_motion_exactly():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 256, (30, 2))
    a = np.array([[1.1, 0.2], [-0.1, 0.9]])
    dst = src @ a.T + [7.0, -3.0]
    tps = ThinPlateSpline.fit(src, dst, regularization=1e-3, scale=256)
    probe = rng.uniform(0, 256, (50, 2))
    np.testing.assert_allclose(tps(probe), probe @ a.T + [7.0, -3.0], atol=1e-6)


def test_translated_pose_gives_a_translated_map():
    ref, pose = _synthetic_reference()
    warper = PersonWarper(ref, settings=WarpSettings(smoothing=False))
    full = warper.backward_map(translated(pose, 12.0, -5.0))
    ys, xs = np.mgrid[0:ref.height, 0:ref.width]
    # Backward map: output pixel p reads the photo at p - (12, -5).
    np.testing.assert_allclose(full[..., 0], xs - 12.0, atol=0.05)
    np.testing.assert_allclose(full[..., 1], ys + 5.0, atol=0.05)
    frame = warper.composite(full)
    image = ref.image
    np.testing.assert_array_equal(frame[100:150, 140:150], image[105:155, 128:138])


def _wild_pose(pose: PoseFrame) -> PoseFrame:
    """Arms crossed over the chest and the head pulled down onto the neck: a spline through it would fold."""
    out = pose.copy()
    out.body[4, :2] = pose.body[6, :2] + [10, 5]  # R-wrist past the L-elbow
    out.body[7, :2] = pose.body[3, :2] - [10, -5]  # L-wrist past the R-elbow
    out.body[3, :2] = pose.body[5, :2] + [0, 20]
    out.body[6, :2] = pose.body[2, :2] + [0, 20]
    out.body[0, :2] = pose.body[1, :2] + [0, 4]
    return out


def test_no_folds_on_the_person_even_for_crossing_limbs():
    ref, pose = _synthetic_reference()
    wild = _wild_pose(pose)
    warper = PersonWarper(ref, settings=WarpSettings(smoothing=False))
    # A plain (near-)interpolating spline through these points does fold on the person ...
    from studio.warp.controls import densify

    ref_pts, tgt_pts = densify(warper.tracker.indices, warper.tracker.reference,
                               warper.tracker.targets(wild))
    loose = solve_backward_map(tgt_pts, ref_pts, ref.width, ref.height, retries=0, person=ref.matte)
    assert loose.min_det < 0, "the test pose is not hard enough to fold an unchecked spline"
    # ... the engine's maps do not: every layer's full-resolution Jacobian is positive where it lands.
    maps = warper.maps(wild)
    for layer, full, bmap in zip(warper.layers, maps, warper.last_maps, strict=True):
        det = jacobian_determinant(full)
        import cv2

        landed = cv2.remap(layer.matte, full, None, cv2.INTER_LINEAR)[:-1, :-1] > 0.5
        assert landed.sum() > 200, layer.name
        assert det[landed].min() > 0, layer.name
        assert bmap.min_det > 0
    # The arms are layers of their own, so they reach the crossed pose in full.
    names = [layer.name for layer in warper.layers]
    assert names == ["body", "right_leg", "left_leg", "right_arm", "left_arm"]
    assert all(b.bend == 1.0 for b in warper.last_maps[3:])


def test_single_layer_mode_softens_the_spline_instead_of_folding():
    ref, pose = _synthetic_reference()
    warper = PersonWarper(ref, settings=WarpSettings(smoothing=False, layers=False))
    full = warper.backward_map(_wild_pose(pose))
    det = jacobian_determinant(full)
    on_person = warper.warped_matte(full)[:-1, :-1] > 0.5
    assert det[on_person].min() > 0
    assert 0.0 < warper.last_map.bend < 1.0  # some articulation kept, not just the affine fallback


def test_missing_keypoints_fall_back_to_the_last_good_ones():
    _, _, pose = synthetic_person()
    tracker = ControlTracker(pose)
    first = tracker.targets(translated(pose, 10, 0))
    lost = translated(pose, 20, 0)
    lost.body[4, 2] = 0.0  # R-wrist missing in this frame
    second = tracker.targets(lost)
    wrist = int(np.flatnonzero(tracker.indices == 4)[0])
    np.testing.assert_allclose(second[wrist], first[wrist])
    others = np.arange(len(second)) != wrist
    np.testing.assert_allclose(second[others], pose.body[tracker.indices[others], :2] + [20, 0], atol=1e-4)


def test_keypoints_never_seen_follow_the_body():
    _, _, pose = synthetic_person()
    tracker = ControlTracker(pose)
    driving = translated(pose, -8, 6)
    driving.body[[3, 4], 2] = 0.0  # R-elbow and R-wrist missing from the start
    targets = tracker.targets(driving)
    np.testing.assert_allclose(targets, pose.body[tracker.indices, :2] + [-8, 6], atol=1e-3)


def test_a_face_the_driver_lacks_stays_on_the_head_when_the_arms_go_up():
    # The photo has face points, the driving skeleton none (a drawn dance, a pose video): the face must follow the
    # head points, not a similarity of the whole body, which arms raised over the head shrink and turn (the sample
    # dance made the photo's head a third of its size). Head still, arms up: the face stays where it was.
    _, _, pose = synthetic_person()
    from studio.warp.controls import FACE_POINTS

    nose, eyes = pose.body[0, :2], pose.body[[14, 15], :2].mean(0)
    face = np.zeros((68, 3), np.float32)
    for i, k in enumerate(FACE_POINTS):  # a small face around the nose
        angle = 2 * np.pi * i / len(FACE_POINTS)
        face[k] = (nose[0] + 9 * np.cos(angle), (nose[1] + eyes[1]) / 2 + 12 * np.sin(angle), 1.0)
    reference = pose.copy()
    reference.face = face
    tracker = ControlTracker(reference)
    driving = pose.copy()  # no face points
    driving.body[[3, 4], :2] = [[80, 30], [100, 0]]  # the right arm straight up
    driving.body[[6, 7], :2] = [[140, 40], [120, 55]]  # the left hand folded over the face
    targets = tracker.targets(driving)
    is_face = tracker.indices >= 18
    assert is_face.sum() == len(FACE_POINTS)
    np.testing.assert_allclose(targets[is_face], reference.face[list(FACE_POINTS), :2], atol=1e-3)
    # and the warp's head transform is the identity: the photo's head keeps its size
    from studio.warp.parts import Rig, similarity_scale

    rig = Rig(tracker.indices, tracker.reference, None)
    assert similarity_scale(rig.head_similarity(targets)) == pytest.approx(1.0, abs=1e-6)


def test_the_head_keeps_its_size_when_an_ear_crosses_or_the_eyes_squeeze():
    # A turning head carries an ear towards the middle of the picture, and a read-back pose video may swap points:
    # the head's similarity leaves the ears out and never strays more than HEAD_SCALE_RANGE from the torso's.
    from studio.warp.parts import HEAD_SCALE_RANGE, Rig, similarity_scale

    _, _, pose = synthetic_person()
    tracker = ControlTracker(pose)
    rig = Rig(tracker.indices, tracker.reference, None)
    turned = pose.copy()
    turned.body[16, :2] = turned.body[[14, 15], :2].mean(0)  # the right ear between the eyes
    turned.body[17, 2] = 0.0  # the left ear hidden
    assert similarity_scale(rig.head_similarity(ControlTracker(pose).targets(turned))) == pytest.approx(1.0)
    squeezed = pose.copy()
    eyes = squeezed.body[[14, 15], :2]
    squeezed.body[[14, 15], :2] = eyes.mean(0) + 0.2 * (eyes - eyes.mean(0))  # a detector's collapse
    squeezed.body[0, :2] = eyes.mean(0) + [0, 2]
    scale = similarity_scale(rig.head_similarity(ControlTracker(pose).targets(squeezed)))
    assert scale == pytest.approx(HEAD_SCALE_RANGE[0])


def test_frame_without_a_person_holds_the_last_pose():
    ref, pose = _synthetic_reference()
    warper = PersonWarper(ref, settings=WarpSettings(smoothing=False))
    a = warper.warp(translated(pose, 15, 3))
    b = warper.warp(PoseFrame())  # nobody detected in this driving frame
    c = warper.warp(None)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_smoothing_reduces_jitter_without_lag_on_steady_motion():
    ref, pose = _synthetic_reference()
    rng = np.random.default_rng(1)
    noisy = [translated(pose, *rng.normal(0, 1.5, 2)) for _ in range(40)]

    raw = PersonWarper(ref, fps=25, settings=WarpSettings(smoothing=False))
    raw_maps = [raw.backward_map(p)[int(pose.body[0, 1]), int(pose.body[0, 0])] for p in noisy]
    smooth = PersonWarper(ref, fps=25)
    smooth_maps = [smooth.backward_map(p)[int(pose.body[0, 1]), int(pose.body[0, 0])] for p in noisy]
    raw_jitter = np.diff(np.array(raw_maps), axis=0).std()
    smooth_jitter = np.diff(np.array(smooth_maps), axis=0).std()
    assert smooth_jitter < 0.7 * raw_jitter

    # Steady motion of 4 px per frame: after a few frames the smoothed map trails by under 1.5 px.
    moving = PersonWarper(ref, fps=25)
    x, y = int(pose.body[0, 0]), int(pose.body[0, 1])
    for i in range(20):
        m = moving.backward_map(translated(pose, 4.0 * i, 0.0))
    # The output pixel at (x + 76, y) should read the photo at (x, y) when the pose moved by 76 px.
    assert abs(m[y, x + 76, 0] - x) < 1.5


def test_fill_background_removes_the_person():
    image, matte, _ = synthetic_person()
    filled = fill_background(image, matte)
    inside = matte > 0.5
    red = (filled[..., 0].astype(int) - filled[..., 2].astype(int))[inside]
    assert np.median(red) < 20, "the person's red is still there"
    # The fill follows the grey gradient around the hole, within a few grey levels on average.
    grey = np.broadcast_to(np.linspace(40, 200, 256)[None, :], matte.shape)
    assert np.abs(filled[..., 1].astype(float) - grey)[inside].mean() < 12
    # Away from the hole the photo is untouched.
    import cv2

    far = cv2.dilate(inside.astype(np.uint8), np.ones((41, 41), np.uint8)) == 0
    assert far.sum() > 10000
    np.testing.assert_array_equal(filled[far], image[far])


def test_moved_person_leaves_no_hole():
    image, matte, pose = synthetic_person()
    engine = WarpEngine(settings=WarpSettings(smoothing=False))
    inputs = _inputs(image, pose, [translated(pose, 90, 0)])
    ref = WarpReference.prepare(image, pose, matte=matte)
    engine.prepare = lambda img, p: ref  # use the drawn matte instead of mediapipe's
    (frame,) = list(engine.render(inputs, lambda p: None, CancelToken()))
    vacated = (matte > 0.5)
    vacated[:, 110:] = False  # the left part of the person, now empty
    red = frame[..., 0].astype(int) - frame[..., 2].astype(int)
    assert vacated.sum() > 1000
    assert np.median(red[vacated]) < 20
    assert (frame[vacated].sum(axis=1) > 60).all(), "black hole where the person was"
    # And the person arrived at its new place.
    moved = np.zeros_like(vacated)
    moved[:, 90:] = matte[:, :-90] > 0.9
    assert np.median(red[moved]) > 150


def test_engine_yields_frames_reports_progress_and_cancels_promptly():
    image, matte, pose = synthetic_person()
    engine = WarpEngine()
    ref = WarpReference.prepare(image, pose, matte=matte)
    engine.prepare = lambda img, p: ref
    poses = [translated(pose, i, 0) for i in range(10)]
    events: list[Progress] = []
    token = CancelToken()
    frames = []
    with pytest.raises(Cancelled):
        for frame in engine.render(_inputs(image, pose, poses), events.append, token):
            frames.append(frame)
            if len(frames) == 3:
                token.cancel()
    assert len(frames) == 3
    assert all(f.shape == image.shape and f.dtype == np.uint8 for f in frames)
    work = [e for e in events if e.phase == "denoise"]
    assert work[-1].current == 3 and work[-1].total == 10
    assert events[0].phase == "load"


def test_engine_is_registered_and_named():
    assert engine_class("warp") is WarpEngine
    assert WarpEngine().name == "warp"


def test_clear_errors():
    image, _, pose = synthetic_person()
    engine = WarpEngine()
    with pytest.raises(InputError, match="no body keypoints"):
        list(engine.render(_inputs(image, pose, [PoseFrame(), PoseFrame()]), lambda p: None, CancelToken()))
    with pytest.raises(InputError, match="RGB uint8"):
        bad = _inputs(image, pose, [pose])
        bad.width = 100
        list(engine.render(bad, lambda p: None, CancelToken()))
    with pytest.raises(InputError, match="no person was found in the reference photo"):
        WarpReference.prepare(image, PoseFrame())
    with pytest.raises(InputError, match="unknown warp setting"):
        engine.prepare = lambda img, p: WarpReference.prepare(img, p, matte=np.ones(img.shape[:2], np.float32))
        list(engine.render(_inputs(image, pose, [pose], warp_overrides={"bogus": 1}), lambda p: None, CancelToken()))


def test_upsampled_map_follows_the_spline():
    ref, pose = _synthetic_reference()
    target = pose.copy()  # a bend of the body: head tilted, hips shifted
    target.body[[0, 14, 15, 16, 17], 0] += 10
    target.body[[8, 11], 0] -= 8
    # The single-piece mode: one spline through every control point (the layered mode's torso is one too).
    warper = PersonWarper(ref, settings=WarpSettings(smoothing=False, layers=False))
    full = warper.backward_map(target)
    assert warper.last_map.bend == 1.0
    grid = warper.last_map.grid
    assert full.shape == (ref.height, ref.width, 2) and full.dtype == np.float32
    np.testing.assert_allclose(full[0, 0], grid[0, 0], atol=1e-4)
    np.testing.assert_allclose(full[-1, -1], grid[-1, -1], atol=1e-4)
    # Against the spline evaluated at every pixel: the coarse grid loses well under a pixel on the person.
    from studio.warp.controls import densify

    warper.tracker.reset()
    c = warper.layers[0].controls
    ref_pts, tgt_pts = densify(warper.tracker.indices[c], warper.tracker.reference[c],
                               warper.tracker.targets(target)[c])
    tps = ThinPlateSpline.fit(tgt_pts, ref_pts, regularization=warper.settings.regularization,
                              scale=max(ref.width, ref.height))
    from studio.warp.tps import fit_affine

    aff = fit_affine(tgt_pts, ref_pts)
    bend = warper.last_map.bend
    import cv2

    ys, xs = np.nonzero(cv2.remap(warper.layers[0].matte, full, None, cv2.INTER_LINEAR) > 0.5)
    pick = np.random.default_rng(0).choice(len(xs), 300, replace=False)
    probe = np.stack([xs[pick], ys[pick]], 1).astype(float)
    lin = probe @ aff[:2, :2].T + aff[:, 2]
    exact = lin + bend * (tps(probe) - lin)
    err = np.hypot(*(full[ys[pick], xs[pick]] - exact).T)
    assert np.median(err) < 0.1 and err.max() < 0.5


def test_warp_path_imports_neither_torch_nor_qt():
    code = (
        "import sys, numpy as np\n"
        "from studio.render.warp_engine import WarpEngine\n"
        "from studio.warp import person_matte\n"
        "person_matte(np.zeros((64, 64, 3), np.uint8))\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6', 'diffusers')]\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def _rotate_about(points: np.ndarray, center: np.ndarray, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return center + (points - center) @ np.array([[c, s], [-s, c]])


def test_an_arm_swings_in_full_on_its_own_layer():
    ref, pose = _synthetic_reference()
    names = [layer.name for layer in ref.layers()]
    assert names == ["body", "right_leg", "left_leg", "right_arm", "left_arm"]
    right = ref.layers()[3]
    # The right arm layer holds the arm and not the trunk or the other arm.
    assert right.matte[int(pose.body[3, 1]), int(pose.body[3, 0])] > 0.9
    assert right.matte[120, 128] == 0 and right.matte[int(pose.body[6, 1]), int(pose.body[6, 0])] == 0

    target = pose.copy()
    target.body[[3, 4], :2] = _rotate_about(pose.body[[3, 4], :2], pose.body[2, :2], 1.2)  # ~70° outwards
    # No dead zone for keypoint noise: the layer must land exactly on exact targets.
    warper = PersonWarper(ref, settings=WarpSettings(smoothing=False, body_noise=0.0))
    maps = warper.maps(target)
    assert warper.last_maps[3].bend == 1.0
    arm_map = maps[3]
    for k in (3, 4):  # the elbow and the wrist land on their targets
        x, y = target.body[k, :2]
        np.testing.assert_allclose(arm_map[int(round(y)), int(round(x))], pose.body[k, :2], atol=1.0)
    # The frame shows the arm's red at the target elbow, and background where the elbow was.
    frame = warper.composite(maps)
    tx, ty = np.round(target.body[3, :2]).astype(int)
    assert frame[ty, tx, 0] > 180 and frame[ty, tx, 2] < 80
    ox, oy = np.round(pose.body[3, :2]).astype(int)
    assert abs(int(frame[oy, ox, 0]) - int(frame[oy, ox, 2])) < 30  # grey background fill, not red
    # No half-transparent outline of the arm stays behind: where the drawn arm was (edges included), away
    # from the trunk and from where the arm now lies, there is no reddish pixel.
    import cv2

    old_arm = np.zeros(right.matte.shape, np.uint8)
    mid_upper = (pose.body[2, :2] + pose.body[3, :2]) / 2  # from mid upper arm down: clear of the shoulder
    for a, b in ((mid_upper, pose.body[3, :2]), (pose.body[3, :2], pose.body[4, :2])):
        cv2.line(old_arm, tuple(int(v) for v in a), tuple(int(v) for v in b), 1, 20)
    trunk = np.zeros_like(old_arm)
    cv2.fillConvexPoly(trunk, pose.body[[2, 5, 11, 8], :2].astype(np.int32), 1)
    trunk = cv2.dilate(trunk, np.ones((15, 15), np.uint8))
    arm_now = cv2.remap(right.matte, arm_map, None, cv2.INTER_LINEAR) > 0.01
    vacated = (old_arm > 0) & (trunk == 0) & ~cv2.dilate(arm_now.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert vacated.sum() > 300
    redness = frame[..., 0].astype(int) - frame[..., 2].astype(int)
    assert redness[vacated].max() < 40


def test_engine_reuses_the_prepared_reference(monkeypatch):
    image, matte, pose = synthetic_person()
    import studio.warp.warper as warper_module

    calls = []
    monkeypatch.setattr(warper_module, "person_matte", lambda img: calls.append(1) or matte)
    engine = WarpEngine()
    inputs = _inputs(image, pose, [translated(pose, 5, 0)])
    first = list(engine.render(inputs, lambda p: None, CancelToken()))
    second = list(engine.render(inputs, lambda p: None, CancelToken()))
    assert len(calls) == 1
    np.testing.assert_array_equal(first[0], second[0])


def test_legs_cross_without_folds():
    ref, pose = _synthetic_reference()
    target = pose.copy()  # a crossing step: the right leg swings across the left one
    target.body[[9, 10], :2] = _rotate_about(pose.body[[9, 10], :2], pose.body[8, :2], -0.5)
    target.body[[12, 13], :2] = _rotate_about(pose.body[[12, 13], :2], pose.body[11, :2], 0.3)
    warper = PersonWarper(ref, settings=WarpSettings(smoothing=False, body_noise=0.0))
    maps = warper.maps(target)
    import cv2

    for layer, full in zip(warper.layers, maps, strict=True):
        landed = cv2.remap(layer.matte, full, None, cv2.INTER_LINEAR)[:-1, :-1] > 0.5
        assert jacobian_determinant(full)[landed].min() > 0, layer.name
    assert [b.bend for b in warper.last_maps[1:3]] == [1.0, 1.0]
    x, y = target.body[10, :2]
    np.testing.assert_allclose(maps[1][int(round(y)), int(round(x))], pose.body[10, :2], atol=1.0)


def test_person_matte_and_fill_on_the_astronaut():
    from studio.warp import person_matte
    from tests.studio.warp.test_warp_support import astronaut

    image = astronaut()
    matte = person_matte(image)
    assert matte.shape == image.shape[:2] and matte.dtype == np.float32
    assert 0.0 <= matte.min() and matte.max() <= 1.0
    assert matte[130, 225] > 0.9 and matte[260, 200] > 0.9  # face, chest
    assert matte[20, 20] == 0 and matte[20, 490] == 0  # sky corners
    assert 0.3 < (matte > 0.5).mean() < 0.8
    filled = fill_background(image, matte)

    def orange(img):
        r, g, b = (img[..., i].astype(int) for i in range(3))
        return (r > 150) & (b < 110) & (r - g > 60)

    person = matte > 0.5
    assert orange(image)[person].mean() > 0.25  # the suit
    assert orange(filled)[person].mean() < 0.05  # gone


def test_region_limited_warp_equals_the_full_composite():
    ref, pose = _synthetic_reference()
    target = pose.copy()
    target.body[[3, 4], :2] = _rotate_about(pose.body[[3, 4], :2], pose.body[2, :2], 0.8)
    target.body[:, 0] += 7
    fast = PersonWarper(ref, settings=WarpSettings(smoothing=False)).warp(target)
    slow_warper = PersonWarper(ref, settings=WarpSettings(smoothing=False))
    maps = slow_warper.maps(target)
    slow_warper.last_rois = []  # forget the regions: composite every layer over the whole frame
    slow = slow_warper.composite(maps)
    assert np.abs(fast.astype(int) - slow).max() <= 1


def test_matte_falls_back_to_the_skeleton_when_segmentation_misses(monkeypatch):
    import studio.warp.warper as warper_module

    image, drawn, pose = synthetic_person()
    monkeypatch.setattr(warper_module, "person_matte", lambda img: np.zeros(img.shape[:2], np.float32))
    ref = WarpReference.prepare(image, pose)
    assert ref.notes and "skeleton" in ref.notes[0]
    visible = pose.body[:, 2] > 0.3
    xs, ys = pose.body[visible, 0].astype(int), pose.body[visible, 1].astype(int)
    assert (ref.matte[ys, xs] > 0.5).all()
    assert (ref.matte > 0.5).mean() < 3 * (drawn > 0.5).mean()  # roughly the person, not the frame
    # The engine passes the note on to the renderer's warnings (shown to the user, saved in the sidecar).
    engine = WarpEngine()
    warnings: list[str] = []
    inputs = _inputs(image, pose, [translated(pose, 10, 0)], warnings=warnings)
    frames = list(engine.render(inputs, lambda p: None, CancelToken()))
    assert len(frames) == 1 and len(warnings) == 1 and "skeleton" in warnings[0]
    # A good segmentation needs no fallback.
    monkeypatch.setattr(warper_module, "person_matte", lambda img: drawn)
    assert WarpReference.prepare(image, pose).notes == []


def test_a_bent_elbow_keeps_the_arm_in_one_piece():
    ref, pose = _synthetic_reference()
    target = pose.copy()
    target.body[[4], :2] = _rotate_about(pose.body[[4], :2], pose.body[3, :2], 0.9)  # forearm bends ~50°
    warper = PersonWarper(ref, settings=WarpSettings(smoothing=False, body_noise=0.0))
    maps = warper.maps(target)
    right = [layer.name for layer in warper.layers].index("right_arm")
    arm_map, arm = maps[right], warper.layers[right]
    x, y = np.round(target.body[4, :2]).astype(int)  # the wrist lands on its target ...
    np.testing.assert_allclose(arm_map[y, x], pose.body[4, :2], atol=1.0)
    mid = np.round((pose.body[2, :2] + pose.body[3, :2]) / 2).astype(int)  # ... the upper arm stays put
    np.testing.assert_allclose(arm_map[mid[1], mid[0]], mid, atol=0.5)
    import cv2

    # The bent arm is whole: opaque all along both target bones, the elbow included, and nowhere folded.
    alpha = cv2.remap(arm.matte, arm_map, None, cv2.INTER_LINEAR)
    for a, b in ((2, 3), (3, 4)):
        for t in np.linspace(0.3, 1.0 if b == 3 else 0.9, 8):
            px, py = np.round(target.body[a, :2] + t * (target.body[b, :2] - target.body[a, :2])).astype(int)
            assert alpha[py, px] > 0.9, f"gap in the arm at {(px, py)}"
    landed = alpha[:-1, :-1] > 0.5
    assert jacobian_determinant(arm_map)[landed].min() > 0


def test_the_head_turns_as_one_piece_and_the_trunk_stays():
    ref, pose = _synthetic_reference()
    head = [0, 14, 15, 16, 17]
    target = pose.copy()
    target.body[head, :2] = _rotate_about(pose.body[head, :2], pose.body[1, :2], 0.25)
    # body_noise=0: the trunk follows its own (unmoved) keypoints exactly, not the head's motion.
    warper = PersonWarper(ref, settings=WarpSettings(smoothing=False, body_noise=0.0))
    body = warper.maps(target)[0]
    # Every head pixel reads the photo through the same rotation (the head is not bent into a new shape).
    for k in head:
        x, y = target.body[k, :2]
        np.testing.assert_allclose(body[int(round(y)), int(round(x))],
                                   _rotate_about(np.array([[round(x), round(y)]], float), pose.body[1, :2], -0.25)[0],
                                   atol=0.6)
    # The chest does not move.
    cx, cy = np.round(pose.body[[2, 5, 8, 11], :2].mean(0)).astype(int)
    np.testing.assert_allclose(body[cy, cx], (cx, cy), atol=0.5)


def test_keypoint_noise_under_the_dead_zone_does_not_move_the_body():
    ref, pose = _synthetic_reference()
    warper = PersonWarper(ref, settings=WarpSettings(smoothing=False))
    rig = warper.rig
    exact = translated(pose, 9.0, -4.0)
    noisy = exact.copy()
    rng = np.random.default_rng(3)
    body = [1, 2, 3, 5, 6, 8, 11]
    noisy.body[body, :2] += rng.uniform(-5, 5, (len(body), 2))  # a pose model's wobble: ~5 px, under tau
    targets = rig.steady(warper.tracker.targets(noisy))
    np.testing.assert_allclose(targets, warper.tracker.reference + [9.0, -4.0], atol=1e-6)
    # A real move (the arm swung far out) still comes through, shortened by the dead zone only.
    swing = exact.copy()
    swing.body[[3, 4], :2] = _rotate_about(exact.body[[3, 4], :2], exact.body[2, :2], 1.2)
    warper.tracker.reset()
    moved = rig.steady(warper.tracker.targets(swing))
    wrist = int(np.flatnonzero(warper.tracker.indices == 4)[0])
    shoulder_width = float(np.hypot(*(pose.body[2, :2] - pose.body[5, :2])))
    miss = float(np.hypot(*(moved[wrist] - swing.body[4, :2])))
    assert miss == pytest.approx(warper.settings.body_noise * shoulder_width, rel=1e-3)


def test_an_arm_cut_by_the_frame_continues_only_a_little_past_the_edge():
    # An arm touching the photo's edge repeats outwards (so it does not end in a straight cut when it moves
    # inwards) but only near its bones: a slab as wide as the margin would swing across the head when raised.
    from studio.warp.layers import build_layers

    size = 256
    image = np.full((size, size, 3), 90, np.uint8)
    matte = np.zeros((size, size), np.float32)
    matte[60:256, 0:48] = 1.0  # the right arm, against the left edge
    matte[60:256, 48:180] = 1.0  # the trunk
    ids = np.array([1, 2, 3, 4, 5, 8, 11])
    points = np.array([[112, 64], [24, 68], [20, 160], [24, 240], [176, 68], [60, 252], [160, 252]], np.float64)
    layers = {layer.name: layer for layer in build_layers(image, matte, ids, points)}
    arm = layers["right_arm"]
    p = arm.pad
    reach = 0.6 * np.hypot(*(points[2] - points[1]))  # 0.6 × the upper arm: 55 px
    assert p == 64 and 50 < reach < 60
    assert arm.alpha[p + 120, p - 20] > 200  # 20 px past the edge, 40 px from the upper arm: the sleeve goes on
    assert arm.alpha[p + 120, : p - 40].max() == 0  # more than 60 px from the bones: nothing
    assert arm.alpha[: p - 10, :].max() == 0  # beyond the top edge, above the shoulder: nothing
    # the body layer still continues past the bottom edge (a trunk cut by the frame)
    body = layers["body"]
    assert body.alpha[body.pad + size + 20, body.pad + 112] > 200
