"""What a process with a GUI thread asks of the libraries the studio uses, so no worker thread stops it.

Python runs one thread at a time; a library call that keeps the interpreter lock stops the GUI thread for as
long as it lasts. Two did so in the window, seen with ``bench/ui_latency.py``:

- dlib (the identity scores of every rendered frame): each call keeps the lock for 100–250 ms, so dlib runs in
  a helper process (``studio.faces.dlib_process``).
- pure-Python work on a worker thread (drawing skeletons, tracing the model for the memory estimate): every
  time the GUI thread enters Python (a timer, a slot, a paint) it must get the lock back, and a thread that asks
  for it waits up to the switch interval (5 ms by default) each time — an event-loop turn that enters Python ten
  times waited 50 ms. At 1 ms the worker gives it up sooner (a little more switching, no change in results).
- starting ffmpeg (every video probe and decode): imageio-ffmpeg starts it with a ``preexec_fn``, which makes
  Python fork the whole window process (tens of ms for a process of a few GB, the lock held) instead of a
  vfork; its documented switch turns that off. (The ffmpeg child then shares the window's process group: a
  Ctrl+C in the terminal that started the window stops ffmpeg with it.)
"""

from __future__ import annotations

import os
import sys

from studio.faces.dlib_identity import describe_in_helper_process

#: The interpreter's switch interval in a process with a GUI thread (seconds).
GUI_SWITCH_INTERVAL_S = 0.001


def keep_gui_thread_free() -> None:
    sys.setswitchinterval(min(sys.getswitchinterval(), GUI_SWITCH_INTERVAL_S))
    os.environ.setdefault("IMAGEIO_FFMPEG_NO_PREVENT_SIGINT", "1")
    describe_in_helper_process(True)
