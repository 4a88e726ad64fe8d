"""The independent reference of ``motion_real``: a trial's triangulated 3-D keypoints seen from one camera.

pose2sim's demo trial ships the 3-D keypoints (.trc), the cameras' calibration (converted from the Qualisys
system's) and, per camera, the 2-D keypoints its own detector (OpenPose BODY_25B) found: the input the 3-D
keypoints were triangulated from. Those 2-D keypoints say how well the projected reference fits each view.

On the demo's cam_03 they lie a constant ~(+6.5, +5.6) % of the torso off the projection, 17 px median, where
the other views are 8–11 px: the calibrated pose of that camera does not match the view the 3-D points were
triangulated into (the trial was triangulated with a 15 px reprojection threshold, so cam_03 was mostly left
out). ``refit_camera`` re-estimates each camera's position and orientation (intrinsics as calibrated) from the
reference's own 3-D and 2-D keypoints: the pose that best explains what the reference itself saw in that
view. Nothing of the extractor being judged enters it, and the same rule applies to every camera.

``video_offset`` measures, by optical flow on the video and those same 2-D keypoints, which video frame each
reference frame shows: frame k + 1 in all four views of the demo trial.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

#: Reference marker -> OpenPose-18 index (the 12 body joints judged).
JOINTS = {"RShoulder": 2, "RElbow": 3, "RWrist": 4, "LShoulder": 5, "LElbow": 6, "LWrist": 7,
          "RHip": 8, "RKnee": 9, "RAnkle": 10, "LHip": 11, "LKnee": 12, "LAnkle": 13}
#: pose2sim's 2-D keypoint order (OpenPose BODY_25B), by the .trc's marker names.
BODY_25B = ("Nose", "LEye", "REye", "LEar", "REar", "LShoulder", "RShoulder", "LElbow", "RElbow", "LWrist",
            "RWrist", "LHip", "RHip", "LKnee", "RKnee", "LAnkle", "RAnkle", "Neck", "Head", "LBigToe",
            "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel")
#: The trial's triangulation used 2-D keypoints above this likelihood (its Config.toml,
#: ``likelihood_threshold_triangulation``): the same ones are used here.
LIKELY = 0.3
#: Refitting drops correspondences further than this many times the median residual (wrong detections, a
#: left/right mix-up), but never those within FLOOR_PX.
OUTLIER, FLOOR_PX = 3.0, 5.0


def read_trc(path: Path) -> tuple[list[str], np.ndarray]:
    """Marker names and positions [frames, markers, 3] (metres, Y up) of a .trc file."""
    lines = path.read_text().splitlines()
    names = [n for n in lines[3].split("\t")[2:] if n]
    rows = [line.split("\t")[2:2 + 3 * len(names)] for line in lines[5:] if line.strip()]
    data = np.array([[float(v) if v else np.nan for v in row] for row in rows])
    return names, data.reshape(len(rows), len(names), 3)


def to_calibration_world(points: np.ndarray) -> np.ndarray:
    """.trc points (Y up, OpenSim) in the calibration's world (Z up): (X, Y, Z)_calib = (Z, X, Y)_trc."""
    return points[..., [2, 0, 1]]


def project_points(world: np.ndarray, camera: dict) -> np.ndarray:
    """World points [..., 3] (calibration frame, metres) in the camera's pixels [..., 2]."""
    import cv2

    flat = world.reshape(-1, 3).astype(np.float64)
    pixels, _ = cv2.projectPoints(flat, np.array(camera["rotation"], float), np.array(camera["translation"], float),
                                  np.array(camera["matrix"], float), np.array(camera["distortions"], float))
    return pixels.reshape(*world.shape[:-1], 2)


def project(trc: Path, camera: dict) -> np.ndarray:
    """Reference joints in the camera's pixels: [frames, 18, 3] (x, y, 1 where known)."""
    names, points = read_trc(trc)
    idx = [names.index(n) for n in JOINTS]
    pixels = project_points(to_calibration_world(points[:, idx]), camera)
    out = np.zeros((len(points), 18, 3))
    for k, joint in enumerate(JOINTS.values()):
        out[:, joint, :2] = pixels[:, k]
        out[:, joint, 2] = np.isfinite(pixels[:, k]).all(1)
    return out


def read_keypoints_2d(folder: Path) -> list[np.ndarray | None]:
    """pose2sim's 2-D keypoints per frame (its json files in name order): [25, 3] of the first person, or None."""
    frames: list[np.ndarray | None] = []
    for file in sorted(folder.glob("*.json")):
        people = json.loads(file.read_text()).get("people") or []
        points = people[0].get("pose_keypoints_2d") if people else None
        frames.append(None if not points else np.asarray(points, float).reshape(-1, 3))
    return frames


def _correspondences(names: list[str], points: np.ndarray, keypoints: list[np.ndarray | None]):
    """(world points [n, 3], pixels [n, 2]) of every marker its own detector saw with LIKELY confidence."""
    world = to_calibration_world(points)
    columns = [(m, BODY_25B.index(name)) for m, name in enumerate(names) if name in BODY_25B]
    pairs_w, pairs_i = [], []
    for k, seen in enumerate(keypoints[:len(world)]):
        if seen is None:
            continue
        for marker, column in columns:
            if seen[column, 2] > LIKELY and np.isfinite(world[k, marker]).all():
                pairs_w.append(world[k, marker])
                pairs_i.append(seen[column, :2])
    return np.array(pairs_w, float).reshape(-1, 3), np.array(pairs_i, float).reshape(-1, 2)


def refit_camera(camera: dict, names: list[str], points: np.ndarray,
                 keypoints: list[np.ndarray | None]) -> tuple[dict, dict]:
    """``camera`` with its rotation and translation re-estimated from the reference's 3-D ``points`` (.trc) and
    its own 2-D ``keypoints`` in this view (intrinsics and distortion as calibrated), and what changed
    (``refit_pose``)."""
    return refit_pose(camera, *_correspondences(names, points, keypoints))


def refit_pose(camera: dict, world: np.ndarray, image: np.ndarray) -> tuple[dict, dict]:
    """``camera`` with the rotation and translation that best project ``world`` points [n, 3] (calibration
    frame) onto their ``image`` pixels [n, 2], intrinsics and distortion as calibrated, and what changed.

    Starts from the calibrated pose (Levenberg–Marquardt), dropping correspondences beyond OUTLIER times the
    median residual, five rounds. Returns (camera, {"moved_mm", "turned_deg", "residual_px": (before, after)});
    the camera unchanged and {} with fewer than 12 correspondences.
    """
    import cv2

    if len(world) < 12:
        return camera, {}
    matrix, distortions = np.array(camera["matrix"], float), np.array(camera["distortions"], float)
    rotation = np.array(camera["rotation"], float).reshape(3, 1)
    translation = np.array(camera["translation"], float).reshape(3, 1)

    def residuals(r, t):
        return np.linalg.norm(project_points(world, {**camera, "rotation": r.ravel(), "translation": t.ravel()}) - image,
                              axis=1)

    before = residuals(rotation, translation)
    r, t, keep = rotation.copy(), translation.copy(), np.ones(len(world), bool)
    for _ in range(5):
        _, r, t = cv2.solvePnP(world[keep], image[keep], matrix, distortions, r, t, useExtrinsicGuess=True,
                               flags=cv2.SOLVEPNP_ITERATIVE)
        after = residuals(r, t)
        keep = after < max(OUTLIER * float(np.median(after)), FLOOR_PX)
    old, new = cv2.Rodrigues(rotation)[0], cv2.Rodrigues(r)[0]
    moved = (-new.T @ t - -old.T @ translation).ravel()
    turned = np.degrees(np.arccos(np.clip((np.trace(old.T @ new) - 1) / 2, -1.0, 1.0)))
    refitted = {**camera, "rotation": [float(v) for v in r.ravel()], "translation": [float(v) for v in t.ravel()]}
    return refitted, {"moved_mm": float(1000 * np.linalg.norm(moved)), "turned_deg": float(turned),
                      "residual_px": (float(np.median(before)), float(np.median(after)))}


def keypoints_as_body(keypoints: list[np.ndarray | None]) -> list[np.ndarray | None]:
    """pose2sim's 2-D keypoints as OpenPose-18 bodies (the judged joints; score = its likelihood)."""
    out: list[np.ndarray | None] = []
    for seen in keypoints:
        if seen is None:
            out.append(None)
            continue
        body = np.zeros((18, 3))
        for name, joint in JOINTS.items():
            body[joint] = seen[BODY_25B.index(name)]
        out.append(body)
    return out


#: ``video_offset``: keypoints are followed through the video over SPAN frames, from frames shifted by SHIFTS;
#: only points that move at least MOVING px in that time say anything about time, and only sure ones (SURE).
SPAN, SHIFTS, MOVING, SURE = 8, (-2, -1, 0, 1, 2), 15.0, 0.5


def video_offset(frames: list[np.ndarray], keypoints: list[np.ndarray | None]) -> tuple[int, dict[int, float]]:
    """Which video frame the reference's frame k shows: k + the returned offset (and each shift's median miss, px).

    Measured on the video itself, without a pose model: each of the reference's own 2-D keypoints of frame k
    (pose2sim's) is followed by optical flow (pyramidal Lucas–Kanade on the grey frames) from video frame
    k + shift over SPAN frames and compared with where the reference's keypoints of frame k + SPAN put it. With
    the right shift the flow carries the point to the keypoint; a shift off by one starts from the body a frame
    early or late. The demo's 2-D keypoints were committed to pose2sim before its videos (2024-02, from the
    recordings), so their frame numbers need not be the videos'.
    """
    import cv2

    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) if f.ndim == 3 else f for f in frames]
    flow = dict(winSize=(31, 31), maxLevel=3, criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01))
    misses: dict[int, list[float]] = {s: [] for s in SHIFTS}
    # the same frames for every shift: those where each shift's span lies within the video
    for k in range(-min(SHIFTS), min(len(keypoints), len(grey) - max(SHIFTS)) - SPAN):
        start, end = keypoints[k], keypoints[k + SPAN]
        if start is None or end is None:
            continue
        moving = [j for j in range(len(start)) if start[j, 2] > SURE and end[j, 2] > SURE
                  and np.linalg.norm(end[j, :2] - start[j, :2]) >= MOVING]
        if not moving:
            continue
        for shift in SHIFTS:
            points = start[moving, :2].astype(np.float32).reshape(-1, 1, 2)
            followed = np.ones(len(moving), bool)
            for t in range(k + shift, k + shift + SPAN):
                points, status, _ = cv2.calcOpticalFlowPyrLK(grey[t], grey[t + 1], points, None, **flow)
                followed &= status.ravel() == 1
            miss = np.linalg.norm(points.reshape(-1, 2) - end[moving, :2], axis=1)
            misses[shift] += [float(v) for v in miss[followed]]
    medians = {s: float(np.median(v)) for s, v in misses.items() if v}
    if not medians:
        return 0, {}
    return min(medians, key=lambda s: medians[s]), medians
