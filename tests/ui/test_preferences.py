"""Edit → Preferences… (Ctrl+,), driven through the real dialog offscreen: the data folder, default output folder,
device, precision and threads are stored with the window's settings, refused with the reason when unusable, and
applied by the studio to the next render; a new data folder is used from the next start."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from studio.preferences import Preferences, use_threads
from studio.service import Studio
from tests.ui.conftest import wait_task
from tests.ui.fake_renderers import GatedRenderer
from ui.preferences_dialog import PreferencesDialog


class RecordingRenderer(GatedRenderer):
    """Renders at once and keeps what each render ran with: its request and the CPU threads in use."""

    def __init__(self) -> None:
        super().__init__()
        self.gate.set()
        self.seen: list[tuple[str, str, int]] = []

    def render(self, request, out, report, cancel, preview=None, **options):
        import torch

        self.seen.append((request.device, request.dtype, torch.get_num_threads()))
        return super().render(request, out, report, cancel, preview, **options)


@pytest.fixture
def recording_window(qtbot, tmp_path):
    from ui.main_window import MainWindow

    renderer = RecordingRenderer()
    window = MainWindow(studio=Studio(renderer=renderer, queue_path=tmp_path / "queue.db"))
    qtbot.addWidget(window, before_close_func=lambda w: w.ask_nothing_on_close())
    window.show()
    yield window, renderer
    window.shutdown()
    use_threads(0)  # the libraries' own thread counts again for the tests after this one


def _open(window, qtbot) -> PreferencesDialog:
    window.preferences_action.trigger()
    dialogs = [d for d in window.findChildren(PreferencesDialog) if d.isVisible()]
    assert len(dialogs) == 1
    wait_task(qtbot, dialogs[0].devices_task)  # this machine's devices, checked off the GUI thread
    return dialogs[0]


def test_preferences_is_in_the_edit_menu_with_the_standard_key(window):
    edit = next(m for m in window.menuBar().actions() if m.text() == "&Edit").menu()
    assert window.preferences_action in edit.actions()
    keys = window.preferences_action.shortcuts()
    assert keys and (QKeySequence("Ctrl+,") in keys
                     or keys == QKeySequence.keyBindings(QKeySequence.StandardKey.Preferences))


def test_the_dialog_stores_and_the_studio_applies_the_preferences(recording_window, qtbot, tmp_path, sample_photo,
                                                                  sample_video):
    import torch

    window, renderer = recording_window
    window.project.set({"reference": sample_photo, "motion": sample_video, "engine": "warp"})
    dialog = _open(window, qtbot)
    devices = [dialog.device_box.itemText(i) for i in range(dialog.device_box.count())]
    assert devices[:2] == ["auto", "cpu"] and ("cuda" in devices) == torch.cuda.is_available()
    renders = tmp_path / "renders"
    dialog.output_edit.setText(str(renders))
    dialog.device_box.setCurrentText("cpu")
    dialog.precision_box.setCurrentText("fp32")
    dialog.threads_spin.setValue(1)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    wanted = Preferences(output_folder=str(renders), device="cpu", precision="fp32", threads=1)
    assert window.studio.preferences == wanted
    assert Preferences.from_dict(window.settings.preferences()) == wanted  # stored with the window's settings
    assert window.output_folder_row.path_edit.text() == str(renders) and str(renders) in window.render_action.toolTip()

    wait_task(qtbot, window.quick_preview())  # the request says auto: the render runs on the preferred ones
    assert window.project.request.device == "auto" and renderer.seen[-1] == ("cpu", "fp32", 1)
    window.project.set(device="cpu", dtype="bf16")  # a project's own choice is its own
    wait_task(qtbot, window.quick_preview())
    assert renderer.seen[-1][:2] == ("cpu", "bf16")


def test_an_unwritable_folder_is_refused_with_the_reason(window, qtbot, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_bytes(b"a file where a folder should be")
    dialog = _open(window, qtbot)
    dialog.data_edit.setText(str(blocker / "data"))
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.error_label.isVisible()  # it stays open, saying why
    text = dialog.error_label.text()
    assert "data folder" in text and str(blocker / "data") in text and "Cannot create" in text
    assert "choose another folder" in text
    assert window.settings.preferences() == {} and window.studio.preferences == Preferences()
    dialog.data_edit.setText("relative/folder")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and "not a full path" in dialog.error_label.text()
    dialog.reject()


def test_a_new_data_folder_is_used_from_the_next_start(window, qtbot, tmp_path, _isolated_studio_home):
    from studio.batch.queue import default_queue_path
    from ui.main_window import MainWindow

    data = tmp_path / "studio data"
    dialog = _open(window, qtbot)
    dialog.data_edit.setText(str(data))
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert "next start" in window.statusBar().currentMessage()
    assert window.session.folder.is_relative_to(_isolated_studio_home)  # this session stays where it is
    window.shutdown()
    again = MainWindow()
    qtbot.addWidget(again, before_close_func=lambda w: w.ask_nothing_on_close())
    try:
        assert again.studio.preferences.data_folder == str(data)
        assert again.session.folder.is_relative_to(data) and default_queue_path().is_relative_to(data)
        assert again.settings.path.is_relative_to(_isolated_studio_home)  # the settings stay where a start finds them
    finally:
        again.shutdown()


def test_a_preferred_data_folder_that_cannot_be_used_at_start_is_said(qtbot, tmp_path, _isolated_studio_home):
    from ui.main_window import MainWindow
    from ui.settings_store import SettingsStore

    blocker = tmp_path / "a_file"
    blocker.write_bytes(b"")
    SettingsStore().set_preferences(Preferences(data_folder=str(blocker / "data")).to_dict())
    window = MainWindow()
    qtbot.addWidget(window, before_close_func=lambda w: w.ask_nothing_on_close())
    window.show()
    try:
        assert window.session.folder.is_relative_to(_isolated_studio_home)  # the default folder, not nowhere
        assert window.message_bar.level == "error" and "default data folder is used" in window.message_bar.text()
    finally:
        window.shutdown()
