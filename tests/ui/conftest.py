"""UI test fixtures: the sample assets, a main window that is shut down (threads joined) after each test,
and a check that no QThread outlives its test."""

from __future__ import annotations

import pytest

from studio.system.assets import SAMPLE_MOTION, SAMPLE_PHOTO, asset_path


@pytest.fixture
def sample_photo() -> str:
    return str(asset_path(SAMPLE_PHOTO))


@pytest.fixture
def sample_video() -> str:
    return str(asset_path(SAMPLE_MOTION))


@pytest.fixture
def window(qtbot):
    from ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win, before_close_func=lambda w: w.ask_nothing_on_close())  # nobody answers a question here
    win.resize(1400, 900)
    win.show()
    yield win
    win.shutdown()
    assert not win.runner.running(), "a background task was still running after shutdown"
    assert not [w for w in win.memory_label._workers if w.is_alive()], "a memory estimate outlived the window"
    if win._warmup_thread is not None:
        # closing never waits for the warm-up's imports, but the test session must not end inside one: a daemon
        # thread killed at exit inside torch's code aborts the process (exit 134 after every test passed)
        win._warmup_thread.join(120)


@pytest.fixture(autouse=True)
def _renders_stay_in_the_test(tmp_path_factory, monkeypatch):
    """The default output folder is the person's Videos folder: never in a test (subprocesses inherit it)."""
    from ui.output_folder import OUTPUT_ENV

    monkeypatch.setenv(OUTPUT_ENV, str(tmp_path_factory.mktemp("videos")))


@pytest.fixture(autouse=True)
def _no_dangling_threads(qapp):
    from ui.workers import LIVE_TASKS

    yield
    leftovers = [t for t in list(LIVE_TASKS) if t.isRunning()]
    assert not leftovers, f"threads left running: {[t.name for t in leftovers]}"


def wait_task(qtbot, task, timeout: int = 120000) -> None:
    """Wait until ``task`` (a ui.workers.Task) has finished its thread and its signals were delivered."""
    assert task is not None
    qtbot.waitUntil(lambda: task.outcome != "running" and task.isFinished(), timeout=timeout)
    qtbot.wait(50)
