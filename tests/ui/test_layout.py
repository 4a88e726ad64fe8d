"""The window a person meets: it fits from 1024×700 up (nothing drawn over anything, no text cut), says
what to do without weights, shows errors in the message area, and its transport buttons have icons."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from tests.ui.conftest import wait_task
from ui.layout_audit import layout_problems, overlaps


@pytest.mark.parametrize("size", [(1024, 700), (1600, 1000), (2560, 1440)])
def test_nothing_overlaps_and_no_text_is_cut(qtbot, window, sample_photo, sample_video, tmp_path, size):
    window.reference_panel.load(sample_photo)
    wait_task(qtbot, window.motion_panel.load(sample_video))
    window.resize(*size)
    qtbot.waitUntil(lambda: window.size().toTuple() == size)
    QApplication.processEvents()
    shot = tmp_path / f"window_{size[0]}x{size[1]}.png"
    assert window.grab().save(str(shot)) and shot.stat().st_size > 10000
    assert window.width() == size[0] and window.height() == size[1]  # the window can be that small
    assert layout_problems(window) == []
    # the panels a person works in get real room, not a sliver
    for panel in (window.reference_panel.view, window.motion_panel.view, window.alignment_view.view,
                  window.result_panel.result_view):
        assert panel.width() >= 110 and panel.height() >= 80, panel
    settings = window.settings_dock.width()
    assert window.parameter_panel.minimumSizeHint().width() <= settings <= 0.45 * size[0]
    table = window.queue_panel.table
    rows_shown = (table.viewport().height()) // table.verticalHeader().defaultSectionSize()
    assert rows_shown >= 3


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
    panel.refresh()
    row = next(r for r in range(panel.table.rowCount())
               if int(panel.table.item(r, 0).data(Qt.ItemDataRole.UserRole)) == running.id)
    rect = panel.table.visualItemRect(panel.table.item(row, 0))
    assert panel.table.viewport().rect().intersects(rect), "the running job is scrolled out of view"
    panel.stop()
