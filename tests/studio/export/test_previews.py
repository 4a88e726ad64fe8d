"""Quick previews' files: each session in its own folder, older previews removed when superseded, the folder
removed at the end, and nothing outside it touched."""

from __future__ import annotations

from studio.export.previews import PreviewFiles


def _render(path) -> None:  # what a render leaves: the video and its sidecar
    path.write_bytes(b"video")
    path.with_suffix(".json").write_text("{}")


def test_superseded_previews_are_removed_and_the_session_folder_goes_at_the_end(tmp_path):
    someone_elses = tmp_path / "previews" / "preview_001.mp4"
    someone_elses.parent.mkdir()
    someone_elses.write_bytes(b"not the studio's")
    previews = PreviewFiles(tmp_path / "previews")
    first, second = previews.next_path(), previews.next_path()
    assert first != second and first.parent == second.parent == previews.folder
    assert previews.folder.parent == tmp_path / "previews" and previews.folder != someone_elses.parent
    _render(first)
    _render(second)
    removed = previews.supersede(second)
    assert sorted(removed) == sorted([first, first.with_suffix(".json")])
    assert not first.exists() and second.is_file() and second.with_suffix(".json").is_file()
    assert previews.supersede(tmp_path / "elsewhere.mp4") == []  # not a preview of this session: nothing goes
    folder = previews.folder
    previews.clean()
    assert not folder.exists() and someone_elses.read_bytes() == b"not the studio's"
    assert previews.next_path().parent.is_dir()  # a later preview makes a new folder
    previews.clean()


def test_two_sessions_never_share_a_folder(tmp_path):
    a, b = PreviewFiles(tmp_path), PreviewFiles(tmp_path)
    assert a.next_path().parent != b.next_path().parent
    a.clean()
    assert b.folder.is_dir()
    b.clean()
