"""The autosave file: a process that dies while writing it (a crash, a kill, a power cut mid-close) leaves the
previous autosave whole, never half of the new one (``Session.write`` goes through ``write_text_atomic``: a
hidden temporary file renamed over the autosave only once complete), and the next start offers that one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from studio.autosave import AUTOSAVE_NAME, Session

REPO = Path(__file__).resolve().parents[2]

#: Writes an autosave, then dies (no cleanup, no close) halfway through writing the next one.
DIES_MID_WRITE = """
import os, sys
from pathlib import Path

import studio.export.atomic as atomic
from studio.autosave import Session

session = Session(Path(sys.argv[1]))
session.begin()
session.write({"request": {"steps": 1}})
real_fdopen = atomic.os.fdopen

class DiesHalfway:
    def __init__(self, handle):
        self.handle = handle
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        return False
    def write(self, text):
        self.handle.write(text[: len(text) // 2])
        self.handle.flush()
        os._exit(9)

atomic.os.fdopen = lambda *args, **kwargs: DiesHalfway(real_fdopen(*args, **kwargs))
session.write({"request": {"steps": 2}, "autosave": {"clip": None, "last_result": "x" * 100000}})
"""


def test_a_process_dying_mid_write_leaves_the_previous_autosave_whole(tmp_path):
    proc = subprocess.run([sys.executable, "-c", DIES_MID_WRITE, str(tmp_path)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr[-3000:]
    halves = [p for p in tmp_path.iterdir() if p.name.startswith(f".{AUTOSAVE_NAME}.")]
    assert len(halves) == 1 and 0 < halves[0].stat().st_size  # the half write is in a hidden file of its own
    session = Session(tmp_path)
    assert session.begin() is True  # the last session crashed: its autosave is offered …
    assert session.read() == {"request": {"steps": 1}}  # … the whole one written before
    session.end()
