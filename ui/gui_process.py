"""What a process with a GUI thread asks of the libraries the studio uses, so no worker thread stops it.

Python runs one thread at a time; a library call that keeps the interpreter lock stops the GUI thread for as
long as it lasts. Two did so in the window, seen with ``bench/ui_latency.py``:

- dlib (the identity scores of every rendered frame): each call keeps the lock for 100–250 ms, so dlib runs in
  a helper process (``studio.faces.dlib_process``).
- starting ffmpeg (every video probe and decode): imageio-ffmpeg starts it with a ``preexec_fn``, which makes
  Python fork the whole window process (tens of ms for a process of a few GB, the lock held) instead of a
  vfork; its documented switch turns that off. (The ffmpeg child then shares the window's process group: a
  Ctrl+C in the terminal that started the window stops ffmpeg with it.)
"""

from __future__ import annotations

import os

from studio.faces.dlib_identity import describe_in_helper_process


def keep_gui_thread_free() -> None:
    os.environ.setdefault("IMAGEIO_FFMPEG_NO_PREVENT_SIGINT", "1")
    describe_in_helper_process(True)
