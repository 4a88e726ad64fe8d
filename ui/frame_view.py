"""A widget that paints one decoded frame itself, with optional skeleton, face box and caption.

Video is shown by painting decoded frames (never a QVideoWidget, whose content ``grab()`` cannot see), so
screenshots and tests see exactly what a person sees.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QTransform
from PySide6.QtWidgets import QSizePolicy, QWidget

from studio.motion.types import PoseFrame
from ui.painted_text import PaintedText, draw_text
from ui.skeleton_painter import paint_box, paint_pose


def to_qimage(frame: np.ndarray) -> QImage:
    """RGB (or grey) uint8 array → an owned QImage."""
    frame = np.ascontiguousarray(frame)
    if frame.ndim == 2:
        h, w = frame.shape
        return QImage(frame.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    h, w = frame.shape[:2]
    if frame.shape[2] == 4:
        return QImage(frame.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
    return QImage(frame.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


#: The most lines a caption wraps onto before it is shortened with "…" (more would hide the picture).
CAPTION_LINES = 3
#: The followed person's box, and the boxes of the people one can pick instead.
FOLLOWED_COLOUR = QColor(90, 200, 255)
CANDIDATE_COLOUR = QColor(255, 214, 102)


class FrameView(QWidget):
    """Shows a picture scaled to fit, plus overlays drawn in the picture's pixel coordinates."""

    files_dropped = Signal(list)
    #: A click on the picture while picking (``set_picking``): x, y in the pixels the boxes are in.
    picked = Signal(float, float)

    def __init__(self, placeholder: str = "", parent: QWidget | None = None, accept_drops: bool = False,
                 tag: str = "") -> None:
        super().__init__(parent)
        #: A small name painted in the top-left corner ("reference", "pose", "result"): costs no layout space.
        self.tag = tag
        self._image: QImage | None = None
        self._pose: PoseFrame | None = None
        self._pose_size: tuple[int, int] | None = None
        self._box = None
        #: The followed person's box, the candidates' boxes, and the (w, h) of the pixels they are in.
        self._person_box = None
        self._candidates: list = []
        self._boxes_size: tuple[int, int] | None = None
        self._picking = False
        self._caption = ""
        self._placeholder = placeholder
        #: The text drawn by the last paint (``ui.painted_text``: the layout audit checks it fits).
        self.painted_texts: list[PaintedText] = []
        self.setMinimumSize(110, 80)  # (ui.layout_audit.MIN_VIEW: the least a picture can be judged at)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAcceptDrops(accept_drops)

    # state -----------------------------------------------------------------------------------------
    def set_frame(self, frame: np.ndarray | None) -> None:
        self._image = None if frame is None else to_qimage(frame)
        self.update()

    def set_pose(self, pose: PoseFrame | None, pose_size: tuple[int, int] | None = None) -> None:
        """``pose_size`` is (w, h) of the pixel space the pose is in (default: the frame's size)."""
        self._pose, self._pose_size = pose, pose_size
        self.update()

    def set_face_box(self, box) -> None:
        self._box = box
        self.update()

    def set_person_boxes(self, followed, candidates: list, size: tuple[int, int] | None) -> None:
        """The followed person's box (or None) and the boxes one may pick from, in pixels of (w, h) ``size``."""
        self._person_box, self._candidates, self._boxes_size = followed, list(candidates), size
        self.update()

    def set_picking(self, on: bool) -> None:
        """While on, a click on the picture emits ``picked`` (a cross cursor says so)."""
        self._picking = on
        self.setCursor(Qt.CursorShape.CrossCursor if on else Qt.CursorShape.ArrowCursor)

    def set_caption(self, text: str) -> None:
        self._caption = text
        self.setToolTip("")  # (the next paint gives it the caption again if the caption must be shortened)
        self.update()

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self.update()

    def has_frame(self) -> bool:
        return self._image is not None

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(320, 240)

    # painting --------------------------------------------------------------------------------------
    def _target_rect(self) -> QRectF:
        assert self._image is not None
        iw, ih = self._image.width(), self._image.height()
        scale = min(self.width() / iw, self.height() / ih)
        w, h = iw * scale, ih * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt API
        self.painted_texts = []
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(24, 26, 30))
        if self._image is None:
            painter.setPen(QColor(150, 155, 165))
            margin_top = 24 if self.tag else 8  # below the tag
            if self._placeholder:
                draw_text(painter, QRectF(self.rect().adjusted(8, margin_top, -8, -8)),
                          Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._placeholder,
                          self.painted_texts)
            self._paint_tag(painter)
            painter.end()
            return
        target = self._target_rect()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(target, self._image)
        if self._pose is not None:
            paint_pose(painter, self._pose, self._to_widget(target, self._pose_size), width=max(2.0, target.width() / 160))
        if self._box is not None:  # (in the shown image's pixels)
            paint_box(painter, self._box, self._to_widget(target, None), QColor(80, 220, 120), "face")
        if self._person_box is not None or self._candidates:
            to_widget = self._to_widget(target, self._boxes_size)
            for k, box in enumerate(self._candidates):
                paint_box(painter, box, to_widget, CANDIDATE_COLOUR, str(k + 1), dashed=True)
            if self._person_box is not None:  # (unlabelled among numbered candidates: the labels would overlap)
                paint_box(painter, self._person_box, to_widget, FOLLOWED_COLOUR,
                          "" if self._candidates else "followed")
        if self._caption:
            self._paint_caption(painter, target)
        self._paint_tag(painter)
        painter.end()

    def _paint_caption(self, painter: QPainter, target: QRectF) -> None:
        """The caption in a bar at the picture's foot, across the whole view (a tall picture in a wide view must
        not cut it); a caption longer than the view is wide wraps onto up to ``CAPTION_LINES`` lines (it says what
        the picture is, e.g. that it is not the model's output), and only beyond that ends in "…"."""
        flags = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap
        metrics = painter.fontMetrics()
        width = max(1, self.width() - 12)
        wrapped = metrics.boundingRect(0, 0, width, 10_000, int(flags), self._caption).height()
        lines = min(CAPTION_LINES, max(1, math.ceil(wrapped / metrics.lineSpacing())))
        height = min(target.height(), max(22.0, lines * metrics.lineSpacing() + 6))
        bar = QRectF(0, target.bottom() - height, self.width(), height)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 170))
        painter.drawRect(bar)
        painter.setPen(QColor(255, 214, 102))
        painted = draw_text(painter, bar.adjusted(6, 0, -6, 0), flags, self._caption, self.painted_texts)
        self.setToolTip(self._caption if painted.shortened else "")  # the whole caption, where it was cut

    def _to_widget(self, target: QRectF, size: tuple[int, int] | None) -> QTransform:
        """Pixels of a picture of ``size`` (default: the shown image's) → widget coordinates."""
        assert self._image is not None
        width, height = size or (self._image.width(), self._image.height())
        transform = QTransform()
        transform.translate(target.x(), target.y())
        transform.scale(target.width() / width, target.height() / height)
        return transform

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt API
        if not (self._picking and self._image is not None and event.button() == Qt.MouseButton.LeftButton):
            super().mousePressEvent(event)
            return
        target = self._target_rect()
        if not target.contains(event.position()):
            return  # the dark margin around the picture: no pixel of it
        to_picture, _invertible = self._to_widget(target, self._boxes_size).inverted()  # (a scale: always)
        point = to_picture.map(event.position())
        self.picked.emit(point.x(), point.y())
        event.accept()

    def _paint_tag(self, painter: QPainter) -> None:
        if self.tag:
            room = QRectF(6, 4, self.width() - 12, 18)
            # on a dark backing: the light tag vanished into a light picture ("reference" read "referer")
            width = painter.fontMetrics().horizontalAdvance(self.tag)
            painter.fillRect(QRectF(2, 3, min(room.width(), width) + 8, 20), QColor(0, 0, 0, 150))
            painter.setPen(QColor(170, 176, 188))
            draw_text(painter, room, Qt.AlignmentFlag.AlignLeft, self.tag, self.painted_texts)

    # drag and drop ---------------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt API
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            self.files_dropped.emit(paths)
            event.acceptProposedAction()
