"""Outputs never destroy what the studio did not make (probe D1–D4, D13): no folder removed, no input
replaced, no silent overwrite, temporaries unique and never through a symlink, SIGTERM cleans up."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from studio.__main__ import main
from studio.errors import ExportError, OutputExists
from studio.export.exporter import VideoExporter, export_frames, probe_video
from studio.request.render_request import ExportOptions
from tests.generated_media import write_astronaut_photo, write_transform_video


def frames(n: int) -> list[np.ndarray]:
    return [np.full((48, 64, 3), 40 * i, np.uint8) for i in range(n)]


def hidden(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    folder = tmp_path_factory.mktemp("safety_media")
    return {"photo": write_astronaut_photo(folder / "a.png", 200),
            "video": write_transform_video(folder / "v.mp4", num_frames=4, size=128, fps=8.0)[0]}


def warp_args(media, out, *extra: str) -> list[str]:
    return ["render", "--engine", "warp", "--width", "64", "--height", "64", "--frames", "2", "--quiet",
            "--reference", str(media["photo"]), "--motion", str(media["video"]), "--out", str(out), *extra]


def test_a_users_frames_folder_is_never_removed(tmp_path):
    notes = tmp_path / "o_frames" / "my_project" / "notes.txt"
    notes.parent.mkdir(parents=True)
    notes.write_text("notes")
    for overwrite in (False, True):
        with pytest.raises(ExportError, match="did not write"):
            with VideoExporter(tmp_path / "o.mp4", 8.0, 64, 48, ExportOptions(png_sequence=True),
                               overwrite=overwrite) as exporter:
                exporter.write(frames(1)[0])
                exporter.finish({"request": {}, "output": {}})
    assert notes.read_text() == "notes" and not (tmp_path / "o.mp4").exists()
    assert hidden(tmp_path) == []


def test_a_folder_at_the_output_name_is_never_removed(tmp_path):
    keep = tmp_path / "o.mp4" / "sub" / "keep.txt"
    keep.parent.mkdir(parents=True)
    keep.write_text("data")
    with pytest.raises(ExportError, match="not a file"):
        export_frames(frames(2), tmp_path / "o.mp4", 8.0)
    assert keep.read_text() == "data"


def test_existing_output_needs_overwrite_and_someones_json_is_kept(tmp_path):
    out = tmp_path / "o.mp4"
    export_frames(frames(2), out, 8.0, sidecar={"request": {}, "output": {}})
    before = out.read_bytes()
    with pytest.raises(OutputExists, match="already exists; pass --overwrite") as exists:
        export_frames(frames(3), out, 8.0, sidecar={"request": {}, "output": {}})
    assert out.read_bytes() == before and exists.value.path == out  # typed: a caller may ask and retry
    export_frames(frames(3), out, 8.0, sidecar={"request": {}, "output": {}}, overwrite=True)
    assert probe_video(out).frames == 3
    # a JSON at the sidecar's name that the studio did not write is never replaced, even with overwrite
    (tmp_path / "mine.json").write_text('{"my": "settings"}')
    with pytest.raises(ExportError, match="not a studio sidecar") as refused:
        export_frames(frames(2), tmp_path / "mine.mp4", 8.0, sidecar={"request": {}, "output": {}}, overwrite=True)
    assert not isinstance(refused.value, OutputExists)  # never offered as "replace it?"
    assert (tmp_path / "mine.json").read_text() == '{"my": "settings"}' and hidden(tmp_path) == []


def test_a_retry_after_a_crash_before_the_video_was_renamed_needs_no_overwrite(tmp_path, monkeypatch):
    import studio.export.exporter as export_module

    out = tmp_path / "take.mp4"
    real_replace = os.replace

    def die_at_the_video(src, dst):
        if os.fspath(dst) == os.fspath(out):
            raise KeyboardInterrupt  # the process dies between the sidecar's rename and the video's
        real_replace(src, dst)

    monkeypatch.setattr(export_module.os, "replace", die_at_the_video)
    with pytest.raises(KeyboardInterrupt):
        export_frames(frames(2), out, 8.0, ExportOptions(gif=True), sidecar={"request": {}, "output": {}})
    monkeypatch.undo()
    assert not out.exists() and (tmp_path / "take.json").is_file() and (tmp_path / "take.gif").is_file()
    # the sidecar and the GIF describe a video that is not there: the same render again replaces them
    export_frames(frames(3), out, 8.0, ExportOptions(gif=True), sidecar={"request": {}, "output": {}})
    assert probe_video(out).frames == 3 and hidden(tmp_path) == []

    # only the files that orphan sidecar lists: someone's GIF beside it is still never replaced without asking
    (tmp_path / "x.json").write_text('{"request": {}, "files": {"mp4": "x.mp4"}}')
    (tmp_path / "x.gif").write_bytes(b"my gif")
    with pytest.raises(ExportError, match="x.gif already exists"):
        export_frames(frames(2), tmp_path / "x.mp4", 8.0, ExportOptions(gif=True), sidecar={"request": {}})
    assert (tmp_path / "x.gif").read_bytes() == b"my gif"


def test_a_studio_frames_folder_is_replaced_with_overwrite(tmp_path):
    out = tmp_path / "o.mp4"
    export_frames(frames(3), out, 8.0, ExportOptions(png_sequence=True))
    export_frames(frames(2), out, 8.0, ExportOptions(png_sequence=True), overwrite=True)
    assert sorted(p.name for p in (tmp_path / "o_frames").iterdir()) == ["frame_0.png", "frame_1.png"]
    assert hidden(tmp_path) == []


def test_planted_symlinks_at_temporary_names_are_never_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("IMPORTANT")
    folder = tmp_path / "out"
    folder.mkdir()
    for name in (".o.partial.probe", ".o.partial.json", ".o.partial.mp4", ".o.partial.mp4.log"):
        (folder / name).symlink_to(victim)
    export_frames(frames(2), folder / "o.mp4", 8.0, sidecar={"request": {}, "output": {}})
    assert victim.read_text() == "IMPORTANT"
    assert not (folder / "o.json").is_symlink() and (folder / "o.mp4").is_file()


def test_a_render_never_touches_another_renders_temporaries(tmp_path):
    """take.mp4 starting and finishing while take_2.mp4 is being written leaves take_2's files alone."""
    long = VideoExporter(tmp_path / "take_2.mp4", 8.0, 64, 48, ExportOptions(png_sequence=True))
    with long:
        long.write(frames(1)[0])
        export_frames(frames(2), tmp_path / "take.mp4", 8.0, ExportOptions(png_sequence=True))
        long.write(frames(2)[1])
        long.finish({"request": {}, "output": {}})
    assert probe_video(tmp_path / "take_2.mp4").frames == 2 and probe_video(tmp_path / "take.mp4").frames == 2
    assert hidden(tmp_path) == []


def test_output_equal_to_an_input_is_refused(media, tmp_path, capsys):
    video = tmp_path / "v.mp4"
    video.write_bytes(media["video"].read_bytes())
    assert main(warp_args(media, video, "--motion", str(video))) == 1
    assert "is also an input" in capsys.readouterr().err
    assert video.read_bytes() == media["video"].read_bytes()
    # --request job.json --out job.mp4 would replace the request file with the sidecar
    job = tmp_path / "job.json"
    job.write_text(f'{{"reference": "{media["photo"]}", "motion": "{media["video"]}", "engine": "warp"}}')
    before = job.read_text()
    assert main(["render", "--request", str(job), "--out", str(tmp_path / "job.mp4"), "--quiet"]) == 1
    assert "is also an input" in capsys.readouterr().err and job.read_text() == before


def test_cli_refuses_to_overwrite_then_overwrites_when_asked(media, tmp_path, capsys):
    out = tmp_path / "o.mp4"
    out.write_bytes(b"my old video")
    assert main(warp_args(media, out)) == 1
    assert "pass --overwrite" in capsys.readouterr().err and out.read_bytes() == b"my old video"
    assert main(warp_args(media, out, "--overwrite")) == 0
    assert probe_video(out).frames == 2


def test_sigterm_is_handled_like_ctrl_c(monkeypatch, tmp_path, capsys):
    import studio.cli.render as render_cli

    def terminated_midway(args):
        with VideoExporter(tmp_path / "o.mp4", 8.0, 64, 48, ExportOptions()) as exporter:
            exporter.write(frames(1)[0])
            os.kill(os.getpid(), signal.SIGTERM)
            exporter.write(frames(2)[1])
        return 0

    monkeypatch.setattr(render_cli, "_run", terminated_midway)
    assert main(["render", "--out", str(tmp_path / "o.mp4")]) == 143
    assert "interrupted" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is not None  # the previous handler is back
