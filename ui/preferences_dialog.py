"""Edit → Preferences… (Ctrl+,): this machine's data folder, default output folder, device, precision and threads.

A small dialog built from a ``studio.preferences.Preferences`` that gives one back (``values``); OK refuses what
the studio says cannot be used (an unwritable folder, a device this machine lacks) with the reason in the dialog.
The window stores the result with its settings and hands it to the studio, which applies it to new renders.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.preferences import PRECISIONS, Preferences, device_choices, max_threads
from studio.system.paths import settings_home


class PreferencesDialog(QDialog):
    def __init__(self, preferences: Preferences, devices: tuple[str, ...], home: Path, output_fallback: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.setObjectName("preferences_dialog")
        self.devices = devices
        #: The check of this machine's devices (``PreferencesActions.show_preferences`` runs it off the GUI thread).
        self.devices_task = None
        self.data_edit = self._folder_edit(preferences.data_folder, f"the default: {home}",
                                           "Where the queue, caches, autosave, previews and logs are kept (used "
                                           "from the next start).")
        self.output_edit = self._folder_edit(preferences.output_folder, output_fallback,
                                             "Where renders go when the project names no output folder of its own.")
        self.device_box = QComboBox()
        self._preferred_device = preferences.device
        self.set_devices(devices)
        self.device_box.setToolTip("The device of a render whose Device setting is auto. auto picks CUDA, then "
                                   "Apple MPS, then the CPU; only the devices this machine has are listed.")
        self.precision_box = QComboBox()
        self.precision_box.addItems(list(PRECISIONS))
        self.precision_box.setCurrentText(preferences.precision)
        self.precision_box.setToolTip("The number format of a render whose Precision setting is auto (auto: fp16 "
                                      "on GPUs, fp32 on the CPU).")
        self.threads_spin = QSpinBox()
        self.threads_spin.setRange(0, max_threads())
        self.threads_spin.setSpecialValueText("automatic")
        self.threads_spin.setValue(min(max(0, preferences.threads), max_threads()))
        self.threads_spin.setToolTip(f"CPU threads a render uses (this machine has {max_threads()}); automatic: "
                                     "all of them. Fewer keeps the machine responsive during a CPU render.")
        self.error_label = QLabel()
        self.error_label.setObjectName("field_error")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        form = QFormLayout()
        form.addRow("Data folder", self._with_browse(self.data_edit, "Data folder"))
        form.addRow("Default output folder", self._with_browse(self.output_edit, "Default output folder"))
        form.addRow("Device", self.device_box)
        form.addRow("Precision", self.precision_box)
        form.addRow("Threads", self.threads_spin)
        note = QLabel("Device, precision and threads apply to renders started from now on; a new data folder is "
                      "used from the next start.")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)

    def set_devices(self, devices: tuple[str, ...]) -> None:
        """The devices to offer (this machine's, once checked), keeping the chosen one where it is offered."""
        chosen = self.device_box.currentText() or self._preferred_device
        self.devices = tuple(devices)
        self.device_box.clear()
        self.device_box.addItems(list(self.devices))
        self.device_box.setCurrentText(chosen if chosen in self.devices else "auto")

    @staticmethod
    def _folder_edit(value: str | None, placeholder: str, tip: str) -> QLineEdit:
        edit = QLineEdit(value or "")
        edit.setPlaceholderText(placeholder)  # empty: the default, named here
        edit.setToolTip(tip + " Empty: " + placeholder + ".")
        edit.setClearButtonEnabled(True)
        return edit

    def _with_browse(self, edit: QLineEdit, title: str) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(edit, 1)
        browse = QPushButton("Browse…")
        browse.clicked.connect(lambda: self._browse(edit, title))
        layout.addWidget(browse)
        return row

    def _browse(self, edit: QLineEdit, title: str) -> None:
        folder = QFileDialog.getExistingDirectory(self, title, edit.text() or str(Path.home()))
        if folder:
            edit.setText(folder)

    def values(self) -> Preferences:
        return Preferences(data_folder=self.data_edit.text().strip() or None,
                           output_folder=self.output_edit.text().strip() or None,
                           device=self.device_box.currentText(), precision=self.precision_box.currentText(),
                           threads=self.threads_spin.value())

    def accept(self) -> None:
        problems = self.values().problems(self.devices)
        if problems:  # the dialog stays open with the reason; nothing is stored
            self.error_label.setText("\n".join(problems))
            self.error_label.show()
            return
        self.error_label.hide()
        super().accept()


class PreferencesActions:
    """Edit → Preferences… of ``ui.main_window.MainWindow`` (a mixin; the attributes below are the window's)."""

    def build_preferences_action(self, menu) -> None:
        # the platform's own key where it has one (Linux and Windows often have none): else Ctrl+,
        keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Preferences) or [QKeySequence("Ctrl+,")]
        self.preferences_action = self._action("Prefere&nces…", self.show_preferences, None,
                                               "Data folder, default output folder, device, precision and threads")
        self.preferences_action.setShortcuts(keys)
        self.preferences_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        menu.addAction(self.preferences_action)

    def show_preferences(self) -> PreferencesDialog:
        """Open the dialog (window-modal, not blocking: returns it); OK stores and applies what it holds."""
        from ui.output_folder import videos_folder

        preferences = self.studio.preferences
        # until the check below says which devices this machine has: the always-present ones and the saved choice
        known = tuple(dict.fromkeys(("auto", "cpu", preferences.device)))
        dialog = PreferencesDialog(preferences, known, settings_home(), f"the project's folder, else {videos_folder()}",
                                   self)
        # asking torch for GPUs imports it and may start the GPU driver: seconds, so not on the GUI thread
        dialog.devices_task = self.runner.start("devices", lambda _report, _preview, _cancel: device_choices())
        dialog.devices_task.succeeded.connect(dialog.set_devices)
        dialog.accepted.connect(lambda: self.set_preferences(dialog.values()))
        dialog.open()
        return dialog

    def set_preferences(self, preferences: Preferences) -> None:
        """Store the preferences with the window's settings and hand them to the studio (new renders use them)."""
        moved = preferences.data_folder != self.studio.preferences.data_folder
        self.settings.set_preferences(preferences.to_dict())
        self.studio.preferences = preferences
        self.output_folder_row.refresh()
        self.memory_label.update_for(preferences.resolve(self.project.request))  # (the device may have changed)
        self.update_actions()  # (the render actions name the output folder)
        self.show_status("Preferences saved." + (" The new data folder is used from the next start." if moved else ""))
