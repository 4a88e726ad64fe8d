"""Slow work never runs on the GUI thread: while a fake slow step lasts, the GUI thread's event loop keeps
running. Each fake step waits for an event that only a timer on the GUI thread sets, so the test does not time
anything: on the GUI thread the step would wait in vain (and fail), off it the loop fires the timer."""

from __future__ import annotations

import threading

from PySide6.QtCore import QTimer

from tests.ui.conftest import wait_task
from tests.ui.layout_states import make_result
from ui import core, render_bridge
from ui.motion_panel import MotionPanel
from ui.result_panel import ResultPanel
from ui.workers import TaskRunner

#: Set by a timer on the GUI thread's event loop (so only once that loop runs).
GUI_LOOP_RAN = threading.Event()


def _needs_the_event_loop(real, threads: list[bool]):
    """``real`` wrapped: it first waits until the GUI thread's event loop has run a timer."""

    def slow(*args, **kwargs):
        threads.append(threading.current_thread() is threading.main_thread())
        assert GUI_LOOP_RAN.wait(10), "the GUI event loop did not run while the step ran"
        return real(*args, **kwargs)

    return slow


def _slowed(monkeypatch, owner, name: str) -> list[bool]:
    """``owner.name`` made to wait for the GUI event loop; the list says, per call, whether it ran on the GUI
    thread."""
    threads: list[bool] = []
    GUI_LOOP_RAN.clear()
    monkeypatch.setattr(owner, name, _needs_the_event_loop(getattr(owner, name), threads))
    return threads


def test_opening_a_video_probes_and_decodes_off_the_gui_thread(qtbot, monkeypatch, sample_video):
    runner = TaskRunner()
    panel = MotionPanel(runner)
    qtbot.addWidget(panel)
    threads = _slowed(monkeypatch, core, "probe_video")
    opened: list[str] = []
    panel.video_loaded.connect(lambda path, _info: opened.append(path))
    task = panel.load(sample_video)
    QTimer.singleShot(0, GUI_LOOP_RAN.set)  # fires only if load() returned and the loop runs
    wait_task(qtbot, task)
    assert task.outcome == "succeeded", task.error
    assert threads == [False], "the video was probed on the GUI thread"
    assert opened == [sample_video] and len(panel.frames) == 48
    runner.shutdown()


def test_a_file_that_is_not_a_video_leaves_the_open_video_in_place(qtbot, tmp_path, sample_video):
    runner = TaskRunner()
    panel = MotionPanel(runner)
    qtbot.addWidget(panel)
    wait_task(qtbot, panel.load(sample_video))
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    errors: list[str] = []
    panel.failed.connect(errors.append)
    wait_task(qtbot, panel.load(str(bad)))
    assert errors and panel.path == sample_video and len(panel.frames) == 48
    assert "not a video" in panel.info_label.text()
    runner.shutdown()


def test_the_autosave_after_an_edit_is_written_off_the_gui_thread(qtbot, window, monkeypatch):
    """The autosave serialises the whole skeleton (hundreds of ms for a long clip): after an edit it is
    written by a worker, and a later autosave on closing is never replaced by an older one still in flight."""
    session = window.session
    threads: list[bool] = []
    written: list[str] = []
    GUI_LOOP_RAN.clear()
    real_write = session.write
    monkeypatch.setattr(session, "write", _needs_the_event_loop(
        lambda data: (written.append(data["autosave"]["last_result"]), real_write(data)), threads))
    window.last_result = "older.mp4"
    window._autosave_in_background()  # (what the autosave timer calls after an edit)
    QTimer.singleShot(0, GUI_LOOP_RAN.set)
    qtbot.waitUntil(lambda: "older.mp4" in written, timeout=20000)
    assert threads and not any(threads), "the autosave was written on the GUI thread"
    assert session.read()["autosave"]["last_result"] == "older.mp4"

    # an older autosave taken before the closing one is dropped when it comes late
    older = window._take_autosave()
    window.last_result = "newer.mp4"
    wait_task(qtbot, window.write_last_autosave())
    window._write_autosave(*older)
    assert session.read()["autosave"]["last_result"] == "newer.mp4"


def test_closing_writes_its_autosave_off_the_gui_thread_and_whole(qtbot, window, monkeypatch):
    """Closing writes the last autosave on a worker thread while the window's event loop keeps running (the write
    goes on only once a timer that loop alone fires has run); when close returns the file is whole and the
    session has ended after it."""
    session = window.session
    threads: list[bool] = []
    GUI_LOOP_RAN.clear()
    monkeypatch.setattr(session, "write", _needs_the_event_loop(session.write, threads))
    window.last_result = "closing.mp4"
    window.ask_nothing_on_close()  # (nothing to ask: the answers are not what is tested)
    QTimer.singleShot(0, GUI_LOOP_RAN.set)
    window.close()
    assert not window.isVisible()
    assert threads == [False], "the autosave was written on the GUI thread when closing"
    assert session.read()["autosave"]["last_result"] == "closing.mp4"
    assert not session.owner and not (session.folder / "session.open").exists()
    assert [p.name for p in session.folder.iterdir() if p.name.endswith(".part")] == []  # no temporary file left


def test_a_result_and_its_sidecar_are_read_off_the_gui_thread(qtbot, monkeypatch, tmp_path):
    runner = TaskRunner()
    panel = ResultPanel(runner)
    qtbot.addWidget(panel)
    threads = _slowed(monkeypatch, render_bridge, "read_sidecar")
    result = str(make_result(tmp_path))
    task = panel.load_result(result)
    QTimer.singleShot(0, GUI_LOOP_RAN.set)
    wait_task(qtbot, task)
    assert task.outcome == "succeeded", task.error
    assert threads == [False], "the sidecar was read on the GUI thread"
    assert panel.path == result and len(panel.frames) == 8 and panel.caption.startswith("warp preview")
    runner.shutdown()


def test_the_warm_up_freezes_what_the_imports_left_for_the_garbage_collector():
    """A full garbage collection visits every object holding the interpreter lock (~1 s for what torch,
    diffusers and mediapipe leave): after the warm-up those objects are frozen, never visited again."""
    import gc

    from ui.warm_up import warm_up

    gc.unfreeze()
    try:
        assert gc.get_freeze_count() == 0
        assert warm_up() is True
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # (the rest of the test session as it was)
