"""Decoded frames that can be looked ahead at and are then still handed out in order, each decoded once.

"auto" chooses whom to follow from samples spread over the clip's first second before the first frame is followed
(``studio.motion.opening``), so every frame up to the last sample is needed twice: once looked ahead at, once in
order. Decoding those frames a second time cost a 4K clip 25 frames of 25 MB through ffmpeg's pipe (3 s on the
shared development machine); holding them in memory costs a second of frames (1.5 GB at 4K and 60 fps). So the
frames read ahead are written as they are (raw bytes, so they come back exactly) to an anonymous temporary file
and read back one at a time when their turn comes: the process holds a frame at a time, the file is created
exclusively and is gone once closed (or the process ends). Where that file cannot be written (a read-only
temporary folder, or one it would fill: ``KEEP_FREE``), the decoder is started again and the frames are decoded a
second time, as before.
"""

from __future__ import annotations

import io
import logging
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterator

import numpy as np

Frame = tuple[int, np.ndarray]  # (source frame index, frame) as ``video_io.iter_frames`` yields them
#: Free space the temporary folder keeps after the frames read ahead are written there (less: they are decoded
#: again instead): a second of 4K frames would fill a nearly full disk for a moment, and other programs' writes
#: would fail meanwhile.
KEEP_FREE = 1 << 30


class ReadAheadFrames:
    """The frames of ``open_frames()`` (a fresh decoder of the same frames each call), in order.

    Iterate it like the decoder; ``look_ahead(position)`` yields the current frame and the ones after it up to
    ``position`` (0-based, counting the frames this reader hands out) without using them up: they are handed out
    again, in order, afterwards. ``close()`` stops the decoder and removes the temporary file.
    """

    def __init__(self, open_frames: Callable[[], Iterator[Frame]]) -> None:
        self._open = open_frames
        self._decoder: Iterator[Frame] = open_frames()
        self._current: Frame | None = None  # the frame handed out last
        self._handed = 0  # frames handed out so far
        self._spool: io.BufferedRandom | None = None
        self._spool_end = 0  # where the next frame read ahead is written in the spool
        #: The frames read ahead and not yet handed out again: (index, shape, dtype, offset in the spool).
        self._ahead: deque[tuple[int, tuple[int, ...], np.dtype, int]] = deque()
        self._decode_again = False  # the spool failed: the frames read ahead are decoded once more

    def __iter__(self) -> ReadAheadFrames:
        return self

    def __next__(self) -> Frame:
        frame = self._from_spool() if self._ahead else None
        if frame is None:
            if self._decode_again:
                self._restart_decoder()
            frame = next(self._decoder)
        self._current = frame
        self._handed += 1
        return frame

    def look_ahead(self, position: int) -> Iterator[Frame]:
        """The current frame, then each frame after it up to ``position`` (fewer where the clip ends first); each
        is handed out again, in order, after the current one. Read ahead once per reader (the opening samples)."""
        if self._ahead or self._current is None or self._decode_again:
            raise RuntimeError("look_ahead is for the frame just handed out, once")
        index, pixels = self._current
        looked_at = pixels.view()
        looked_at.flags.writeable = False  # the same pixels are handed on: the look must leave them as decoded
        yield index, looked_at
        ahead = position + 1 - self._handed
        if ahead > 0 and not _room_for(ahead * pixels.nbytes):
            self._give_up_spool(f"less than {ahead} frames' worth and {KEEP_FREE >> 30} GB free")
        for _ in range(self._handed, position + 1):
            try:
                frame = next(self._decoder)
            except StopIteration:
                return
            self._keep(frame)
            yield frame

    def close(self) -> None:
        getattr(self._decoder, "close", lambda: None)()  # (a generator: closing it stops the decoder)
        self._drop_spool()

    def __enter__(self) -> ReadAheadFrames:
        return self

    def __exit__(self, *_) -> None:
        self.close()

    # -------------------------------------------------------------------------------------------- the spool
    def _keep(self, frame: Frame) -> None:
        if self._decode_again:
            return
        index, pixels = frame
        pixels = np.ascontiguousarray(pixels)
        try:
            if self._spool is None:
                self._spool = tempfile.TemporaryFile()  # noqa: SIM115 - open across calls, closed by close()
            self._spool.seek(self._spool_end)
            self._spool.write(pixels.data.cast("B"))
        except OSError as error:
            self._give_up_spool(str(error))
            return
        self._ahead.append((index, pixels.shape, pixels.dtype, self._spool_end))
        self._spool_end += pixels.nbytes

    def _from_spool(self) -> Frame | None:
        """The next frame read ahead, from the spool; None where it cannot be read back (then decoded again)."""
        index, shape, dtype, offset = self._ahead.popleft()
        assert self._spool is not None
        pixels = np.empty(shape, dtype)
        try:
            self._spool.seek(offset)
            if self._spool.readinto(pixels.data.cast("B")) != pixels.nbytes:
                raise OSError("the file came back short")
        except OSError as error:
            self._give_up_spool(str(error))
            return None
        if not self._ahead:
            self._drop_spool()  # every frame read ahead is back: its bytes are not needed any longer
        return index, pixels

    def _give_up_spool(self, why: str) -> None:
        logging.getLogger(__name__).warning("the frames read ahead are decoded again (temporary file: %s)", why)
        self._drop_spool()
        self._ahead.clear()
        self._decode_again = True

    def _drop_spool(self) -> None:
        if self._spool is not None:
            self._spool.close()
        self._spool, self._spool_end = None, 0

    def _restart_decoder(self) -> None:
        """A fresh decoder at the frame after the current one (the frames before it are decoded and passed)."""
        getattr(self._decoder, "close", lambda: None)()
        self._decoder, self._decode_again = self._open(), False
        for _ in range(self._handed):
            next(self._decoder)


def _room_for(nbytes: int) -> bool:
    """Whether the temporary folder can take ``nbytes`` and keep KEEP_FREE free."""
    try:
        return shutil.disk_usage(tempfile.gettempdir()).free >= nbytes + KEEP_FREE
    except OSError:
        return False
