"""Pose backend on mediapipe 0.10.14's bundled holistic model (body, face mesh, hands): no download needed.

mediapipe's 33 body landmarks, 468 face-mesh points and 21 points per hand are mapped onto the layout
StableAnimator's DWPose skeletons use: 18 OpenPose body points (neck = mid-shoulders), the 68 iBUG face
points and 21 points per hand, each (x, y, score) in pixels; a point mediapipe did not find has score 0.
The hips and shoulders are moved from BlazePose's convention to COCO's (``landmark_convention``), where DWPose
puts them.
"""

from __future__ import annotations

import os

import numpy as np

from studio.motion.head import head_from_face
from studio.motion.landmark_convention import in_coco_convention
from studio.motion.types import NUM_FACE, NUM_HAND, PoseFrame

#: OpenPose-18 index -> mediapipe pose landmark (None = neck, the mid-point of the shoulders).
#: mediapipe's "left"/"right" are the person's own sides, as in OpenPose.
OPENPOSE_FROM_MEDIAPIPE: tuple[int | None, ...] = (
    0,  # nose
    None,  # neck
    12, 14, 16,  # right shoulder, elbow, wrist
    11, 13, 15,  # left shoulder, elbow, wrist
    24, 26, 28,  # right hip, knee, ankle
    23, 25, 27,  # left hip, knee, ankle
    5, 2,  # right eye, left eye
    8, 7,  # right ear, left ear
)

#: iBUG-68 index -> face-mesh (468) index. Derived from the mesh's topology: mirrored pairs of the
#: canonical face model for the jaw, brows, eyes and lips (image-left = the person's right, as in iBUG).
IBUG68_FROM_MESH468: tuple[int, ...] = (
    # jaw 0-16, from the right temple down to the chin (8) and up to the left temple
    127, 234, 93, 132, 58, 172, 136, 150, 152, 379, 365, 397, 288, 361, 323, 454, 356,
    # right brow 17-21 (outer -> inner), left brow 22-26 (inner -> outer)
    70, 63, 105, 66, 107, 336, 296, 334, 293, 300,
    # nose bridge 27-30 (top -> tip), nostrils 31-35 (right -> left)
    168, 197, 5, 4, 75, 97, 2, 326, 305,
    # right eye 36-41 (outer corner, upper lid x2, inner corner, lower lid x2)
    33, 160, 158, 133, 153, 144,
    # left eye 42-47 (inner corner, upper lid x2, outer corner, lower lid x2)
    362, 385, 387, 263, 373, 380,
    # outer lips 48-59 (right corner, upper lip to left corner, lower lip back)
    61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181,
    # inner lips 60-67
    78, 82, 13, 312, 308, 317, 14, 87,
)
assert len(IBUG68_FROM_MESH468) == NUM_FACE


def _landmarks_to_array(landmarks, width: int, height: int) -> np.ndarray:
    return np.array([(p.x * width, p.y * height) for p in landmarks.landmark], dtype=np.float32)


def map_holistic(result, width: int, height: int) -> PoseFrame | None:
    """Turn a holistic (or pose) result into a PoseFrame in pixels; None when no body was found."""
    if result.pose_landmarks is None:
        return None
    pose = PoseFrame()
    marks = result.pose_landmarks.landmark
    for op_index, mp_index in enumerate(OPENPOSE_FROM_MEDIAPIPE):
        if mp_index is None:
            continue
        p = marks[mp_index]
        inside = -0.05 <= p.x <= 1.05 and -0.05 <= p.y <= 1.05
        pose.body[op_index] = (p.x * width, p.y * height, p.visibility if inside else 0.0)
    shoulders = pose.body[[2, 5]]
    pose.body[1, :2] = shoulders[:, :2].mean(0)
    pose.body[1, 2] = float(shoulders[:, 2].min())
    face = getattr(result, "face_landmarks", None)
    if face is not None and len(face.landmark) >= 468:
        mesh = face.landmark  # only the 68 points kept are read out (Python reads of 468 cost more than the rest)
        pose.face[:, :2] = [(mesh[i].x * width, mesh[i].y * height) for i in IBUG68_FROM_MESH468]
        pose.face[:, 2] = 1.0
    for attr, target in (("left_hand_landmarks", pose.left_hand), ("right_hand_landmarks", pose.right_hand)):
        hand = getattr(result, attr, None)
        if hand is not None and len(hand.landmark) == NUM_HAND:
            target[:, :2] = _landmarks_to_array(hand, width, height)
            target[:, 2] = 1.0
    return head_from_face(pose)


#: What the tracker is shown to forget the person: nobody is found in black, so nothing is tracked from it.
BLANK = np.zeros((64, 64, 3), np.uint8)


class MediapipeBackend:
    """mediapipe holistic (model_complexity=1, the only bundled body model). One person per frame."""

    name = "mediapipe"
    #: Its hips and shoulders are BlazePose's, not COCO's: ``extract`` hands on ``landmark_convention``'s
    #: COCO points (what the PoseNet was trained on), after following the person on these.
    to_coco = staticmethod(in_coco_convention)

    def __init__(self, video: bool = True, min_detection_confidence: float = 0.5) -> None:
        os.environ.setdefault("GLOG_minloglevel", "2")
        try:
            from mediapipe.python.solutions import holistic
        except ImportError as error:  # pragma: no cover - the pinned environment has it
            from studio.errors import StudioError

            raise StudioError(f"the mediapipe pose backend needs mediapipe==0.10.14 ({error})") from None
        self.video = video
        self._forget = self._tracking = False  # (``reset``)
        self.min_detection_confidence = min_detection_confidence
        self._model = holistic.Holistic(
            static_image_mode=not video,
            model_complexity=1,
            smooth_landmarks=False,  # the studio smooths after alignment (One-Euro), consistently for all backends
            refine_face_landmarks=False,
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=0.5,
        )

    def parameters(self) -> dict:
        return {"model": "holistic-0.10.14", "complexity": 1, "video": self.video, "min_det": self.min_detection_confidence}

    def detect(self, frame: np.ndarray) -> list[PoseFrame]:
        if self._forget:
            self._model.process(BLANK)
        height, width = frame.shape[:2]
        result = self._model.process(np.ascontiguousarray(frame))
        pose = map_holistic(result, width, height)
        # with nobody found the graph has nothing to track from: a reset until the next find costs nothing
        self._forget, self._tracking = False, pose is not None
        return [] if pose is None else [pose]

    def reset(self) -> None:
        """Forget the tracked person: the next frame runs the person detector afresh.

        In video mode the graph tracks from the previous frame's landmarks (body, face and hands). Restarting the
        graph would forget them too, but it reopens every model: ~0.1 s of CPU, eight frames' worth, and the
        follower resets whenever it loses the person. A blank frame before the next one leaves the same state,
        nothing to track from, for the cost of one run of the person detector (none when the last frame showed
        nobody: the graph tracks nothing then).
        """
        self._forget = self.video and self._tracking

    def close(self) -> None:
        self._model.close()
