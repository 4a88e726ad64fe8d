"""Ground-truth checks of a warp: broken-pixel share and PSNR inside the person.

When the driving skeleton is the photo's own skeleton moved by a known transform, the right frame is known:
the photo moved by that transform. Shared by the warp tests and ``bench/warp.py``, so both measure the same
thing.
"""

from __future__ import annotations

import cv2
import numpy as np

#: A pixel "matches" when every channel is within this many levels (of 255): well above the resampling
#: difference of two bilinear reads of the same place, well below the difference between two parts of a photo.
MATCH_LEVELS = 16


def _disc(radius: int) -> list[tuple[int, int]]:
    return [(dy, dx) for dy in range(-radius, radius + 1) for dx in range(-radius, radius + 1)
            if dy * dy + dx * dx <= radius * radius]


def broken_share(frame: np.ndarray, expected: np.ndarray, inside: np.ndarray, radius: int = 4,
                 levels: int = MATCH_LEVELS) -> float:
    """Share of the ``inside`` pixels whose expected colour appears nowhere within ``radius`` px in ``frame``.

    A warp that is off by a pixel or two still matches (the colour is found nearby); a tear, a smear, a
    missing chunk or a hole does not. ``frame`` and ``expected`` are RGB uint8 [H, W, 3], ``inside`` a bool
    mask [H, W].
    """
    inside = np.asarray(inside, bool)
    n = int(inside.sum())
    if n == 0:
        return 0.0
    ys, xs = np.nonzero(inside)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1  # only the person's box matters
    r = radius
    padded = cv2.copyMakeBorder(frame, r, r, r, r, cv2.BORDER_REPLICATE)
    exp = np.ascontiguousarray(expected[y0:y1, x0:x1])
    h, w = y1 - y0, x1 - x0
    matched = np.zeros((h, w), bool)
    for dy, dx in _disc(radius):
        window = padded[y0 + r + dy:y0 + r + dy + h, x0 + r + dx:x0 + r + dx + w]
        diff = cv2.absdiff(window, exp)
        worst = cv2.max(cv2.max(diff[..., 0], diff[..., 1]), diff[..., 2])
        matched |= worst <= levels
    return float((~matched & inside[y0:y1, x0:x1]).sum() / n)


def masked_psnr(frame: np.ndarray, expected: np.ndarray, inside: np.ndarray) -> float:
    """PSNR in dB over the ``inside`` pixels (all channels); infinite when they are identical."""
    inside = np.asarray(inside, bool)
    diff = frame.astype(np.float64)[inside] - expected.astype(np.float64)[inside]
    mse = float((diff * diff).mean()) if diff.size else 0.0
    return float("inf") if mse == 0.0 else float(10.0 * np.log10(255.0 ** 2 / mse))


def moved_truth(image: np.ndarray, matte: np.ndarray, transform: np.ndarray,
                erode: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """The photo moved by a forward 2×3 ``transform``, and where the person lands in it (the photo's own
    segmentation moved the same way, eroded by ``erode`` px so that edges, where the matte is soft, and
    places the photo never showed do not count)."""
    h, w = matte.shape
    expected = cv2.warpAffine(image, transform, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    person = cv2.warpAffine((matte > 0.5).astype(np.uint8), transform, (w, h), flags=cv2.INTER_NEAREST,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    if erode > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * erode + 1, 2 * erode + 1))
        person = cv2.erode(person, kernel)
    return expected, person.astype(bool)


def similarity(angle_deg: float, scale: float, shift: tuple[float, float], center: tuple[float, float]) -> np.ndarray:
    """Forward 2×3 similarity: rotate by ``angle_deg`` (counter-clockwise on screen) and scale about
    ``center``, then shift."""
    m = np.asarray(cv2.getRotationMatrix2D((float(center[0]), float(center[1])), angle_deg, scale), np.float64)
    m[:, 2] += shift
    return m


def moved_pose(pose, transform: np.ndarray):
    """A ``PoseFrame`` with every point moved by the forward 2×3 ``transform`` (scores kept)."""
    out = pose.copy()
    for arr in (out.body, out.face, out.left_hand, out.right_hand):
        arr[:, :2] = arr[:, :2] @ transform[:, :2].T + transform[:, 2]
    if out.face_box is not None:
        x0, y0, x1, y1 = out.face_box
        corners = np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]]) @ transform[:, :2].T + transform[:, 2]
        out.face_box = (*corners.min(0), *corners.max(0))
    return out


def other_face_shape(pose, frame: int):
    """``pose`` with another person's face shape — wider and shorter, eyes further apart, mouth lower — and
    the head turning and shifting a little with ``frame``: a driver whose face must not reshape the photo's."""
    out = pose.copy()
    face = out.face[:, :2].astype(np.float64)
    mid = face.mean(0)
    face = mid + (face - mid) * [1.25, 0.9]
    face[36:48, 0] += np.sign(face[36:48, 0] - mid[0]) * 4.0
    face[48:68, 1] += 6.0
    out.face[:, :2] = face
    turn = similarity(4.0 * np.sin(frame), 1.0, (8.0 * np.cos(frame), 4.0 * np.sin(frame)), pose.body[1, :2])
    return moved_pose(out, turn)
