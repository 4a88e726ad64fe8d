"""Square windows of a frame given to the pose model, and the poses found in them mapped back to the frame.

A person 150 px tall in a 1768×994 frame is a few dozen pixels once the pose model has shrunk the whole frame to
its input size; the same person cut out with some margin and scaled up fills that input and gets the keypoint
quality of a close-up. A window may reach past the frame's edge (the outside is black), so the person stays
centred and the window keeps its shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.motion.types import PoseFrame

#: Windows are scaled to at most this many pixels a side (the face and hand models crop from this image, so
#: a small person is scaled up to at least MIN_SIDE).
MAX_SIDE = 512
MIN_SIDE = 320
#: Points mapped back further than this fraction outside the frame are not points of the frame. None at all:
#: what the model sees past the frame's edge is the window's black padding, where it places hidden joints
#: with confidence (the whole-frame model, which cannot place them past the edge, left them unscored).
OUTSIDE = 0.0


@dataclass(frozen=True)
class Window:
    """A square window of the frame: centre and side in frame pixels."""

    cx: float
    cy: float
    side: float
    #: The frame itself, as it is (not squared, not scaled): what a window around a close-up amounts to.
    full: bool = False

    @property
    def box(self) -> tuple[float, float, float, float]:
        half = self.side / 2
        return (self.cx - half, self.cy - half, self.cx + half, self.cy + half)


#: A window at least as large as the frame's long side is the frame itself (cropping gains nothing there, and
#: black padding past the edges would only give the model room to place joints the frame does not show).
WHOLE = 1.0


def whole_frame(width: int, height: int) -> Window:
    return Window(width / 2, height / 2, float(max(width, height)), full=True)


def window_around(box: tuple[float, float, float, float], width: int, height: int, margin: float = 0.35,
                  min_side: float = 64.0) -> Window:
    """The square window holding ``box`` with ``margin`` (a fraction of its longer side) on every side."""
    x0, y0, x1, y1 = box
    side = max(max(x1 - x0, y1 - y0) * (1 + 2 * margin), min_side)
    if side >= WHOLE * max(width, height):
        return whole_frame(width, height)
    return Window((x0 + x1) / 2, (y0 + y1) / 2, side)


def _pixels(window: Window) -> tuple[int, int, int]:
    """The window's top-left corner and side in whole pixels (what ``cut`` takes and ``to_frame`` undoes)."""
    if window.full:
        return 0, 0, int(round(window.side))
    side = max(2, int(round(window.side)))
    return int(round(window.cx - side / 2)), int(round(window.cy - side / 2)), side


def cut(frame: np.ndarray, window: Window) -> tuple[np.ndarray, float]:
    """The window's pixels scaled to a square image of MIN_SIDE–MAX_SIDE pixels, and that scale."""
    import cv2

    if window.full:
        return frame, 1.0
    height, width = frame.shape[:2]
    x0, y0, side = _pixels(window)
    ax0, ay0, ax1, ay1 = max(0, x0), max(0, y0), min(width, x0 + side), min(height, y0 + side)
    if ax1 <= ax0 or ay1 <= ay0:
        part = np.zeros((side, side, 3), np.uint8)
    else:
        part = frame[ay0:ay1, ax0:ax1]
        if (ax0, ay0, ax1, ay1) != (x0, y0, x0 + side, y0 + side):
            part = cv2.copyMakeBorder(part, ay0 - y0, y0 + side - ay1, ax0 - x0, x0 + side - ax1,  # type: ignore[assignment]  # cv2 stubs type results as Mat | ndarray of any number
                                      cv2.BORDER_CONSTANT, value=(0, 0, 0))
    out = min(MAX_SIDE, max(MIN_SIDE, side))
    scale = out / side
    if out != side:
        part = cv2.resize(part, (out, out), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)  # type: ignore[assignment]  # cv2 stubs type results as Mat | ndarray of any number
    return np.ascontiguousarray(part), scale


def to_frame(pose: PoseFrame, window: Window, scale: float, width: int, height: int) -> PoseFrame:
    """``pose`` found in the window's image, in frame pixels; points well outside the frame lose their score."""
    x0, y0, _ = _pixels(window)
    out = pose.copy()
    bodies = [out.body] if out.own_head is None else [out.body, out.own_head]  # (its own head points: ``head``)
    for points in bodies + [out.face, out.left_hand, out.right_hand]:
        points[:, 0] = points[:, 0] / scale + x0
        points[:, 1] = points[:, 1] / scale + y0
    for body in bodies:
        outside = ((body[:, 0] < -OUTSIDE * width) | (body[:, 0] > (1 + OUTSIDE) * width)
                   | (body[:, 1] < -OUTSIDE * height) | (body[:, 1] > (1 + OUTSIDE) * height))
        body[outside, 2] = 0.0
    if out.face_box is not None:
        fx0, fy0, fx1, fy1 = out.face_box
        out.face_box = (fx0 / scale + x0, fy0 / scale + y0, fx1 / scale + x0, fy1 / scale + y0)
    return out


def search_windows(width: int, height: int) -> list[Window]:
    """The whole frame, then overlapping squares of 60 % of the short side (small people in wide shots)."""
    windows = [whole_frame(width, height)]
    side = 0.6 * min(width, height)
    step = side / 2
    for grid_y in _positions(height, side, step):
        for grid_x in _positions(width, side, step):
            windows.append(Window(grid_x, grid_y, side))
    return windows


def _positions(length: float, side: float, step: float) -> list[float]:
    """Centres of windows of ``side`` covering ``length`` with at most ``step`` between them."""
    if length <= side:
        return [length / 2]
    count = int(np.ceil((length - side) / step)) + 1
    return list(np.linspace(side / 2, length - side / 2, count))
