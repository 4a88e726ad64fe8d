"""Work is bounded by what was asked (issue 25, cause 6): a few frames of a long clip never demux the whole file,
a late trim seeks, and tiny videos are read."""

from __future__ import annotations

import imageio_ffmpeg
import numpy as np
import pytest

from studio.media import video_io as media
from studio.media.video_io import iter_frames, probe_video, selected_indices
from studio.request.render_request import FrameSelection
from tests.generated_media import write_video

FPS = 8.0


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """Twelve seconds whose every frame has its own brightness (frame i: 2·i)."""
    frames = [np.full((16, 16, 3), 2 * i, np.uint8) for i in range(96)]
    return write_video(tmp_path_factory.mktemp("clip") / "long.mp4", frames, fps=FPS)


def _no_counting(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the whole file was demuxed to count its frames")

    monkeypatch.setattr(imageio_ffmpeg, "count_frames_and_secs", refuse)


def test_a_few_frames_of_a_long_clip_never_count_the_whole_file(clip, monkeypatch):
    _no_counting(monkeypatch)
    info = probe_video(clip)
    assert not info.exact and abs(info.frame_count - 96) <= 1
    got = list(iter_frames(clip, FrameSelection(max_frames=4), info))
    assert [i for i, _ in got] == [0, 1, 2, 3]


def test_a_selection_reaching_the_end_is_counted_exactly_once(clip, monkeypatch):
    counted = []
    real = imageio_ffmpeg.count_frames_and_secs
    monkeypatch.setattr(imageio_ffmpeg, "count_frames_and_secs", lambda path: counted.append(path) or real(path))
    media._frames_and_seconds.cache_clear()  # a fresh memo: this test counts the demuxes
    info = probe_video(clip)
    assert selected_indices(info, FrameSelection(start=10.0)) == list(range(80, 96))
    assert [i for i, _ in iter_frames(clip, FrameSelection(start=10.0), info)] == list(range(80, 96))
    assert len(counted) == 1


def test_a_late_trim_seeks_to_exactly_the_right_frames(clip, monkeypatch):
    _no_counting(monkeypatch)
    decoded = []
    real = imageio_ffmpeg.read_frames

    def spy(path, **kwargs):
        decoded.append(kwargs.get("input_params"))
        return real(path, **kwargs)

    monkeypatch.setattr(imageio_ffmpeg, "read_frames", spy)
    got = list(iter_frames(clip, FrameSelection(start=6.0, max_frames=3)))
    assert [i for i, _ in got] == [48, 49, 50]
    assert decoded and decoded[0][0] == "-ss"
    everything = list(iter_frames(clip, FrameSelection(max_frames=51)))  # decoded from the first frame
    for (index, frame), (_, same) in zip(got, everything[48:], strict=True):
        assert np.array_equal(frame, same), index  # decoding is deterministic: the same frames, bit for bit


def test_an_8x8_video_is_read(tmp_path):
    path = write_video(tmp_path / "tiny.mp4", [np.full((8, 8, 3), 40 * i, np.uint8) for i in range(3)], fps=FPS)
    info = probe_video(path)
    assert (info.width, info.height) == (8, 8)
    assert len(list(iter_frames(path, FrameSelection(), info))) == 3


def test_folders_are_refused_before_anything_is_hashed(tmp_path, monkeypatch):
    from studio.request import render_request as request_mod
    from studio.errors import InputError
    from studio.request.render_request import RenderRequest

    def refuse(*args):
        raise AssertionError("a file was hashed before the folder was refused")

    monkeypatch.setattr(request_mod, "_hash_file_into", refuse)
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "big.bin").write_bytes(b"x" * 1000)
    clip = write_video(tmp_path / "v.mp4", [np.zeros((16, 16, 3), np.uint8)] * 2, fps=FPS)
    with pytest.raises(InputError, match="is a folder, not a photo"):
        RenderRequest(reference=str(photos), motion=str(clip)).with_hashes()
    stuff = tmp_path / "stuff"
    stuff.mkdir()
    (stuff / "notes.txt").write_text("x")
    with pytest.raises(InputError, match="holds no frames"):
        RenderRequest(reference=str(clip), motion=str(stuff)).with_hashes()


def test_the_eta_reads_the_queue_once(tmp_path, monkeypatch):
    from studio.batch.queue import JobQueue
    from tests.studio.batch.test_queue import base

    queue = JobQueue(tmp_path / "q.db")
    for seed in range(12):
        queue.add(base(seed=seed), tmp_path / f"o{seed}.mp4")
    for _ in range(3):
        job = queue.claim_next()
        queue.finish(job.id, seconds=10.0 * job.request.steps)
    reads = []
    real = JobQueue.jobs
    monkeypatch.setattr(JobQueue, "jobs", lambda self, *a, **k: reads.append(1) or real(self, *a, **k))
    assert queue.eta_seconds() == pytest.approx(9 * 10.0 * base().steps)
    assert len(reads) == 1  # was once more per waiting job: quadratic in the queue's length
