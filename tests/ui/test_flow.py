"""Drive the main flow like a person: photo, video, extract + align, sliders, previews, a batch of 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.ui.conftest import wait_task


def _grab_colours(widget) -> int:
    image = widget.grab().toImage()
    arr = np.array(image.convertToFormat(image.Format.Format_RGB888).constBits()).reshape(-1)
    return len(np.unique(arr[: (arr.size // 3) * 3].reshape(-1, 3), axis=0))


def _wait_aligned(qtbot, window) -> None:
    """Re-alignment runs on a worker thread; wait for its result to reach the project."""
    qtbot.waitUntil(lambda: not window.project.prepared.aligning, timeout=60000)


def test_load_extract_align_and_instant_preview(qtbot, window, sample_photo, sample_video):
    window.reference_panel.load(sample_photo)
    assert window.project.request.reference == sample_photo
    qtbot.waitUntil(lambda: window.reference_panel.face_box is not None or "not available" in
                    window.reference_panel.status.text(), timeout=60000)
    assert window.reference_panel.face_box is not None, window.reference_panel.status.text()
    x0, y0, x1, y1 = window.reference_panel.face_box
    assert 0 <= x0 < x1 <= 384 and 0 <= y0 < y1 <= 384

    decode = window.motion_panel.load(sample_video)
    wait_task(qtbot, decode)
    assert len(window.motion_panel.frames) == 48
    assert _grab_colours(window.motion_panel.view) > 200  # the decoded frame is painted, not blank

    window.parameter_panel.set_value("max_frames", 8)
    task = window.motion_panel.extract()
    wait_task(qtbot, task)
    assert task.outcome == "succeeded", task.error
    motion = window.motion_panel.motion
    _wait_aligned(qtbot, window)
    assert len(motion.poses) == 8 and any(p.has_person for p in motion.poses)
    assert len(window.alignment_view.aligned) == 8
    # the skeleton is drawn over the played frame
    window.motion_panel.player.set_frame(3)
    assert window.motion_panel.view._pose is not None
    # the frame shown is the project's selection; the person can fit the skeleton on it and pick the face points
    clip = window.project.prepared.clip
    window.motion_panel.player.set_frame(clip.indices[2])
    assert window.project.selection == 2 and window.alignment_view.fit_button.text() == "Fit on frame 2"
    window.alignment_view.fit_button.click()
    _wait_aligned(qtbot, window)
    assert window.project.request.alignment.fit_frame == 2 and len(window.alignment_view.aligned) == 8
    assert window.alignment_view.fit_button.isChecked()
    assert window.alignment_view.fit_button.text() == "Fitted on frame 2"
    # (what each face option draws is tested in tests/motion; the sample dancer has no face-68 points)
    window.alignment_view.face.setCurrentText("driver")
    _wait_aligned(qtbot, window)
    assert window.project.request.alignment.face == "driver" and len(window.alignment_view.aligned) == 8
    window.undo_action.trigger()
    window.undo_action.trigger()
    _wait_aligned(qtbot, window)
    assert window.alignment_view.face.currentText() == "retargeted"
    assert not window.alignment_view.fit_button.isChecked()

    # nudging the alignment moves the aligned skeleton by the nudge
    before = window.alignment_view.aligned[0].body.copy()
    window.alignment_view.offset_x.setValue(0.1)
    _wait_aligned(qtbot, window)
    after = window.alignment_view.aligned[0].body
    visible = (before[:, 2] > 0.3) & (after[:, 2] > 0.3)
    assert visible.any()
    shift = np.median(after[visible, 0] - before[visible, 0])
    assert shift == pytest.approx(0.1 * 512, abs=3)
    assert window.project.request.alignment.offset_x == pytest.approx(0.1)
    window.undo_action.trigger()  # alignment edits are undoable
    _wait_aligned(qtbot, window)
    assert window.alignment_view.offset_x.value() == 0.0
    assert window.alignment_view.aligned[0].body[visible, 0] == pytest.approx(before[visible, 0])
    window.redo_action.trigger()
    assert window.alignment_view.offset_x.value() == pytest.approx(0.1)

    instant = window.instant_preview()
    wait_task(qtbot, instant)
    assert instant.outcome == "succeeded", instant.error
    assert len(window.alignment_view.instant_frames) > 0
    assert "warp" in window.alignment_view.view._caption  # never passed off as model output
    assert "not model output" in window.result_panel.caption


def test_render_without_weights_says_what_is_missing(window, sample_photo, sample_video, qtbot):
    window.reference_panel.load(sample_photo)
    wait_task(qtbot, window.motion_panel.load(sample_video))
    assert window.project.request.engine == "warp"  # no weights: the engine that works here
    window.parameter_panel.set_value("engine", "diffusion")
    assert not window.render_action.isEnabled()
    reason = window.render_block_reason()
    assert "weights" in reason and "Models" in reason and "download" in reason
    assert window.queue_render() == []
    # the warp engine needs no weights
    window.parameter_panel.set_value("engine", "warp")
    assert window.render_block_reason() is None
    assert window.render_action.isEnabled()


def test_preview_with_tiny_fixture_and_batch_of_two(qtbot, window, tiny_fixture_dir, sample_photo, sample_video):
    window.set_models_dir(str(tiny_fixture_dir / "checkpoints"))
    window.parameter_panel.set_value("engine", "diffusion")
    window.reference_panel.load(sample_photo)
    wait_task(qtbot, window.motion_panel.load(sample_video))
    panel = window.parameter_panel
    panel.set_value("steps", 2)
    panel.set_value("max_frames", 2)
    panel.set_value("width", 64)
    panel.set_value("height", 64)
    panel.set_value("export.crf", 30)
    assert window.render_block_reason() is None, window.render_block_reason()

    previews = []
    task = window.quick_preview()
    task.previewed.connect(previews.append)
    wait_task(qtbot, task, timeout=300000)
    assert task.outcome == "succeeded", task.error
    assert Path(window.last_result).is_file()
    assert previews, "no live step preview arrived"

    # the batch renders with StableAnimator itself (the tiny fixture's weights), like a user's real batch
    with qtbot.waitSignal(window.queue_panel.jobs_added, timeout=30000) as added:  # (written on a worker)
        assert len(window.queue_render(motions=[sample_video, sample_video])) == 2
    ids = added.args[0]
    assert len(ids) == 2
    queue = window.queue_panel.queue
    # photo__dance.mp4, then the queue's number for the second job on the same name
    names = [Path(queue.get(i).output).name for i in ids]
    assert names == [f"{Path(window.project.request.reference).stem}__{Path(sample_video).stem}{s}.mp4"
                     for s in ("", "_2")]
    window.queue_panel.cancel_job(ids[1])
    qtbot.waitUntil(lambda: queue.get(ids[0]).state in ("finished", "failed"), timeout=300000)
    first = queue.get(ids[0])
    assert first.state == "finished", first.error
    assert queue.get(ids[1]).state == "cancelled"
    out = Path(first.output)
    assert out.is_file() and out.stat().st_size > 0
    assert not Path(queue.get(ids[1]).output).exists()
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["engine"] == "diffusion"
    qtbot.waitUntil(lambda: window.queue_panel.consumer is None, timeout=60000)
    with qtbot.waitSignal(window.queue_panel.refreshed, timeout=30000):  # (read on a worker thread)
        window.queue_panel.refresh()
    states = [window.queue_panel.table.item(r, 1).text() for r in range(window.queue_panel.table.rowCount())]
    assert states == ["finished", "cancelled"]
    # a double-click on the finished job shows it in the result panel
    window.result_panel.path = None
    window.queue_panel.table.cellDoubleClicked.emit(0, 0)
    qtbot.waitUntil(lambda: window.result_panel.path == first.output, timeout=60000)
    for task in window.runner.running():
        wait_task(qtbot, task)
