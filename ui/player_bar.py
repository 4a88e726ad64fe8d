"""Play/pause, a frame slider and a frame counter: the transport shared by the motion and result players."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QStyle, QToolButton, QWidget


class PlayerBar(QWidget):
    frame_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.play_button = QToolButton()
        self.play_button.setObjectName("play_button")
        # the style's own media icons: a glyph like ⏸ is an empty box in fonts that lack it
        self._icons = {playing: self.style().standardIcon(pixmap) for playing, pixmap in (
            (False, QStyle.StandardPixmap.SP_MediaPlay), (True, QStyle.StandardPixmap.SP_MediaPause))}
        self.play_button.setIcon(self._icons[False])
        self.play_button.setText("Play")
        self.play_button.setToolTip("Play")
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self._toggled)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("Scrub through the frames")
        self.slider.valueChanged.connect(self.frame_changed)
        self.slider.valueChanged.connect(self._update_label)
        self.label = QLabel("0 / 0")
        self.label.setMinimumWidth(70)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.play_button)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        self.direction = 1  # -1 plays backwards (J in the video-editor keys)
        self.fps = 12.0
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self.set_count(0)
        self.set_fps(12.0)

    def set_count(self, count: int) -> None:
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, count - 1))
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self.count = count
        self.setEnabled(count > 0)
        if count == 0:
            self.play_button.setChecked(False)
        self._update_label()

    def set_fps(self, fps: float) -> None:
        self.fps = fps
        self.timer.setInterval(max(15, int(1000 / max(1.0, fps))))

    def frame(self) -> int:
        return self.slider.value()

    def set_frame(self, index: int) -> None:
        self.slider.setValue(index)

    def _toggled(self, playing: bool) -> None:
        self.play_button.setIcon(self._icons[playing])
        self.play_button.setText("Pause" if playing else "Play")
        self.play_button.setToolTip("Pause" if playing else "Play")
        if playing:
            self.timer.start()
        else:
            self.timer.stop()

    def _tick(self) -> None:
        if self.count:
            self.slider.setValue((self.slider.value() + self.direction) % self.count)

    # the video-editor keys (the window's shortcuts call these on the player in use) ---------------
    def toggle(self) -> None:
        self.direction = 1
        self.play_button.setChecked(not self.play_button.isChecked() and self.count > 0)

    def play(self, direction: int) -> None:
        self.direction = direction
        self.play_button.setChecked(self.count > 0)

    def step(self, frames: int) -> None:
        """Move by ``frames`` (a paused player: the person is looking at single frames)."""
        self.stop()
        self.set_frame(max(0, min(self.count - 1, self.frame() + frames)))

    def step_seconds(self, seconds: int) -> None:
        self.step(seconds * max(1, round(self.fps)))

    def go_to_end(self, end: bool) -> None:
        self.stop()
        self.set_frame(max(0, self.count - 1) if end else 0)

    def _update_label(self) -> None:
        self.label.setText(f"{self.slider.value() + 1 if self.count else 0} / {self.count}")

    def stop(self) -> None:
        self.play_button.setChecked(False)
