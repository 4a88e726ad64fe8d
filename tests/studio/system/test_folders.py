"""``studio.system.folders``: the one check that a folder can take files, shared by the preferences and the
exporter, so both say the same thing (what was wrong, which folder, what to do) about the same folder."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from studio.errors import ExportError
from studio.export.exporter import check_writable
from studio.preferences import Preferences
from studio.system import folders
from studio.system.folders import folder_problem


def _as_sentence(clause: str) -> str:
    return clause[0].upper() + clause[1:] + "."


def _export_problem(out: Path) -> str:
    with pytest.raises(ExportError) as error:
        check_writable(out)
    return str(error.value)


def test_the_preferences_and_the_exporter_say_the_same_about_the_same_folder(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_bytes(b"a file where a folder should be")
    folder = blocker / "renders"
    exported = _export_problem(folder / "take.mp4")
    preferred = Preferences(output_folder=str(folder)).problems()
    assert len(preferred) == 1
    # one wording, only the folder's role differs (and the preferences list it as a sentence)
    assert preferred[0] == _as_sentence(exported.replace("output folder", "default output folder"))
    assert exported.startswith(f"cannot create the output folder {folder} (") and "choose another folder" in exported


def test_a_folder_without_write_permission_is_named_with_what_to_do(tmp_path, monkeypatch):
    # root ignores permission bits: refuse the way a read-only mount does
    monkeypatch.setattr(folders.os, "access", lambda path, mode: False)
    problem = folder_problem(tmp_path, "data folder")
    assert problem == f"the data folder {tmp_path} is not writable; choose another folder or make it writable"
    assert Preferences(data_folder=str(tmp_path)).problems() == [_as_sentence(problem)]
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_is_told_apart_from_a_refused_write(tmp_path, monkeypatch):
    def no_room(**_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(folders.tempfile, "TemporaryFile", no_room)
    assert folder_problem(tmp_path, "output folder") == (
        f"the disk holding the output folder {tmp_path} is full; free some space or choose another folder")
    assert _export_problem(tmp_path / "take.mp4") == folder_problem(tmp_path, "output folder")


def test_a_missing_folder_is_made_and_the_check_leaves_nothing_behind(tmp_path):
    folder = tmp_path / "new" / "deeper"
    assert folder_problem(folder, "output folder") is None
    assert folder.is_dir() and list(folder.iterdir()) == []
