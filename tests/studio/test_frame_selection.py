"""The one frame-selection rule (studio.media.select_frames) shared by videos, skeleton folders and motion files."""

from __future__ import annotations

from studio.media import FrameSelection, VideoInfo, select_frames, selected_indices


def test_trim_stride_and_limit():
    # [0.55 s, 2.0 s) at 12 fps is frames 6.6 → 6 (the frame showing at 0.55 s) up to 24 (exclusive)
    assert select_frames(48, 12.0, FrameSelection(0.55, 2.0, 2, 5)) == [6, 8, 10, 12, 14]
    assert select_frames(10, 8.0, FrameSelection()) == list(range(10))
    assert select_frames(10, 8.0, FrameSelection(start=5.0)) == []  # past the end: nothing, the caller says why


def test_a_video_selects_by_the_same_rule():
    info = VideoInfo("clip.mp4", 12.0, 48, 4.0, 64, 64)
    selection = FrameSelection(0.55, 2.0, 2, 5)
    assert selected_indices(info, selection) == select_frames(48, 12.0, selection)
