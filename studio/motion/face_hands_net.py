"""Face and hands for a body the pose landmark model found on its own (``landmark_net``), the way MediaPipe's
holistic graph adds them: its bundled face landmark and hand landmark models run on regions built from the
body's own landmarks.

The holistic graph (mediapipe 0.10.14's ``holistic_landmark_cpu``) runs these models on crops from its body
pose; a body the follower found with the pose landmark model alone (``follow``: where the graph lost the person
or returned someone else) had none, and the skeletons drawn for StableAnimator's PoseNet (DWPose's body, face and
hands) lost the face and hands on those frames. The same model files are read here by OpenCV's TFLite importer,
as ``landmark_net`` reads the pose model, and their regions follow the graph's rules (its ``.pbtxt`` subgraphs and
calculators in google/mediapipe, read for the numbers below):

- hands (``hand_landmarks_from_pose_cpu``): only where the pose's wrist visibility is at least 0.1. A square
  from the wrist, pinky and index landmarks: centred on the estimated middle finger (2 index + pinky) / 3, side
  twice its distance from the wrist, turned so wrist -> middle finger points up, then moved up a tenth of its
  side and scaled by 2.7 (``hand_landmarks_from_pose_to_recrop_roi``). The re-crop model there (256×256) returns
  two points: the hand's centre and a point whose distance from it is half the new square's side, and which
  lies straight below the centre in it; that square moved up a tenth (``hand_recrop_by_roi_cpu``) is where the
  hand landmark model (224×224) looks. Its outputs: 21 points (x, y, z in input pixels) and a presence
  probability; below 0.5 there is no hand (``hand_landmark_cpu``). Left and right are the pose's: the hand found
  at the person's left wrist is their left hand (the hand model's own handedness label is not used, as in the
  graph).
- face (``face_landmarks_from_pose_cpu``): the pose's 11 face landmarks (nose, eyes, ears, mouth corners) boxed,
  turned so the right eye -> left eye line is level, squared to the long side and scaled by 3
  (``face_landmarks_from_pose_to_recrop_roi``); the short-range face detector (``face_detection``) run there; its
  best find's six keypoints boxed, turned by its eyes, moved up a tenth of the box's height, squared and scaled
  by 2 (``face_detection_front_detections_to_roi``); the face landmark model (192×192) run there. Its outputs:
  468 points (x, y, z in input pixels) and a face presence logit, a face from sigmoid 0.5
  (``face_landmark_cpu``). Without the detector's find there is no face (the back of a head: the pose model
  still places a face there, its visibility near 1).

The face is handed on as the holistic path hands it on (``mediapipe_pose.map_holistic``): the 68 iBUG points of
the mesh, score 1, the head points moved onto them (``head``); each hand's 21 points score 1; what is absent
scores 0.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from studio.motion.face_detection import LEFT_EYE, RIGHT_EYE, best_face
from studio.motion.face_detection import OUTPUTS as DETECTOR_OUTPUTS
from studio.motion.face_detection import SIZE as DETECTOR_SIZE
from studio.motion.head import head_from_face
from studio.motion.mediapipe_pose import IBUG68_FROM_MESH468
from studio.motion.roi import Roi
from studio.motion.types import PoseFrame

FACE_SIZE, HAND_SIZE, RECROP_SIZE = 192, 224, 256
#: The pose's face landmarks (0-10: nose, eyes, ears, mouth corners), whose box the face detector looks in.
POSE_FACE = slice(0, 11)
#: The face and hand presence a find needs (the graph's thresholds).
MIN_PRESENCE = 0.5
#: The pose's wrist visibility a hand needs to be looked for (the graph's ``hand_visibility_from_hand_...``).
MIN_WRIST_VISIBILITY = 0.1
#: MediaPipe pose landmarks: the eyes; each hand's wrist, pinky and index finger (the person's sides).
L_EYE, R_EYE = 2, 5
HAND_POINTS = {"left_hand": (15, 17, 19), "right_hand": (16, 18, 20)}  # (wrist, pinky, index)
#: Output names (OpenCV's names for the models' output tensors, in the order the graph splits them).
FACE_OUTPUTS = ("conv2d_21", "conv2d_31")  # 468 × (x, y, z); the face presence logit
HAND_OUTPUTS = ("Identity", "Identity_1")  # 21 × (x, y, z); the hand presence probability
RECROP_OUTPUT = "output_crop"  # 2 × (x, y)
MODEL_FILES = {"detector": ("face_detection", "face_detection_short_range.tflite"),
               "face": ("face_landmark", "face_landmark.tflite"),
               "hand": ("hand_landmark", "hand_landmark_full.tflite"),
               "recrop": ("holistic_landmark", "hand_recrop.tflite")}


def turn(start: np.ndarray, end: np.ndarray, target: float) -> float:
    """MediaPipe's region rotation (``DetectionsToRectsCalculator``): the turn that brings the ``start`` ->
    ``end`` line (frame pixels, y down) to ``target`` radians (counter-clockwise from +x as seen on screen)."""
    dx, dy = float(end[0] - start[0]), float(end[1] - start[1])
    angle = target - np.arctan2(-dy, dx)
    return float(np.arctan2(np.sin(angle), np.cos(angle)))


def transformed(cx: float, cy: float, width: float, height: float, angle: float, scale: float,
                shift_y: float = 0.0) -> Roi:
    """MediaPipe's ``RectTransformationCalculator`` on a rectangle (pixels): moved ``shift_y`` of its height along
    its own down, squared to its long side, scaled by ``scale``."""
    dx, dy = -np.sin(angle) * shift_y * height, np.cos(angle) * shift_y * height
    return Roi(cx + float(dx), cy + float(dy), scale * max(width, height), angle)


def boxed(points: np.ndarray, angle: float, scale: float, shift_y: float = 0.0) -> Roi:
    """The region of ``points`` (their box, as the graph's ``LandmarksToDetection`` takes it: not turned),
    turned by ``angle`` and transformed."""
    low, high = points.min(0), points.max(0)
    (cx, cy), (width, height) = (low + high) / 2, high - low
    return transformed(float(cx), float(cy), float(width), float(height), angle, scale, shift_y)


def face_search_region(points: np.ndarray) -> Roi:
    """Where the face detector looks, from the pose's [33, 2] landmarks (frame pixels)."""
    return boxed(points[POSE_FACE], turn(points[R_EYE], points[L_EYE], 0.0), 3.0)


def face_region_from_detection(keypoints: np.ndarray) -> Roi:
    """The face landmark model's region from the detector's six keypoints (frame pixels)."""
    return boxed(keypoints, turn(keypoints[RIGHT_EYE], keypoints[LEFT_EYE], 0.0), 2.0, -0.1)


def hand_region_from_pose(wrist: np.ndarray, pinky: np.ndarray, index: np.ndarray) -> Roi:
    """The re-crop model's region from the pose's wrist, pinky and index landmarks (frame pixels)."""
    middle = (2.0 * index + pinky) / 3.0
    size = 2.0 * float(np.linalg.norm(middle - wrist))
    return transformed(float(middle[0]), float(middle[1]), size, size, turn(wrist, middle, np.pi / 2), 2.7, -0.1)


def hand_region_from_recrop(centre: np.ndarray, scale_point: np.ndarray) -> Roi:
    """The hand landmark model's region from the re-crop model's two points (``hand_recrop_by_roi_cpu``)."""
    size = 2.0 * float(np.linalg.norm(scale_point - centre))
    return transformed(float(centre[0]), float(centre[1]), size, size, turn(centre, scale_point, -np.pi / 2),
                       1.0, -0.1)


def _model_path(kind: str) -> Path | None:
    try:
        import mediapipe
    except ImportError:  # pragma: no cover - a pinned dependency
        return None
    folder, name = MODEL_FILES[kind]
    path = Path(mediapipe.__file__).parent / "modules" / folder / name
    return path if path.is_file() else None


def _sigmoid(value: float) -> float:
    return float(1.0 / (1.0 + np.exp(-value)))


class FaceHandsNet:
    """MediaPipe's face detector, face landmark, hand re-crop and hand landmark models on regions from a pose's
    landmarks; each model is read on its first use (they run only on frames the follower found on its own
    region). A model OpenCV cannot read leaves its part absent, with a warning."""

    def __init__(self) -> None:
        self._nets: dict[str, object] = {}
        self._failed: set[str] = set()

    def _net(self, kind: str):
        if kind not in self._nets and kind not in self._failed:
            import cv2

            path = _model_path(kind)
            try:
                if path is None:
                    raise FileNotFoundError(f"mediapipe's {MODEL_FILES[kind][1]} is not installed")
                self._nets[kind] = cv2.dnn.readNetFromTFLite(str(path))
            except (cv2.error, FileNotFoundError) as error:  # the pose goes on without this part
                logging.getLogger(__name__).warning("the %s model could not be read (%s): %s", kind, path, error)
                self._failed.add(kind)
        return self._nets.get(kind)

    def _run(self, kind: str, frame_rgb: np.ndarray, roi: Roi, size: int, outputs,
             signed: bool = False) -> list[np.ndarray] | None:
        """The model's ``outputs`` on ``roi`` of the frame as ``size``×``size`` RGB in [0, 1] ([-1, 1] where
        ``signed``), NCHW."""
        net = self._net(kind)
        if net is None:
            return None
        image = roi.cut(frame_rgb, size).astype(np.float32) * (1.0 / 255.0)
        if signed:
            image = image * 2.0 - 1.0
        net.setInput(np.ascontiguousarray(image.transpose(2, 0, 1)[None]))
        return [np.asarray(out) for out in net.forward(list(outputs))]

    @staticmethod
    def _to_frame(points: np.ndarray, roi: Roi, size: int) -> np.ndarray:
        matrix = roi.to_frame(size)
        return points[:, :2].astype(np.float64) @ matrix[:, :2].T + matrix[:, 2]

    def face(self, frame_rgb: np.ndarray, points: np.ndarray) -> np.ndarray | None:
        """The 468-point face mesh (frame pixels) for a pose's [33, 2] landmarks, None where the detector finds no
        face near them or the face model sees none where it found one."""
        region = face_search_region(points)
        out = self._run("detector", frame_rgb, region, DETECTOR_SIZE, DETECTOR_OUTPUTS, signed=True)
        found = None if out is None else best_face(*out)
        if found is None:
            return None
        region = face_region_from_detection(self._to_frame(found[1], region, DETECTOR_SIZE))
        out = self._run("face", frame_rgb, region, FACE_SIZE, FACE_OUTPUTS)
        if out is None or _sigmoid(float(np.ravel(out[1])[0])) < MIN_PRESENCE:
            return None
        return self._to_frame(out[0].reshape(-1, 3), region, FACE_SIZE)

    def hand(self, frame_rgb: np.ndarray, wrist: np.ndarray, pinky: np.ndarray,
             index: np.ndarray) -> np.ndarray | None:
        """The 21 hand points (frame pixels) at a pose's wrist, pinky and index landmarks, None without a hand."""
        region = hand_region_from_pose(wrist, pinky, index)
        recrop = self._run("recrop", frame_rgb, region, RECROP_SIZE, (RECROP_OUTPUT,))
        if recrop is None:
            return None
        centre, scale_point = self._to_frame(recrop[0].reshape(2, 2), region, RECROP_SIZE)
        region = hand_region_from_recrop(centre, scale_point)
        out = self._run("hand", frame_rgb, region, HAND_SIZE, HAND_OUTPUTS)
        if out is None or float(np.ravel(out[1])[0]) < MIN_PRESENCE:
            return None
        return self._to_frame(out[0].reshape(-1, 3), region, HAND_SIZE)

    def add_to(self, pose: PoseFrame, frame_rgb: np.ndarray, landmarks: np.ndarray,
               refuse: Callable[[str, np.ndarray], bool] | None = None) -> PoseFrame:
        """``pose`` (in place; also returned) with the face and hands found around its MediaPipe ``landmarks``
        ([33, 3]: x, y in frame pixels, visibility probability), in the holistic path's layout and scores.
        ``refuse(part, points)`` ("face" with its 68 points, "left_hand"/"right_hand" with 21; frame pixels) says
        a part found is someone else's (``foreign_parts``): it stays absent, and a face refused moves no head
        point."""
        points = landmarks[:, :2].astype(np.float64)
        mesh = self.face(frame_rgb, points)
        face = None if mesh is None else mesh[list(IBUG68_FROM_MESH468)]
        if face is not None and not (refuse is not None and refuse("face", face)):
            pose.face[:, :2] = face
            pose.face[:, 2] = 1.0
        for part, (wrist, pinky, index) in HAND_POINTS.items():
            if landmarks[wrist, 2] < MIN_WRIST_VISIBILITY:
                continue
            hand = self.hand(frame_rgb, points[wrist], points[pinky], points[index])
            if hand is not None and not (refuse is not None and refuse(part, hand)):
                target = getattr(pose, part)
                target[:, :2] = hand
                target[:, 2] = 1.0
        return head_from_face(pose)

    def close(self) -> None:
        self._nets.clear()
