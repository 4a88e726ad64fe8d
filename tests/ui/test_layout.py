"""The window a person meets: it fits from 1024×640 up (nothing drawn over anything, no text cut), says
what to do without weights, shows errors in the message area, and its transport buttons have icons."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from tests.ui.conftest import wait_task
from ui.layout_audit import layout_problems, overlaps

REPO = Path(__file__).resolve().parents[2]


SIZES = ["1024x640", "1280x720", "1366x768", "1920x1080", "2560x1440"]


def _run_states(tmp_path, screen: tuple[int, int], dpr: int, sizes: list[str], home) -> tuple[int, dict, str]:
    """Run ``tests.ui.layout_states`` in a subprocess on an offscreen screen of that size and pixel ratio."""
    config = tmp_path / f"screen_{dpr}.json"
    config.write_text(json.dumps({"screens": [{"name": "screen", "x": 0, "y": 0, "width": screen[0],
                                               "height": screen[1], "logicalDpi": 96, "logicalBaseDpi": 96,
                                               "dpr": dpr}]}))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}", STUDIO_HOME=str(home),
               OMP_NUM_THREADS="1")
    env.pop("QT_SCALE_FACTOR", None)
    proc = subprocess.run([sys.executable, "-m", "tests.ui.layout_states", *sizes], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert lines, proc.stderr[-3000:]
    return proc.returncode, json.loads(lines[-1]), proc.stderr


@pytest.mark.parametrize("dpr", [1, 2])
def test_every_state_fits_every_screen(tmp_path, _isolated_studio_home, dpr):
    """The first-run bar, a loaded clip, a running render and a shown result, each at 1024×640 … 2560×1440
    (logical pixels) on a screen of pixel ratio 1 and 2: the window takes each size, nothing is drawn over
    anything, no text is cut and every picture keeps real room."""
    code, report, stderr = _run_states(tmp_path, (2560, 1440), dpr, SIZES, _isolated_studio_home)
    assert report["dpr"] == dpr
    assert report["minimum"][0] <= 1024 and report["minimum"][1] <= 640
    assert report["problems"] == [], "\n".join(report["problems"])
    assert code == 0, stderr[-3000:]


def test_first_launch_takes_the_available_screen(tmp_path, _isolated_studio_home):
    """A first launch on a 1366×768 laptop fills the screen and is never larger than it."""
    _code, report, _stderr = _run_states(tmp_path, (1366, 768), 1, [], _isolated_studio_home)
    assert report["first_launch"] == report["available"] == [0, 0, 1366, 768]


def test_the_audit_finds_overlaps_and_cut_labels(qtbot):
    host = QWidget()
    qtbot.addWidget(host)
    host.resize(200, 100)
    a, b = QLabel("first label with long text", host), QLabel("second", host)
    a.setGeometry(0, 0, 40, 20)  # narrower than its text
    b.setGeometry(20, 5, 60, 20)  # drawn over the first
    host.show()
    assert any("overlaps" in p for p in overlaps(host))
    assert any("its text needs" in p for p in layout_problems(host))


def test_settings_dock_grows_with_the_window_and_is_not_saved_absurdly(qtbot, window):
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.width() == 1024)
    window.resize(2400, 1300)
    qtbot.waitUntil(lambda: window.settings_dock.width() >= 0.2 * 2400, timeout=3000)
    window.resizeDocks([window.settings_dock], [2000], Qt.Orientation.Horizontal)  # dragged far too wide
    window.save_settings()
    assert window.settings_dock.width() <= 0.45 * window.width()


def test_without_weights_the_engine_is_warp_and_the_window_says_what_to_do(window, qtbot, tiny_fixture_dir):
    assert window.project.request.engine == "warp"
    bar = window.message_bar
    assert bar.isVisible() and "photo" in bar.text() and "weights" in bar.text()
    labels = [b.text() for b in bar.buttons()]
    assert "Open the samples" in labels and "Add weights…" in labels
    decode = next(b for b in bar.buttons() if b.text() == "Open the samples")
    decode.click()
    qtbot.waitUntil(lambda: bool(window.project.request.motion))
    for task in window.runner.running():
        wait_task(qtbot, task)
    assert window.render_block_reason() is None  # the warp engine renders without weights
    assert not bar.isVisible()
    window.parameter_panel.set_value("engine", "diffusion")
    assert bar.isVisible() and bar.level == "warning" and "weights" in bar.text()
    next(b for b in bar.buttons() if b.text() == "Use the warp engine").click()
    assert window.project.request.engine == "warp" and not bar.isVisible()
    window.set_models_dir(str(tiny_fixture_dir / "checkpoints"))  # weights added: their engine
    assert window.project.request.engine == "diffusion"
    window.undo_action.trigger()
    assert window.project.request.engine == "warp"


def test_errors_go_to_the_message_area(window, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    assert not window.open_project(str(bad))
    assert window.message_bar.level == "error"
    assert "not a StableAnimator Studio project" in window.message_bar.text()
    window.message_bar.close_button.click()
    assert not window.message_bar.isVisible()


def test_play_button_has_an_icon_for_each_state(window):
    button = window.motion_panel.player.play_button
    play = button.icon().cacheKey()
    assert not button.icon().isNull() and button.toolTip() == "Play"
    window.motion_panel.player.setEnabled(True)
    button.setChecked(True)
    assert not button.icon().isNull() and button.icon().cacheKey() != play and button.toolTip() == "Pause"
    button.setChecked(False)


def test_closing_does_not_wait_for_an_import_in_flight(qtbot, monkeypatch):
    """The background warm-up runs imports, which cannot be cancelled: closing the window must not wait for one.
    Here the warm-up is an "import" that only ends when the test says so."""
    import threading

    import ui.main_window
    from ui.main_window import MainWindow

    started, release = threading.Event(), threading.Event()

    def endless_import(*_args) -> bool:
        started.set()
        release.wait(60)  # a close that joined this thread would sit here for a minute, then find it ended
        return True

    monkeypatch.setattr(ui.main_window, "warm_up", endless_import)
    win = MainWindow()
    qtbot.addWidget(win)
    try:
        qtbot.waitUntil(started.is_set, timeout=10000)
        win.shutdown()
        assert win._warmup_thread.is_alive(), "closing waited for the warm-up's import"
        assert not win.runner.running()
    finally:
        release.set()
        win._warmup_thread.join(10)


def test_queue_table_follows_the_running_job(qtbot, tmp_path):
    from studio.request.render_request import RenderRequest
    from studio.service import Studio
    from ui.queue_panel import QueuePanel
    from ui.workers import TaskRunner

    for name in ("a.jpg", "b.mp4"):
        (tmp_path / name).write_bytes(b"x")

    studio = Studio(renderer=object(), queue_path=tmp_path / "queue.db")
    request = RenderRequest(reference=str(tmp_path / "a.jpg"), motion=str(tmp_path / "b.mp4"), engine="warp", seed=1)
    ids = [studio.queue.add(request, tmp_path / f"o{i}.mp4") for i in range(30)]
    for _ in ids[:24]:
        job = studio.queue.claim_next()
        studio.queue.finish(job.id)
    running = studio.queue.claim_next()
    panel = QueuePanel(TaskRunner(), studio)
    qtbot.addWidget(panel)
    panel.resize(600, 200)
    panel.show()
    with qtbot.waitSignal(panel.refreshed, timeout=30000):  # (read on a worker thread)
        panel.refresh()
    row = next(r for r in range(panel.table.rowCount())
               if int(panel.table.item(r, 0).data(Qt.ItemDataRole.UserRole)) == running.id)
    rect = panel.table.visualItemRect(panel.table.item(row, 0))
    assert panel.table.viewport().rect().intersects(rect), "the running job is scrolled out of view"
    panel.stop()


def test_the_audit_finds_painted_text_that_leaves_its_room(qtbot):
    from PySide6.QtCore import QRectF

    from ui.layout_audit import cut_painted_text
    from ui.painted_text import PaintedText

    host = QWidget()
    qtbot.addWidget(host)
    host.resize(200, 100)
    painter_widget = QWidget(host)
    painter_widget.setGeometry(0, 0, 120, 40)
    painter_widget.painted_texts = [PaintedText("a caption", "a caption", QRectF(0, 0, 60, 20),
                                                QRectF(0, 2, 75, 15))]
    host.show()
    assert any("paints 'a caption'" in p and "75×15" in p for p in cut_painted_text(host))
    painter_widget.painted_texts = [PaintedText("fits", "fits", QRectF(0, 0, 60, 20), QRectF(0, 2, 30, 15))]
    assert cut_painted_text(host) == []


def test_a_long_caption_wraps_inside_the_picture_and_only_then_is_shortened(qtbot):
    import numpy as np

    from ui.frame_view import FrameView
    from ui.layout_audit import cut_painted_text

    host = QWidget()
    qtbot.addWidget(host)
    view = FrameView(parent=host, tag="result")
    view.setGeometry(0, 0, 230, 166)  # the result view at 1024×640
    view.set_frame(np.zeros((256, 256, 3), np.uint8))
    view.set_caption("live preview — step 1/20 (latent approximation)")
    host.resize(240, 170)
    host.show()
    view.grab()
    caption = next(p for p in view.painted_texts if p.text.startswith("live preview"))
    assert caption.shown == caption.text and caption.covers.height() > view.fontMetrics().lineSpacing()  # wrapped
    assert cut_painted_text(host) == [] and view.toolTip() == ""
    long = "warp preview — not model output. " * 8
    view.set_caption(long)
    view.grab()
    caption = next(p for p in view.painted_texts if p.text == long)
    assert caption.shortened and caption.shown.endswith("…") and view.toolTip() == long  # the whole text on hover
    assert cut_painted_text(host) == []
