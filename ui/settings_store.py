"""Persistent window settings (QSettings in INI format under ``STUDIO_HOME``/ui), recent files, layout, and the
preferences (``studio.system.preferences``, stored under ``preferences/``).

The file lives in the studio's data folder, which tests point at a temporary folder, so a test never
reads or writes a person's real settings.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from studio.system.paths import settings_home

MAX_RECENT = 10


def settings_path() -> Path:
    folder = settings_home() / "ui"  # (not in the data folder: the data folder is one of the settings)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "settings.ini"


class SettingsStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or settings_path()
        self.qsettings = QSettings(str(self.path), QSettings.Format.IniFormat)

    def recent(self, kind: str) -> list[str]:
        value = self.qsettings.value(f"recent/{kind}", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def add_recent(self, kind: str, path: str) -> list[str]:
        items = [path] + [p for p in self.recent(kind) if p != path]
        items = items[:MAX_RECENT]
        self.qsettings.setValue(f"recent/{kind}", items)
        return items

    def value(self, key: str, default=None):
        return self.qsettings.value(key, default)

    def set_value(self, key: str, value) -> None:
        self.qsettings.setValue(key, value)

    def save_layout(self, geometry: QByteArray, state: QByteArray) -> None:
        self.qsettings.setValue("window/geometry", geometry)
        self.qsettings.setValue("window/state", state)

    def layout(self) -> tuple[QByteArray | None, QByteArray | None]:
        return self.qsettings.value("window/geometry"), self.qsettings.value("window/state")

    def sync(self) -> None:
        self.qsettings.sync()

    def preferences(self) -> dict:
        """The stored preferences as plain values (``studio.system.preferences.Preferences.from_dict`` reads them)."""
        self.qsettings.beginGroup("preferences")
        try:
            return {key: self.qsettings.value(key) for key in self.qsettings.childKeys()}
        finally:
            self.qsettings.endGroup()

    def set_preferences(self, values: dict) -> None:
        self.qsettings.remove("preferences")
        for key, value in values.items():
            self.qsettings.setValue(f"preferences/{key}", "" if value is None else value)
        self.qsettings.sync()
