"""The one frame-selection rule (studio.media.select_frames) shared by videos, skeleton folders and motion files."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from studio.errors import InputError
from studio.media.video_io import FOLDER_FPS, VideoInfo, iter_frames, select_frames, selected_indices
from studio.request.render_request import FrameSelection


def test_trim_stride_and_limit():
    # [0.55 s, 2.0 s) at 12 fps is frames 6.6 → 6 (the frame showing at 0.55 s) up to 24 (exclusive)
    assert select_frames(48, 12.0, FrameSelection(0.55, 2.0, 2, 5)) == [6, 8, 10, 12, 14]
    assert select_frames(10, 8.0, FrameSelection()) == list(range(10))
    assert select_frames(10, 8.0, FrameSelection(start=5.0)) == []  # past the end: nothing, the caller says why


def test_window_edges_that_fall_on_a_frame_survive_float_rounding():
    # In floats 0.29 s × 100 fps is 28.999999999999996 (a plain floor would start a frame early) and 0.07 s × 100
    # fps is 7.000000000000001 (a plain ceil would end a frame late).
    assert 0.29 * 100 < 29 and 0.07 * 100 > 7
    assert select_frames(100, 100.0, FrameSelection(0.29, 0.57)) == list(range(29, 57))
    assert select_frames(100, 100.0, FrameSelection(0.0, 0.07)) == list(range(7))
    # An end beyond the clip stops at its last frame.
    assert select_frames(10, 10.0, FrameSelection(0.5, 60.0)) == [5, 6, 7, 8, 9]


def test_a_video_selects_by_the_same_rule_and_names_an_empty_window():
    info = VideoInfo("clip.mp4", 12.0, 48, 4.0, 64, 64)
    assert selected_indices(info, FrameSelection(0.55, 2.0, 2, 5)) == [6, 8, 10, 12, 14]
    with pytest.raises(InputError, match=r"clip\.mp4: the trim window 5\.0–None s selects no frames") as error:
        selected_indices(info, FrameSelection(start=5.0))
    assert "4.00 s" in str(error.value)  # how long the clip really is, so the user can fix the window


def test_decoding_a_frame_folder_yields_exactly_the_selected_frames(tmp_path):
    """Each frame's pixels carry its own number, so the test sees which frames were really decoded."""
    for index in range(12):
        Image.fromarray(np.full((4, 4, 3), index * 20, np.uint8)).save(tmp_path / f"frame_{index}.png")
    # frame_10 and frame_11 sort after frame_9 (natural order), so position = frame number
    selection = FrameSelection(start=2 / FOLDER_FPS, end=11 / FOLDER_FPS, stride=3)
    decoded = list(iter_frames(tmp_path, selection))
    assert [index for index, _ in decoded] == [2, 5, 8]
    assert [int(frame[0, 0, 0]) for _, frame in decoded] == [40, 100, 160]
