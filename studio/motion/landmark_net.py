"""MediaPipe's pose landmark model run on a region the studio chooses (``roi``): a body, face and hands added.

The holistic graph (``mediapipe_pose``) decides itself where to look: its person detector, or the region
tracked from the last frame. Shown two people overlapping it keeps returning the one it prefers (on the corpus's
two-person clip, the woman a man walks past with his back turned, in every window the follower tried). The same
bundled model file (mediapipe 0.10.14's ``pose_landmark_full.tflite``) is read here by OpenCV's TFLite importer
(no new dependency) and run on a region built from the followed person's own track, so the follower can look
for them where they are (``follow``: only when the holistic graph lost or refused them).

The model's input is the region as 256×256 RGB in [0, 1] (NCHW); its outputs, by name: "Identity" 39 points ×
(x, y, z, visibility logit, presence logit) in input pixels (33 body landmarks, then the ROI helper points),
"Identity_1" the pose presence probability (already a probability: 1.0 on a clear person). What ``detect``
returns is the body only; the follower asks for the face and hands of the one pose it keeps
(``with_face_and_hands``), which ``face_hands_net`` finds from that pose's own 33 landmarks, as the holistic graph
does on crops from its pose.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from studio.motion.face_hands_net import FaceHandsNet
from studio.motion.mediapipe_pose import OPENPOSE_FROM_MEDIAPIPE
from studio.motion.roi import Roi
from studio.motion.types import PoseFrame

SIZE = 256
#: The pose presence probability a pose needs (MediaPipe's own tracking threshold, min_tracking_confidence).
MIN_PRESENCE = 0.5
#: A landmark mapped back further than this share outside the frame is not a point of the frame (as in
#: ``mediapipe_pose.map_holistic``).
OUTSIDE = 0.05
LANDMARKS, PRESENCE = "Identity", "Identity_1"
#: MediaPipe's body landmarks (the rest of the model's 39 points only place its next region).
BODY_LANDMARKS = 33


def model_file() -> Path | None:
    """The full pose landmark model bundled with mediapipe, None when mediapipe is not installed."""
    try:
        import mediapipe
    except ImportError:  # pragma: no cover - a pinned dependency
        return None
    path = Path(mediapipe.__file__).parent / "modules" / "pose_landmark" / "pose_landmark_full.tflite"
    return path if path.is_file() else None


def frame_landmarks(landmarks: np.ndarray, to_frame: np.ndarray) -> np.ndarray:
    """The model's [39, 5] output (input pixels, visibility logit) as [39, 3]: x, y in frame pixels (mapped by
    the 2×3 affine ``to_frame``) and the visibility probability."""
    points = landmarks[:, :2].astype(np.float64) @ to_frame[:, :2].T + to_frame[:, 2]
    visibility = 1.0 / (1.0 + np.exp(-landmarks[:, 3].astype(np.float64)))
    return np.column_stack([points, visibility])


def body_from_landmarks(landmarks: np.ndarray, to_frame: np.ndarray, width: int, height: int) -> PoseFrame:
    """OpenPose-18 body (frame pixels, score = landmark visibility) from the model's [39, 5] output in input
    pixels, mapped by the 2×3 affine ``to_frame``; points well outside the frame score 0."""
    return _body(frame_landmarks(landmarks, to_frame), width, height)


def _body(marks: np.ndarray, width: int, height: int) -> PoseFrame:
    points, visibility = marks[:, :2], marks[:, 2]
    inside = ((points[:, 0] >= -OUTSIDE * width) & (points[:, 0] <= (1 + OUTSIDE) * width)
              & (points[:, 1] >= -OUTSIDE * height) & (points[:, 1] <= (1 + OUTSIDE) * height))
    pose = PoseFrame()
    for op_index, mp_index in enumerate(OPENPOSE_FROM_MEDIAPIPE):
        if mp_index is not None:
            pose.body[op_index] = (points[mp_index, 0], points[mp_index, 1],
                                   visibility[mp_index] if inside[mp_index] else 0.0)
    shoulders = pose.body[[2, 5]]
    pose.body[1] = (*shoulders[:, :2].mean(0), float(shoulders[:, 2].min()))
    return pose


class LandmarkNet:
    """The pose landmark model on chosen regions (``detect``); loaded on first use (most clips never need it)."""

    name = "mediapipe-landmark"

    def __init__(self, path: str | Path | None = None) -> None:
        self._path = Path(path) if path is not None else model_file()
        self._net = None
        self._failed = self._path is None
        self._parts = FaceHandsNet()
        #: This frame's finds: id(pose) -> (pose, its 33 landmarks [x, y, visibility]), for
        #: ``with_face_and_hands`` (the pose is kept beside its points: a freed pose's id may be reused).
        self._found: dict[int, tuple[PoseFrame, np.ndarray]] = {}
        self._found_on: np.ndarray | None = None

    def _load(self):
        if self._net is None and not self._failed:
            import cv2

            try:
                self._net = cv2.dnn.readNetFromTFLite(str(self._path))
            except cv2.error as error:  # an OpenCV without the TFLite importer: the follower does without it
                logging.getLogger(__name__).warning("the pose landmark model could not be read (%s): %s",
                                                    self._path, error)
                self._failed = True
        return self._net

    def detect(self, frame_rgb: np.ndarray, roi: Roi) -> PoseFrame | None:
        """The body the model finds in ``roi`` of ``frame_rgb`` (frame pixels), None when it finds nobody."""
        net = self._load()
        if net is None:
            return None
        image = roi.cut(frame_rgb, SIZE).astype(np.float32) * (1.0 / 255.0)
        net.setInput(np.ascontiguousarray(image.transpose(2, 0, 1)[None]))
        landmarks, presence = net.forward([LANDMARKS, PRESENCE])
        if float(np.ravel(presence)[0]) < MIN_PRESENCE:
            return None
        height, width = frame_rgb.shape[:2]
        marks = frame_landmarks(np.asarray(landmarks).reshape(-1, 5), roi.to_frame(SIZE))
        pose = _body(marks, width, height)
        if frame_rgb is not self._found_on:  # (only the current frame's finds are kept)
            self._found, self._found_on = {}, frame_rgb
        self._found[id(pose)] = (pose, marks[:BODY_LANDMARKS])
        return pose

    def with_face_and_hands(self, frame_rgb: np.ndarray, pose: PoseFrame,
                            refuse: Callable[[str, np.ndarray], bool] | None = None) -> PoseFrame:
        """``pose``, one of this frame's finds, with the face and hands MediaPipe's face and hand models find
        around its landmarks (in place; also returned), less those ``refuse`` says are someone else's
        (``face_hands_net.FaceHandsNet.add_to``). Asked only for the pose the follower keeps: three to six
        small model runs, where running them on every region looked at would cost that several times over."""
        found = self._found.get(id(pose))
        if found is None or found[0] is not pose or frame_rgb is not self._found_on:
            return pose
        return self._parts.add_to(pose, frame_rgb, found[1], refuse)

    def close(self) -> None:
        self._net, self._found, self._found_on = None, {}, None
        self._parts.close()
