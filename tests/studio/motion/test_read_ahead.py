"""Frames looked ahead at are handed out again in order, each decoded once (``studio.media.read_ahead``: how
"auto" samples the first second without decoding it twice; the extraction itself: test_decode_once)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import studio.media.read_ahead as read_ahead
from studio.media.read_ahead import ReadAheadFrames
from tests.studio.motion.test_decode_once import full_disk


def _fake_decoder(count: int, opened: list[int], sizes=((4, 6),)):
    """A decoder of ``count`` distinct frames (index k: every pixel k, sizes taking turns) that counts the frames
    it decodes in ``opened`` (one counter per decoder started)."""

    def frames():
        opened.append(0)
        for k in range(count):
            opened[-1] += 1
            height, width = sizes[k % len(sizes)]
            yield k, np.full((height, width, 3), k, np.uint8)

    return frames


def test_frames_looked_ahead_at_are_handed_out_again_in_order_decoded_once():
    opened: list[int] = []
    with ReadAheadFrames(_fake_decoder(9, opened, sizes=((4, 6), (5, 3)))) as frames:
        first = next(frames)
        looked_at = list(frames.look_ahead(4))
        rest = [first] + list(frames)
    assert [index for index, _ in looked_at] == [0, 1, 2, 3, 4]  # the current frame, then up to position 4
    # the current frame is looked at read-only (the caller follows those very pixels next), its own stays writable
    assert not looked_at[0][1].flags.writeable and first[1].flags.writeable
    assert [index for index, _ in rest] == list(range(9))
    for index, pixels in rest:  # each frame's own bytes and shape back, frames of two sizes taking turns
        assert pixels.shape == ((4, 6, 3) if index % 2 == 0 else (5, 3, 3)) and (pixels == index).all()
    assert opened == [9]  # one decoder, each frame decoded once


def test_a_clip_ending_inside_the_look_ahead_hands_out_what_it_has():
    opened: list[int] = []
    frames = ReadAheadFrames(_fake_decoder(3, opened))
    next(frames)
    assert [index for index, _ in frames.look_ahead(10)] == [0, 1, 2]
    assert [index for index, _ in frames] == [1, 2]
    assert opened == [3]


def _little_room(_folder):
    """shutil.disk_usage of a temporary folder with room for two 4×6 frames besides KEEP_FREE."""
    return SimpleNamespace(total=1 << 40, used=1 << 40, free=read_ahead.KEEP_FREE + 2 * 4 * 6 * 3)


@pytest.mark.parametrize("no_spool", [
    lambda monkeypatch: monkeypatch.setattr(read_ahead.tempfile, "TemporaryFile", full_disk),
    lambda monkeypatch: monkeypatch.setattr(read_ahead.shutil, "disk_usage", _little_room),  # 3 read ahead: no room
], ids=["full disk", "little room"])
def test_without_a_temporary_file_the_frames_read_ahead_are_decoded_again(monkeypatch, no_spool):
    no_spool(monkeypatch)
    opened: list[int] = []
    frames = ReadAheadFrames(_fake_decoder(6, opened))
    next(frames)
    assert [index for index, _ in frames.look_ahead(3)] == [0, 1, 2, 3]
    handed = list(frames)
    assert [index for index, _ in handed] == [1, 2, 3, 4, 5]
    assert all((pixels == index).all() for index, pixels in handed)
    assert opened == [4, 6]  # the first decoder stopped after the look-ahead, a second one from the start
