"""Model-folder setup (doctor findings, offline download message), cancelling a preview, exporting."""

from __future__ import annotations

from pathlib import Path

from studio.export.exporter import probe_video
from tests.ui.conftest import wait_task


def test_models_dialog_shows_doctor_findings(qtbot, window, tiny_fixture_dir, tmp_path):
    from ui.models_dialog import ModelsDialog

    dialog = ModelsDialog(window.runner, str(tiny_fixture_dir / "checkpoints"), window)
    qtbot.addWidget(dialog)
    assert dialog.check() is True
    assert "OK" in dialog.findings.toPlainText()
    dialog.path_edit.setText(str(tmp_path))
    assert dialog.check() is False
    text = dialog.findings.toPlainText()
    assert "missing" in text and "Animation/" in text
    task = dialog.download()  # tests run offline (HF_HUB_OFFLINE=1): a clear message, no traceback
    wait_task(qtbot, task)
    assert task.outcome == "failed"
    assert "offline" in dialog.findings.toPlainText()


def test_cancel_preview_leaves_no_file_and_export_copies_result(qtbot, window, tiny_fixture_dir, sample_photo,
                                                                sample_video, tmp_path, _isolated_studio_home):
    window.set_models_dir(str(tiny_fixture_dir / "checkpoints"))
    window.reference_panel.load(sample_photo)
    wait_task(qtbot, window.motion_panel.load(sample_video))
    window.project.set({"engine": "diffusion", "steps": 3, "max_frames": 2, "width": 64, "height": 64})
    task = window.quick_preview()
    assert window.cancel_action.isEnabled()
    window.cancel_action.trigger()
    wait_task(qtbot, task, timeout=300000)
    assert task.outcome == "cancelled"
    previews = Path(_isolated_studio_home) / "previews"
    assert not list(previews.rglob("*.mp4")), "a cancelled preview left a video behind"
    assert window.last_result is None and not window.export_action.isEnabled()

    task = window.quick_preview()
    wait_task(qtbot, task, timeout=300000)
    assert task.outcome == "succeeded", task.error
    assert window.export_action.isEnabled()
    export = window.export_result_to(str(tmp_path / "mine.mp4"))
    wait_task(qtbot, export)
    assert export.outcome == "succeeded", export.error
    # the export goes through the studio's exporter: the same frames, with a sidecar naming its source
    assert probe_video(tmp_path / "mine.mp4").frames == probe_video(window.last_result).frames > 0
    assert (tmp_path / "mine.json").is_file()


def test_auto_instant_preview_follows_the_nudge(qtbot, window, sample_photo, sample_video):
    window.reference_panel.load(sample_photo)
    wait_task(qtbot, window.motion_panel.load(sample_video))
    window.parameter_panel.set_value("max_frames", 6)
    wait_task(qtbot, window.motion_panel.extract())
    window.alignment_view.auto_instant.setChecked(True)
    window.alignment_view.scale.setValue(0.9)
    qtbot.waitUntil(lambda: window.instant_task is not None, timeout=5000)
    task = window.instant_task
    wait_task(qtbot, task)
    assert task.outcome == "succeeded", task.error
    assert window.alignment_view.instant_frames
