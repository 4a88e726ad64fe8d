"""The keys a video editor has, through the real window: Space plays (a focused button is not pressed), arrows step
frames and seconds, Home/End, J/K/L; Esc cancels an extraction started from the panel; Ctrl+Z right after typing
undoes the typed value; a failed extraction empties its bar and blocks Render; a photo is no video."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.ui.conftest import wait_task


@pytest.fixture
def playing_window(window, qtbot, sample_photo, sample_video):
    window.reference_panel.load(sample_photo)
    wait_task(qtbot, window.motion_panel.load(sample_video))
    window.activateWindow()
    qtbot.waitUntil(lambda: window.isActiveWindow())
    return window


def test_space_plays_and_never_presses_the_focused_button(playing_window, qtbot):
    window = playing_window
    player = window.motion_panel.player
    button = window.alignment_view.fit_button
    button.setFocus()
    qtbot.keyClick(button, Qt.Key.Key_Space)
    assert player.play_button.isChecked() and not button.isChecked()
    qtbot.keyClick(button, Qt.Key.Key_Space)
    assert not player.play_button.isChecked()


def test_frame_second_and_end_keys_and_jkl(playing_window, qtbot):
    window = playing_window
    player = window.motion_panel.player
    fps = round(player.fps)
    assert player.count == 48 and fps == 12
    keys = window.centralWidget()
    qtbot.keyClick(keys, Qt.Key.Key_Right)
    assert player.frame() == 1
    qtbot.keyClick(keys, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert player.frame() == 1 + fps
    qtbot.keyClick(keys, Qt.Key.Key_Left)
    assert player.frame() == fps
    qtbot.keyClick(keys, Qt.Key.Key_End)
    assert player.frame() == 47
    qtbot.keyClick(keys, Qt.Key.Key_Home)
    assert player.frame() == 0
    qtbot.keyClick(keys, Qt.Key.Key_L)
    assert player.play_button.isChecked() and player.direction == 1
    qtbot.keyClick(keys, Qt.Key.Key_K)
    assert not player.play_button.isChecked()
    player.set_frame(20)
    qtbot.keyClick(keys, Qt.Key.Key_J)
    qtbot.waitUntil(lambda: player.frame() < 20, timeout=5000)  # backwards
    qtbot.keyClick(keys, Qt.Key.Key_K)


def test_escape_cancels_an_extraction_started_from_the_panel(playing_window, qtbot):
    window = playing_window
    window.motion_panel.extract_button.click()
    task = window.motion_panel.extract_task
    assert task is not None and window.cancel_action.isEnabled()
    qtbot.keyClick(window.centralWidget(), Qt.Key.Key_Escape)
    wait_task(qtbot, task)
    assert task.outcome == "cancelled" and window.motion_panel.progress.value() == 0


def test_a_failed_extraction_empties_its_bar_and_blocks_render(playing_window, qtbot, monkeypatch):
    window = playing_window
    from ui import core

    def broken(*_args, **_kwargs):
        raise RuntimeError("the decoder gave up at frame 3")

    monkeypatch.setattr(core, "extract_motion", broken)
    wait_task(qtbot, window.motion_panel.extract())
    bar = window.motion_panel.progress
    assert bar.value() == 0 and bar.format() == "failed"
    assert not window.render_action.isEnabled() and "could not be extracted" in window.render_action.toolTip()


def test_a_photo_dropped_on_the_motion_panel_is_refused(window, sample_photo, sample_video, qtbot):
    wait_task(qtbot, window.motion_panel.load(sample_video))
    assert window.motion_panel.load(sample_photo) is None
    assert window.motion_panel.path == sample_video and window.project.request.motion == sample_video
    assert "is a photo, not a video" in window.message_bar.text()


def test_undo_right_after_typing_commits_then_undoes(window, qtbot):
    editor = window.parameter_panel.editors["output_name"]
    before = window.project.output_name
    editor.setFocus()
    editor.selectAll()
    qtbot.keyClicks(editor, "take_{seed}")
    qtbot.keyClick(editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.project.output_name == before
    assert window.project.can_redo()  # the typed name was an edit of its own, now undone
    window.redo_action.trigger()
    assert window.project.output_name == "take_{seed}"
