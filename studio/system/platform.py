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


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (a reused id reads as alive: callers then keep
    what they would have removed, the safe side)."""
    if pid <= 0:
        return False
    if is_windows():
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]  # typeshed declares windll on win32 only
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        try:
            code = ctypes.c_ulong()
            kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)  # signal 0: only asks whether it exists (never sent on Windows, see above)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_umask() -> int:
    """This process's umask, read without setting it (``os.umask`` sets while it reads, racing other threads):
    Linux reports it in /proc/self/status; elsewhere the usual 0o022."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def usual_permissions(path: str | Path, folder: bool = False) -> None:
    """``mkstemp``/``mkdtemp`` create private files (0600) and folders (0700), which is right while they are
    temporaries; what they become (a video, a sidecar, a project) gets the mode any new file gets (0644/0755 under
    the usual umask), so other programs and users see it as they would any other. Windows has no such modes."""
    if not is_windows():
        os.chmod(path, (0o777 if folder else 0o666) & ~process_umask())


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


def peak_rss_bytes() -> int:
    """This process's peak resident memory so far (0 where the platform does not say: Windows)."""
    try:
        import resource
    except ImportError:
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # macOS counts bytes, Linux KiB


def current_rss_bytes() -> int:
    """This process's resident memory now (Linux; 0 elsewhere): what was there before loading."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return 0
