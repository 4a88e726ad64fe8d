"""Faces: the reference's face box and ArcFace identity embedding, per-frame face boxes, face-mask PNGs.

Identity (docs/model.md §12): insightface's antelopev2 models — SCRFD detection, then ArcFace (``glintr100``) on the
5-point-aligned 112×112 crop; the largest face's raw (un-normalised) 512-d ``embedding`` is used. By
default the image is handed over channel-swapped, as the original does (it passes RGB where insightface
expects BGR); ``channel_swap=False`` gives the correct BGR input.

Without the antelopev2 files, mediapipe's bundled face detector and face mesh (no download) still give the
face box and the 5 alignment points, so the rest of the studio (face boxes, masks, HJB boxes) works.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np

from studio.errors import ModelFolderError
from studio.motion.head import Box


#: Files of insightface's antelopev2 pack; detection and recognition are the ones the studio needs.
ANTELOPEV2_REQUIRED = ("scrfd_10g_bnkps.onnx", "glintr100.onnx")
ANTELOPEV2_OPTIONAL = ("1k3d68.onnx", "2d106det.onnx", "genderage.onnx")
EMBEDDING_SIZE = 512

#: Face-mesh indices for insightface's 5 alignment points: right-eye centre (image left), left-eye centre,
#: nose tip, right and left mouth corners.
_MESH_RIGHT_EYE = (33, 133, 159, 145)
_MESH_LEFT_EYE = (362, 263, 386, 374)
_MESH_NOSE, _MESH_MOUTH_R, _MESH_MOUTH_L = 4, 61, 291


@dataclass
class ReferenceFace:
    """What was found in the reference photo (pixels of the image given)."""

    box: Box | None
    embedding: np.ndarray | None
    #: "insightface", "insightface+mediapipe-landmarks", "mediapipe" or "none".
    source: str
    warnings: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------------------------- boxes & masks
def face_mask(boxes: list[Box] | Box | None, width: int, height: int, fill_when_empty: bool = True) -> np.ndarray:
    """The original's face mask: uint8 [height, width], 255 inside every (int-truncated, inclusive) box.

    With no box the whole mask is 255 (the original's last resort), unless ``fill_when_empty`` is False.
    """
    mask = np.zeros((height, width), dtype=np.uint8)
    if boxes is not None and len(boxes) and not isinstance(boxes[0], (list, tuple, np.ndarray)):
        boxes = [boxes]
    boxes = [b for b in cast(list[Box | None], boxes or []) if b is not None]
    if not boxes:
        if fill_when_empty:
            mask[:] = 255
        return mask
    for x0, y0, x1, y1 in boxes:
        x0, y0 = max(0, int(x0)), max(0, int(y0))
        mask[y0 : int(y1) + 1, x0 : int(x1) + 1] = 255
    return mask


def write_face_mask(path: str | Path, mask: np.ndarray) -> Path:
    """Write a single-channel PNG atomically (temporary file in the same folder, then rename)."""
    from PIL import Image

    from studio.export.atomic import write_atomic

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, lambda handle: Image.fromarray(mask, mode="L").save(handle, format="PNG"))


# ----------------------------------------------------------------------------------------------- mediapipe fallback
def detect_face_boxes(image_rgb: np.ndarray, min_confidence: float = 0.5) -> list[Box]:
    """Face boxes from mediapipe's bundled face detector (short range, then full range), largest first."""
    from mediapipe.python.solutions import face_detection

    height, width = image_rgb.shape[:2]
    boxes: list[Box] = []
    for model in (0, 1):
        with face_detection.FaceDetection(model_selection=model, min_detection_confidence=min_confidence) as det:
            result = det.process(np.ascontiguousarray(image_rgb))
        for d in result.detections or []:
            b = d.location_data.relative_bounding_box
            x0, y0 = max(0.0, b.xmin * width), max(0.0, b.ymin * height)
            x1, y1 = min(width - 1.0, (b.xmin + b.width) * width), min(height - 1.0, (b.ymin + b.height) * height)
            if x1 > x0 and y1 > y0:
                boxes.append((x0, y0, x1, y1))
        if boxes:
            break
    return sorted(boxes, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), reverse=True)


def mesh_five_points(image_rgb: np.ndarray) -> np.ndarray | None:
    """insightface's 5 alignment points [5, 2] from mediapipe's face mesh, or None when no face is found."""
    from mediapipe.python.solutions import face_mesh

    height, width = image_rgb.shape[:2]
    with face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=False) as mesh:
        result = mesh.process(np.ascontiguousarray(image_rgb))
    if not result.multi_face_landmarks:
        return None
    marks = result.multi_face_landmarks[0].landmark
    xy = np.array([(p.x * width, p.y * height) for p in marks], dtype=np.float32)
    return np.stack([
        xy[list(_MESH_RIGHT_EYE)].mean(0), xy[list(_MESH_LEFT_EYE)].mean(0),
        xy[_MESH_NOSE], xy[_MESH_MOUTH_R], xy[_MESH_MOUTH_L],
    ]).astype(np.float32)


# ----------------------------------------------------------------------------------------------- insightface
def find_antelopev2(models_dir: str | Path) -> Path:
    """The folder holding the antelopev2 .onnx files.

    Accepts the folder itself, ``DIR/antelopev2``, the nested ``DIR/antelopev2/antelopev2`` that unzipping
    the release often produces, and the original's ``DIR/models/antelopev2``.
    """
    base = Path(models_dir).expanduser()
    if not base.exists():
        raise ModelFolderError(f"{base}: the face-model folder does not exist; point it at the antelopev2 folder")
    candidates = [base, base / "antelopev2", base / "antelopev2" / "antelopev2", base / "models" / "antelopev2",
                  base / "models" / "antelopev2" / "antelopev2"]
    for folder in candidates:
        if all((folder / name).is_file() for name in ANTELOPEV2_REQUIRED):
            return folder
    best = max((c for c in candidates if c.is_dir()), key=lambda c: len(list(c.glob("*.onnx"))), default=base)
    missing = [name for name in ANTELOPEV2_REQUIRED if not (best / name).is_file()]
    raise ModelFolderError(
        f"{best}: the antelopev2 face models are incomplete; missing {', '.join(missing)}. Unzip antelopev2.zip "
        f"from insightface's model zoo so that these files sit in one folder, and point the studio at it"
    )


def _providers() -> list[str]:
    import onnxruntime as ort

    available = ort.get_available_providers()
    return [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]


def load_recognition(path: str | Path):
    """insightface's ArcFace model from an .onnx file (input 112×112), ready on CPU/CUDA."""
    from insightface.model_zoo import model_zoo

    try:
        model = model_zoo.get_model(str(path), providers=_providers())
    except Exception as error:  # onnxruntime/insightface raise their own types for bad files
        raise ModelFolderError(f"{path}: could not load the face-recognition model ({error})") from None
    if model is None or getattr(model, "taskname", None) != "recognition":
        raise ModelFolderError(f"{path}: is not an ArcFace recognition model (112×112 input, 512-d output)")
    model.prepare(ctx_id=-1 if _providers()[0] == "CPUExecutionProvider" else 0)
    return model


def embed_aligned(recognition, image_bgr: np.ndarray, five_points: np.ndarray) -> np.ndarray:
    """The raw ArcFace embedding of the face whose 5 points are given (insightface's own alignment)."""
    from insightface.app.common import Face

    face = Face(bbox=np.zeros(4, np.float32), kps=np.asarray(five_points, np.float32), det_score=1.0)
    return np.asarray(recognition.get(image_bgr, face), dtype=np.float32).reshape(-1)


class FaceAnalyzer:
    """antelopev2 detection + recognition, loaded once (reuse it across photos)."""

    def __init__(self, models_dir: str | Path, det_size: tuple[int, int] = (640, 640)) -> None:
        from insightface.model_zoo import model_zoo

        folder = find_antelopev2(models_dir)
        self.folder = folder
        try:
            self.detector = model_zoo.get_model(str(folder / "scrfd_10g_bnkps.onnx"), providers=_providers())
        except Exception as error:
            raise ModelFolderError(f"{folder}: could not load scrfd_10g_bnkps.onnx ({error})") from None
        if self.detector is None or getattr(self.detector, "taskname", None) != "detection":
            raise ModelFolderError(f"{folder}/scrfd_10g_bnkps.onnx is not an SCRFD face detector")
        self.detector.prepare(ctx_id=-1, input_size=det_size, det_thresh=0.5)
        self.recognition = load_recognition(folder / "glintr100.onnx")

    def analyze(self, image: np.ndarray) -> tuple[Box | None, np.ndarray | None]:
        """Largest face's box and raw embedding in an image given in the order insightface should see."""
        bboxes, kpss = self.detector.detect(image, max_num=0, metric="default")
        if bboxes is None or len(bboxes) == 0:
            return None, None
        areas = (bboxes[:, 2] - bboxes[:, 0]) * (bboxes[:, 3] - bboxes[:, 1])
        i = int(areas.argmax())
        x0, y0, x1, y1 = (float(v) for v in bboxes[i, :4])
        box = (x0, y0, x1, y1)
        return box, embed_aligned(self.recognition, image, kpss[i])


def analyze_reference(
    image_rgb: np.ndarray, models_dir: str | Path | None = None, channel_swap: bool = True,
    analyzer: FaceAnalyzer | None = None,
) -> ReferenceFace:
    """Face box and identity embedding of the reference photo (RGB uint8).

    With antelopev2 (``models_dir`` or a loaded ``analyzer``): SCRFD + ArcFace; when SCRFD finds no face the
    mediapipe face mesh supplies the 5 alignment points (the original used facexlib there). Without it:
    the mediapipe box only, ``embedding`` None. ``channel_swap=True`` reproduces the original's RGB-as-BGR input.
    """
    warnings: list[str] = []
    if analyzer is None and models_dir is not None:
        analyzer = FaceAnalyzer(models_dir)
    boxes = detect_face_boxes(image_rgb)
    fallback_box = boxes[0] if boxes else None
    if analyzer is None:
        if fallback_box is None:
            warnings.append("no face found in the reference photo")
        return ReferenceFace(fallback_box, None, "mediapipe" if fallback_box else "none", warnings)

    seen = image_rgb if channel_swap else np.ascontiguousarray(image_rgb[..., ::-1])
    box, embedding = analyzer.analyze(np.ascontiguousarray(seen))
    if embedding is not None:
        return ReferenceFace(box, embedding, "insightface", warnings)
    points = mesh_five_points(image_rgb)
    if points is not None:
        warnings.append("insightface found no face; aligned the face with mediapipe's landmarks instead")
        embedding = embed_aligned(analyzer.recognition, np.ascontiguousarray(seen), points)
        return ReferenceFace(fallback_box, embedding, "insightface+mediapipe-landmarks", warnings)
    warnings.append("no face found in the reference photo; the identity embedding is zero")
    return ReferenceFace(fallback_box, np.zeros(EMBEDDING_SIZE, np.float32), "none", warnings)
