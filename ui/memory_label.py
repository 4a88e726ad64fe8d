"""The predicted peak memory of the current settings, shown beside the Render button.

The estimate (``studio.render.memory.request_memory_line``) traces the model on the meta device — milliseconds for small models, seconds for
the released one — so it runs on a worker thread, 400 ms after the last settings change; an older estimate that
finishes late is dropped.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QLabel, QWidget

from studio.request.render_request import RenderRequest


class MemoryLabel(QLabel):
    _estimated = Signal(int, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setToolTip("Predicted peak memory of a render with these settings (python -m studio render --dry-run "
                        "prints the breakdown)")
        self.setContentsMargins(8, 0, 8, 0)
        self._generation = 0
        self._pending: RenderRequest | None = None
        self._workers: list[threading.Thread] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(400)
        self._timer.timeout.connect(self._start)
        self._estimated.connect(self._show)

    def update_for(self, request: RenderRequest) -> None:
        """Re-estimate for the project's request (debounced; the request is frozen, so it is safe to share)."""
        self._pending = request
        self._timer.start()

    def _start(self) -> None:
        request = self._pending
        self._generation += 1
        if request is None or request.engine == "warp":
            self.setText("")
            return
        self.setText("estimating memory…")
        worker = threading.Thread(target=self._work, args=(self._generation, request), name="memory estimate",
                                  daemon=True)
        self._workers = [w for w in self._workers if w.is_alive()] + [worker]
        worker.start()

    def estimating(self) -> bool:
        """An estimate is due or running (its trace competes with a render's loading for the interpreter)."""
        return self._timer.isActive() or any(worker.is_alive() for worker in self._workers)

    def stop(self, timeout_s: float = 60.0) -> None:
        """Stop estimating and wait for running estimates (closing the window). A trace cannot be interrupted and
        takes seconds at most; a daemon thread still tracing when Python exits is killed inside torch's tensor
        code, which aborts the process (an uncaught forced unwind), so the window waits for it instead."""
        self._timer.stop()
        self._generation += 1  # a late result is dropped
        for worker in self._workers:
            worker.join(timeout_s)
        self._workers = [w for w in self._workers if w.is_alive()]

    def _work(self, generation: int, request: RenderRequest) -> None:
        try:
            from studio.render.memory import request_memory_line

            text = request_memory_line(request)
        except Exception as error:  # noqa: BLE001 — a label must never take the window down
            text = f"memory estimate unavailable: {error}"
        self._estimated.emit(generation, text)

    def _show(self, generation: int, text: str) -> None:
        if generation == self._generation:
            self.setText(text)
