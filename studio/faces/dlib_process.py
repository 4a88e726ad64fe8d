"""dlib's face models in a helper process, for a program whose other threads must keep running (the window).

dlib's Python calls keep the interpreter lock for their whole length — about 100–250 ms per 512² frame on a
busy CPU for the face search and the ResNet descriptor — so scoring a render's frames on a worker thread froze
the window's GUI thread for that long, frame after frame. ``HelperEmbedder`` sends each frame to a child
process (``python -m studio.faces.dlib_helper_main``: only numpy and dlib imported) over a pipe and waits for the
answer with the lock released. The answer is the in-process ``DlibFaceEmbedder.describe``'s, computed there.

The pipe carries raw numbers only (no pickle): a request is a header ``<iii4i`` (height, width, whether a
box is given, the box) and the frame's RGB bytes; an answer is ``<i4i`` (1 found / 0 none / -1 error, the
box) and then 128 float32 (found) or a length-prefixed UTF-8 message (error).
"""

from __future__ import annotations

import atexit
import os
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, BinaryIO

import numpy as np

from studio.errors import ModelFolderError

REQUEST = struct.Struct("<iii4i")
ANSWER = struct.Struct("<i4i")
MESSAGE_LENGTH = struct.Struct("<i")
DESCRIPTOR_SIZE = 128


class HelperEmbedder:
    """``describe(image, near)`` like ``DlibFaceEmbedder``'s, computed in a child process (started at once;
    it ends when this object is closed or this process exits, since its input pipe then closes)."""

    def __init__(self) -> None:
        import studio

        # the child finds this studio package wherever it was imported from (a checkout, not installed)
        package_root = str(Path(studio.__file__).resolve().parents[1])
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH"))
                                                          if p))
        self._process = subprocess.Popen(  # no preexec_fn: the child is started by vfork (cheap in a big process)
            [sys.executable, "-m", "studio.faces.dlib_helper_main"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env=env)
        self._lock = threading.Lock()
        atexit.register(self.close)

    def describe(self, image: np.ndarray, near: tuple[int, int, int, int] | None = None
                 ) -> tuple[np.ndarray | None, tuple[int, int, int, int] | None]:
        image = np.ascontiguousarray(image, dtype=np.uint8)
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"an RGB frame is expected, got an array of shape {image.shape}")
        height, width = image.shape[:2]
        box = tuple(int(v) for v in near) if near is not None else (0, 0, 0, 0)
        with self._lock:
            if self._process.poll() is not None:
                raise ModelFolderError(f"the dlib helper process ended (exit code {self._process.returncode})")
            try:
                stdin, stdout = self._process.stdin, self._process.stdout
                assert stdin is not None and stdout is not None
                stdin.write(REQUEST.pack(height, width, near is not None, *box))
                stdin.write(image.data)
                stdin.flush()
                found, *face = ANSWER.unpack(_read_exactly(stdout, ANSWER.size))
                if found == 1:
                    vector = np.frombuffer(_read_exactly(stdout, DESCRIPTOR_SIZE * 4), np.float32).copy()
                    return vector, (face[0], face[1], face[2], face[3])
                if found == 0:
                    return None, None
                length, = MESSAGE_LENGTH.unpack(_read_exactly(stdout, MESSAGE_LENGTH.size))
                message = _read_exactly(stdout, length).decode("utf-8", "replace")
            except (OSError, EOFError) as error:
                raise ModelFolderError(f"the dlib helper process stopped answering ({error})") from None
        raise ModelFolderError(message)

    def __call__(self, image: np.ndarray) -> np.ndarray | None:
        return self.describe(image)[0]

    def close(self) -> None:
        if self._process.poll() is None:
            try:
                assert self._process.stdin is not None
                self._process.stdin.close()  # the child's loop ends at the end of its input
                self._process.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self._process.kill()


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    if data is None or len(data) != size:
        raise EOFError(f"expected {size} bytes, got {0 if data is None else len(data)}")
    return data


def serve(stdin: BinaryIO, stdout: BinaryIO, make_embedder: Callable[[], Any]) -> None:
    """The child's loop: describe each frame that arrives until the input ends (``make_embedder()`` gives the
    in-process ``DlibFaceEmbedder``, made at the first frame)."""
    embedder = None
    while True:
        header = stdin.read(REQUEST.size)
        if not header:
            return
        height, width, has_box, *box = REQUEST.unpack(header)
        image = np.frombuffer(_read_exactly(stdin, height * width * 3), np.uint8).reshape(height, width, 3)
        try:
            embedder = embedder or make_embedder()
            vector, face = embedder.describe(image, tuple(box) if has_box else None)
        except Exception as error:  # noqa: BLE001 - said to the parent, which raises it there
            text = str(error).encode("utf-8")
            stdout.write(ANSWER.pack(-1, 0, 0, 0, 0) + MESSAGE_LENGTH.pack(len(text)) + text)
        else:
            if vector is None or face is None:
                stdout.write(ANSWER.pack(0, 0, 0, 0, 0))
            else:
                stdout.write(ANSWER.pack(1, *face) + np.asarray(vector, np.float32).tobytes())
        stdout.flush()
