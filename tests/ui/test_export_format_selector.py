"""The window's export format selector reaches the request and the queued file names; previews stay mp4."""

from __future__ import annotations

from ui.parameter_specs import QUICK_PREVIEW


def test_format_selector_reaches_request_and_output_name(window, sample_photo, sample_video, monkeypatch):
    panel = window.parameter_panel
    panel.set_value("engine", "warp")
    panel.set_value("export.format", "gif")
    window.project.set(reference=sample_photo, motion=sample_video, undoable=False)
    assert window.render_request().export.format == "gif"
    assert window.render_request(**QUICK_PREVIEW).export.format == "h264-mp4"  # the preview player reads mp4
    queued = []
    monkeypatch.setattr(window.queue_panel, "add_jobs", lambda jobs, batch=None: queued.extend(jobs))
    assert window.queue_render() == queued and len(queued) == 1
    assert queued[0].request.export.format == "gif" and queued[0].output.suffix == ".gif"


def test_the_file_name_template_names_each_queued_render(window, sample_photo, sample_video, monkeypatch, tmp_path):
    panel = window.parameter_panel
    panel.set_value("engine", "warp")
    window.project.set(reference=sample_photo, motion=sample_video, output_dir=str(tmp_path), undoable=False)
    (tmp_path / "sample_photo_take01.mp4").write_bytes(b"an earlier take")
    editor = panel.editors["output_name"]
    editor.setText("{reference}_take{counter:02d}")
    editor.editingFinished.emit()
    assert window.project.output_name == "{reference}_take{counter:02d}"
    queued = []
    monkeypatch.setattr(window.queue_panel, "add_jobs", lambda jobs, batch=None: queued.extend(jobs))
    assert window.queue_render(motions=[sample_video, sample_video]) == queued and len(queued) == 2
    # the counter skips the earlier take on disk and the batch's own first job
    assert [job.output.name for job in queued] == ["sample_photo_take02.mp4", "sample_photo_take03.mp4"]

    editor.setText("{reference}/{nope}")
    editor.editingFinished.emit()
    assert "folder separator" in panel.errors["output_name"].text() and not panel.errors["output_name"].isHidden()
    assert window.queue_render() == [] and "file name template" in window.message_bar.text()
    window.undo_action.trigger()
    assert editor.text() == "{reference}_take{counter:02d}" and panel.errors["output_name"].isHidden()
