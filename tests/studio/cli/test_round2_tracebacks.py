"""Inputs that gave tracebacks in the second probe (issue 25, cause 7) give one clear line: a symbolic-link loop
as --motion, a request nested thousands deep, a PNG whose text chunk decompresses to too much."""

from __future__ import annotations

from PIL import Image, PngImagePlugin

from studio.__main__ import main
from tests.studio.cli.test_bad_inputs import media, one_error_line, warp  # noqa: F401 - media is a fixture


def test_a_symlink_loop_as_motion_is_one_line(media, tmp_path, capsys):  # noqa: F811
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    assert main(warp(media, tmp_path / "o.mp4", motion=tmp_path / "a")) == 1
    line = one_error_line(capsys)
    assert "symbolic link" in line and str(tmp_path / "a") in line


def test_a_request_nested_too_deeply_is_one_line(tmp_path, capsys):
    deep = tmp_path / "deep.json"
    deep.write_text('{"reference":' + "[" * 100_000 + "]" * 100_000 + "}")
    assert main(["render", "--request", str(deep), "--out", str(tmp_path / "o.mp4"), "--quiet"]) == 1
    assert "nested too deeply" in one_error_line(capsys)


def test_a_png_text_chunk_bomb_is_one_line(media, tmp_path, capsys):  # noqa: F811
    info = PngImagePlugin.PngInfo()
    info.add_text("bomb", "A" * (20 << 20), zip=True)  # 20 MB of text in a few kB of file
    photo = tmp_path / "bomb.png"
    Image.new("RGB", (64, 64)).save(photo, pnginfo=info)
    assert main(warp(media, tmp_path / "o.mp4", reference=photo)) == 1
    line = one_error_line(capsys)
    assert "bomb.png" in line and "not a readable image" in line
