"""Everything that differs between Windows, macOS and Linux, in one small module.

The core calls these helpers instead of POSIX-only APIs (``fcntl``, ``os.O_NOFOLLOW``, ``signal.SIGKILL``), so
the queue and the window start on every desktop OS. The tests run on Linux only, so each branch is written
to be exercised with ``sys.platform`` / ``os.name`` monkeypatched.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from filelock import FileLock, Timeout


def is_windows() -> bool:
    return os.name == "nt"


def is_macos() -> bool:
    return sys.platform == "darwin"


class DeviceLock:
    """An exclusive, non-blocking lock on a file, released by the OS when the process dies (even ``kill -9``).

    ``filelock`` uses ``msvcrt.locking`` on Windows and ``fcntl.flock`` elsewhere, so no POSIX call lives here.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = FileLock(str(self.path), timeout=0, thread_local=False)

    def try_acquire(self) -> bool:
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            return False
        return True

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release()

    @property
    def held(self) -> bool:
        return self._lock.is_locked


def no_follow_flag() -> int:
    """``os.O_NOFOLLOW`` where it exists (POSIX); Windows has no such flag (callers then ``lstat`` first)."""
    return getattr(os, "O_NOFOLLOW", 0)


def executable_name(name: str) -> str:
    """``ffmpeg`` → ``ffmpeg.exe`` on Windows."""
    return f"{name}.exe" if is_windows() and not name.lower().endswith(".exe") else name


def nvidia_gpu_present() -> bool:
    """A cheap guess whether an NVIDIA GPU with a driver is here, without importing torch or running ffmpeg.

    Linux exposes ``/dev/nvidia0``; Windows and Linux both put ``nvidia-smi`` on PATH with the driver; macOS has
    had no NVIDIA driver for years. Callers still test the encoder before trusting it.
    """
    if is_macos():
        return False
    if not is_windows() and Path("/dev/nvidia0").exists():
        return True
    return shutil.which(executable_name("nvidia-smi")) is not None

