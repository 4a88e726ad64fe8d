"""Nothing is lost: closing asks about unsaved changes and about a running render (finish it in the background,
stop it and keep it queued, or keep working), and a start after a crash offers the autosaved work back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog

from studio.service import Studio
from tests.ui.conftest import wait_task
from tests.ui.fake_renderers import GatedRenderer
from ui.session_actions import CANCEL, DISCARD, FINISH_IN_BACKGROUND, SAVE, STOP_KEEP_QUEUE

REPO = Path(__file__).resolve().parents[2]


def _answer(window, monkeypatch, *answers):
    """Answer the window's next questions in order; returns the list of questions asked."""
    pending, asked = list(answers), []

    def ask(title, text, choices):
        asked.append((text, choices))
        return pending.pop(0)

    monkeypatch.setattr(window, "ask_choice", ask)
    return asked


def test_quit_with_unsaved_changes_asks_and_the_title_says_so(window, qtbot, monkeypatch, tmp_path):
    assert not window.isWindowModified() and window.windowTitle().startswith("Untitled")
    window.parameter_panel.set_value("steps", 13)
    assert window.isWindowModified()
    asked = _answer(window, monkeypatch, CANCEL, SAVE)
    window.quit_action.trigger()
    assert window.isVisible() and "Save the changes" in asked[0][0] and asked[0][1] == (SAVE, DISCARD, CANCEL)
    target = tmp_path / "mydance"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.close()
    assert not window.isVisible()
    saved = tmp_path / "mydance.sastudio.json"  # the suffix is added, so Open project finds it
    assert json.loads(saved.read_text())["request"]["steps"] == 13
    assert window.windowTitle().startswith("mydance") and not window.isWindowModified()


@pytest.fixture
def rendering_window(qtbot, tmp_path, sample_photo, sample_video):
    from ui.main_window import MainWindow

    renderer = GatedRenderer()
    win = MainWindow(studio=Studio(renderer=renderer, queue_path=tmp_path / "queue.db"))
    qtbot.addWidget(win, before_close_func=lambda w: w.ask_nothing_on_close())
    win.show()
    # the background imports first: the queue's own imports would wait for them behind the interpreter's lock
    qtbot.waitUntil(win.warmed_up, timeout=180000)
    win.project.set({"reference": sample_photo, "motion": sample_video, "output_dir": str(tmp_path / "out")})
    win.mark_clean()
    with qtbot.waitSignal(win.queue_panel.jobs_added, timeout=30000) as added:  # (written on a worker)
        assert win.queue_render(), win.message_bar.text()
    ids = added.args[0]
    qtbot.waitUntil(renderer.started.is_set, timeout=60000)
    yield win, renderer, ids[0]
    renderer.gate.set()
    win.shutdown()


def test_quit_during_a_render_can_keep_working_or_stop_and_keep_the_queue(rendering_window, monkeypatch, qtbot):
    window, _renderer, job_id = rendering_window
    queue = window.studio.queue
    asked = _answer(window, monkeypatch, CANCEL, STOP_KEEP_QUEUE)
    window.quit_action.trigger()
    assert window.isVisible() and queue.get(job_id).state == "running"
    assert asked[0][1] == (FINISH_IN_BACKGROUND, STOP_KEEP_QUEUE, CANCEL)
    window.quit_action.trigger()
    assert not window.isVisible() and queue.get(job_id).state == "queued"  # next start renders it
    assert len(asked) == 2  # nothing was edited: no question about saving


def test_stopping_a_render_on_quit_writes_the_queue_off_the_gui_thread(rendering_window, monkeypatch, qtbot):
    """The queue is in SQLite the moment it changes, so closing saves nothing on the GUI thread; the one change
    it makes, the running job back to ``queued``, is the runner's, on its own thread, and the job is kept."""
    window, _renderer, job_id = rendering_window
    queue = window.studio.queue
    writes: list[tuple[str, bool]] = []
    for name in ("cancel", "retry", "requeue_interrupted", "mark_cancelled", "fail", "finish"):
        real = getattr(type(queue), name)

        def recorded(self, *args, _name=name, _real=real, **kwargs):
            writes.append((_name, threading.current_thread() is threading.main_thread()))
            return _real(self, *args, **kwargs)
        monkeypatch.setattr(type(queue), name, recorded)
    _answer(window, monkeypatch, STOP_KEEP_QUEUE)
    window.close()
    assert not window.isVisible()
    job = queue.get(job_id)
    assert job.state == "queued" and not job.cancel_requested and not Path(job.output).exists()
    assert writes == [("requeue_interrupted", False)], "the queue was written on the GUI thread when closing"


def test_quit_during_a_render_can_finish_it_in_the_background(rendering_window, monkeypatch, qtbot):
    window, renderer, job_id = rendering_window
    queue = window.studio.queue
    _answer(window, monkeypatch, FINISH_IN_BACKGROUND)
    window.close()
    assert not window.isVisible() and queue.get(job_id).state == "running" and window.queue_panel.busy()
    renderer.gate.set()
    qtbot.waitUntil(lambda: window._closing_for_good and not window.queue_panel.busy(), timeout=30000)
    job = queue.get(job_id)
    assert job.state == "finished" and Path(job.output).is_file()


def test_an_autosave_slower_than_the_close_waits_is_complete_before_the_session_ends(window, monkeypatch):
    """Closing waits for its autosave only briefly with the event loop running; a write that outlasts that (a
    slow disk) is still finished before the session ends and the window is gone: the shutdown waits for it (here
    the write can only finish once the shutdown is stopping the queue, after the close's own wait)."""
    import ui.main_window as main_window

    monkeypatch.setattr(main_window, "CLOSING_AUTOSAVE_WAIT_MS", 1)
    session, panel = window.session, window.queue_panel
    order: list[str] = []
    shutting_down = threading.Event()
    real_write, real_end, real_stop = session.write, session.end, panel.stop

    def write_once_shutting_down(data) -> None:
        assert shutting_down.wait(10), "the autosave was written on the GUI thread (it waited for the shutdown)"
        real_write(data)
        order.append("written")

    monkeypatch.setattr(session, "write", write_once_shutting_down)
    monkeypatch.setattr(session, "end", lambda: (order.append("ended"), real_end()))
    monkeypatch.setattr(panel, "stop", lambda: (shutting_down.set(), real_stop()))
    window.last_result = "slow.mp4"
    window.ask_nothing_on_close()
    window.close()
    assert not window.isVisible() and order == ["written", "ended"]
    assert session.read()["autosave"]["last_result"] == "slow.mp4"


def test_a_start_after_a_crash_offers_the_autosave_back(qtbot, tmp_path, _isolated_studio_home):
    from ui.main_window import MainWindow

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", STUDIO_HOME=str(_isolated_studio_home), OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "tests.ui.crash_session", str(tmp_path)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 3, proc.stderr[-3000:]
    before = json.loads([line for line in proc.stdout.splitlines() if line.startswith("{")][-1])
    window = MainWindow()
    qtbot.addWidget(window, before_close_func=lambda w: w.ask_nothing_on_close())
    window.show()
    try:
        bar = window.message_bar
        assert bar.isVisible() and "did not close properly" in bar.text()
        next(b for b in bar.buttons() if b.text() == "Restore").click()
        for task in window.runner.running():
            wait_task(qtbot, task)
        request = window.project.request.to_dict()
        assert request == before["request"] and request["alignment"]["offset_x"] == 0.12
        clip = window.project.prepared.clip
        assert clip is not None and [p.to_json() for p in clip.poses] == before["clip"]
        assert window.motion_panel.motion is clip  # the skeleton is drawn over the video again
        assert window.last_result == before["result"] and window.result_panel.path == before["result"]
    finally:
        window.shutdown()
    again = MainWindow()  # the last session closed cleanly: nothing is offered
    qtbot.addWidget(again, before_close_func=lambda w: w.ask_nothing_on_close())
    again.show()
    try:
        assert again.message_bar.isVisible() and "did not close properly" not in again.message_bar.text()
    finally:
        again.shutdown()


def test_no_render_error_is_silent(qtbot, tmp_path, sample_photo, sample_video, monkeypatch):
    from studio.errors import ExportError
    from ui.main_window import MainWindow

    renderer = GatedRenderer(error=ExportError("the disk holding /videos is full"))
    window = MainWindow(studio=Studio(renderer=renderer, queue_path=tmp_path / "queue.db"))
    qtbot.addWidget(window, before_close_func=lambda w: w.ask_nothing_on_close())
    window.show()
    try:
        blocker = tmp_path / "a_file"
        blocker.write_bytes(b"not a folder")
        window.project.set({"reference": sample_photo, "motion": sample_video, "output_dir": str(blocker / "out")})
        assert window.queue_render() == []  # an output folder that cannot be made: said at once
        assert window.message_bar.level == "error" and "Output folder" in window.message_bar.text()
        window.message_bar.dismiss()
        window.project.set(output_dir=str(tmp_path / "out"))
        with qtbot.waitSignal(window.queue_panel.jobs_added, timeout=30000) as added:
            assert window.queue_render()
        ids = added.args[0]
        queue, gui_reads = window.studio.queue, []
        real_get = type(queue).get  # (the test's own reads, on the GUI thread, are not the window's)

        def recorded_get(self, *args, **kwargs):
            gui_reads.append(threading.current_thread() is threading.main_thread())
            return real_get(self, *args, **kwargs)

        monkeypatch.setattr(type(queue), "get", recorded_get)
        renderer.gate.set()
        qtbot.waitUntil(lambda: real_get(queue, ids[0]).state == "failed", timeout=60000)
        qtbot.waitUntil(lambda: window.message_bar.level == "error" and window.message_bar.isVisible(),
                        timeout=10000)
        assert "disk holding /videos is full" in window.message_bar.text() and "Retry" in window.message_bar.text()
        assert not any(gui_reads), "the failed job was read on the GUI thread to say why it failed"
    finally:
        window.shutdown()


def _synthetic_clip():
    """A skeleton without extracting one (the test is about keeping it): three frames of one body, in whole
    pixels so that the autosave (which keeps 0.001 px) holds it exactly and the alignment comes back identical."""
    from studio.motion.types import PoseFrame
    from studio.project import Clip

    body = np.zeros((18, 3), np.float32)
    body[:, 0], body[:, 1], body[:, 2] = 100 + 11 * np.arange(18), 50 + 20 * np.arange(18), 0.5
    return Clip([0, 1, 2], [PoseFrame(body=body + [i, i, 0]) for i in range(3)], (640, 480), 25.0, [],
                ["detected"] * 3)


def _settled(qtbot, window) -> None:
    """Every background task (decoding, the photo's analysis, re-alignment, the result's load) has finished."""
    qtbot.waitUntil(lambda: not window.runner.running() and not window.project.prepared.aligning, timeout=120000)
    qtbot.wait(50)


def test_a_normal_relaunch_brings_back_the_skeleton_alignment_and_result(qtbot, tmp_path):
    from tests.ui.layout_states import make_result
    from ui.main_window import MainWindow

    first = MainWindow()
    qtbot.addWidget(first, before_close_func=lambda w: w.ask_nothing_on_close())
    first.show()
    wait_task(qtbot, first.open_samples())
    clip = _synthetic_clip()
    first.motion_panel.set_motion(clip)
    first.project.set_clip(clip)
    first.project.set({"alignment.offset_x": 0.12, "steps": 17})
    result = str(make_result(tmp_path))
    wait_task(qtbot, first.open_result(0, result))
    _settled(qtbot, first)
    aligned_before = [p.to_json() for p in first.project.prepared.aligned]
    assert aligned_before  # the photo's pose was found: there is an alignment to keep
    first.ask_nothing_on_close()  # a normal quit (nothing to ask: the answer is not what is tested)
    first.close()
    assert not first.session.owner  # it ended cleanly: the next start is no crash restore

    second = MainWindow()
    qtbot.addWidget(second, before_close_func=lambda w: w.ask_nothing_on_close())
    second.show()
    try:
        _settled(qtbot, second)
        assert "did not close properly" not in second.message_bar.text()  # nothing to ask: it just comes back
        assert second.project.request.alignment.offset_x == 0.12 and second.project.request.steps == 17
        restored = second.project.prepared.clip
        assert restored is not None and [p.to_json() for p in restored.poses] == [p.to_json() for p in clip.poses]
        assert second.motion_panel.motion is restored  # the skeleton is drawn over the video again
        assert [p.to_json() for p in second.project.prepared.aligned] == aligned_before
        assert second.last_result == result and second.result_panel.path == result
        assert second.export_action.isEnabled() and not second.isWindowModified()
    finally:
        second.shutdown()
