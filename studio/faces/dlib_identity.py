"""Identity scoring that installs from the package registry: dlib's ResNet face descriptor.

When insightface's antelopev2 files are absent (every fresh machine), the identity curve still needs a real
face-recognition model. ``dlib-bin`` (a prebuilt dlib wheel, no compiler) runs dlib's
``dlib_face_recognition_resnet_model_v1`` (128-d descriptor; two photos of one person are closer than 0.6
in Euclidean distance, dlib's own threshold) on the face chip aligned by ``shape_predictor_5_face_landmarks``;
faces are found by dlib's HOG frontal-face detector. Both model files ship in ``face-recognition-models``
(licences in docs/identity-models.md). The ``face_recognition`` package is not used: it depends on ``dlib``,
which has no wheel and would compile.

The score per frame is ``1 − distance`` (so higher is more alike, as with antelopev2's cosine; the same-person
threshold is then 0.4). The models are located without importing ``face_recognition_models`` (it needs
``pkg_resources``, gone from recent setuptools).
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import numpy as np

from studio.errors import ModelFolderError
from studio.faces.dlib_process import HelperEmbedder
from studio.faces.identity import IdentityBackend

NAME = "dlib-resnet"
LABEL = "dlib ResNet face descriptor, 5-point aligned (1 − distance; same person ≥ 0.4)"
SHAPE_PREDICTOR = "shape_predictor_5_face_landmarks.dat"
DESCRIPTOR = "dlib_face_recognition_resnet_model_v1.dat"
#: dlib's threshold: descriptors of one person lie closer than this (Euclidean).
SAME_PERSON_DISTANCE = 0.6


def models_folder() -> Path:
    """The folder holding face_recognition_models' .dat files (raises ModelFolderError when not installed)."""
    spec = importlib.util.find_spec("face_recognition_models")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        models = Path(folder) / "models"
        if (models / SHAPE_PREDICTOR).is_file() and (models / DESCRIPTOR).is_file():
            return models
    raise ModelFolderError(
        "the dlib face models are not installed (package face-recognition-models==0.3.0 with "
        f"{SHAPE_PREDICTOR} and {DESCRIPTOR}); reinstall with scripts/setup.sh"
    )


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64)))


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """``1 − distance``: 1 for identical descriptors, ≥ 0.4 for one person by dlib's threshold."""
    return 1.0 - distance(a, b)


class DlibFaceEmbedder:
    """Frame (RGB uint8) → 128-d descriptor of its most confident face, or None when no face is found.

    Thread-safe (one lock: dlib's models are not documented as re-entrant). Given the previous frame's face
    box, it looks there first (a crop around it), which is several times faster than searching a whole frame.
    """

    def __init__(self, folder: Path | None = None) -> None:
        import dlib

        folder = Path(folder) if folder is not None else models_folder()
        try:
            self._detector = dlib.get_frontal_face_detector()
            self._shape = dlib.shape_predictor(str(folder / SHAPE_PREDICTOR))
            self._descriptor = dlib.face_recognition_model_v1(str(folder / DESCRIPTOR))
        except RuntimeError as error:  # dlib's error for a missing or corrupt .dat
            raise ModelFolderError(f"{folder}: could not load the dlib face models ({error})") from None
        self._dlib = dlib
        self._lock = threading.Lock()

    def _detect(self, image: np.ndarray, upsample: int):
        rects, scores, _ = self._detector.run(image, upsample, 0.0)
        if not rects:
            return None
        return rects[int(np.argmax(scores))]

    def find_face(self, image: np.ndarray, near: tuple[int, int, int, int] | None = None):
        """dlib rectangle of the most confident face (in ``image`` pixels), or None; ``near`` is a box to try
        first."""
        h, w = image.shape[:2]
        if near is not None:
            x0, y0, x1, y1 = near
            m = max(x1 - x0, y1 - y0)
            cx0, cy0, cx1, cy1 = max(0, x0 - m), max(0, y0 - m), min(w, x1 + m), min(h, y1 + m)
            if cx1 - cx0 > 40 and cy1 - cy0 > 40:
                rect = self._detect(np.ascontiguousarray(image[cy0:cy1, cx0:cx1]), 0)
                if rect is not None:
                    return self._dlib.rectangle(rect.left() + cx0, rect.top() + cy0, rect.right() + cx0,
                                                rect.bottom() + cy0)
        for upsample in (0, 1):  # faces under ~80 px need the upsampled pass
            rect = self._detect(image, upsample)
            if rect is not None:
                return rect
        return None

    def describe(self, image: np.ndarray, near: tuple[int, int, int, int] | None = None
                 ) -> tuple[np.ndarray | None, tuple[int, int, int, int] | None]:
        """(128-d descriptor, face box) of the most confident face, or (None, None)."""
        image = np.ascontiguousarray(image, dtype=np.uint8)
        with self._lock:
            rect = self.find_face(image, near)
            if rect is None:
                return None, None
            shape = self._shape(image, rect)
            vector = np.asarray(self._descriptor.compute_face_descriptor(image, shape), np.float32)
        return vector, (rect.left(), rect.top(), rect.right(), rect.bottom())

    def __call__(self, image: np.ndarray) -> np.ndarray | None:
        return self.describe(image)[0]


#: Process-wide registry: the one loaded dlib embedder, written only by ``shared_embedder`` and
#: ``describe_in_helper_process`` under the lock.
_EMBEDDER: DlibFaceEmbedder | HelperEmbedder | None = None
#: Process-wide registry: whether that embedder runs in a helper process, written only by
#: ``describe_in_helper_process`` under the lock.
_IN_HELPER_PROCESS = False
_EMBEDDER_LOCK = threading.Lock()


def describe_in_helper_process(enabled: bool = True) -> None:
    """From now on, run dlib in a helper process (``studio.faces.dlib_process``): for a program whose GUI
    thread must not wait while dlib holds the interpreter lock (the window). The CLI keeps it in-process."""
    global _EMBEDDER, _IN_HELPER_PROCESS
    with _EMBEDDER_LOCK:
        if enabled != _IN_HELPER_PROCESS:
            if isinstance(_EMBEDDER, HelperEmbedder):
                _EMBEDDER.close()
            _EMBEDDER, _IN_HELPER_PROCESS = None, enabled


def shared_embedder() -> DlibFaceEmbedder | HelperEmbedder:
    """One loaded embedder per process (loading takes a fraction of a second, but renders repeat): the
    process-wide registry ``_EMBEDDER``, written only here."""
    global _EMBEDDER
    with _EMBEDDER_LOCK:
        if _EMBEDDER is None:
            _EMBEDDER = HelperEmbedder() if _IN_HELPER_PROCESS else DlibFaceEmbedder()
        return _EMBEDDER


def dlib_backend(reference_rgb: np.ndarray) -> tuple[IdentityBackend | None, str | None]:
    """The dlib identity backend for this reference photo, or (None, why not). Cheap: the models load and
    the photo is described only when scoring starts (``IdentityScorer.from_backend``)."""
    try:
        import dlib  # noqa: F401  (only whether it is installed)

        models_folder()
    except ImportError:
        return None, "neither antelopev2 nor dlib (package dlib-bin) is installed"
    except ModelFolderError as error:
        return None, str(error)
    last: list[tuple[int, int, int, int] | None] = [None]  # this render's previous face box: looked at first

    def describe_reference() -> np.ndarray | None:
        vector, last[0] = shared_embedder().describe(reference_rgb)
        return vector

    def embed(frame: np.ndarray) -> np.ndarray | None:
        vector, last[0] = shared_embedder().describe(frame, last[0])
        return vector

    return IdentityBackend(NAME, LABEL, None, embed, similarity, describe_reference=describe_reference,
                           no_reference_reason="dlib found no face in the reference photo, so identity cannot "
                                               "be scored"), None
