"""studio.system.platform: the one home of OS differences, exercised with the platform monkeypatched; and no
POSIX-only call anywhere else in the core or the window."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.system import platform

ROOT = Path(__file__).resolve().parents[3]


def test_device_lock_is_exclusive_until_released(tmp_path):
    first, second = platform.DeviceLock(tmp_path / "q.lock"), platform.DeviceLock(tmp_path / "q.lock")
    assert first.try_acquire() and first.held
    assert not second.try_acquire()
    first.release()
    assert not first.held and second.try_acquire()
    second.release()


def test_device_lock_is_freed_when_its_process_dies(tmp_path):
    lock = tmp_path / "q.lock"
    code = ("import sys, time; from studio.system.platform import DeviceLock; l = DeviceLock(sys.argv[1]); "
            "assert l.try_acquire(); print('held', flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(lock)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        assert proc.stdout.readline().strip() == "held"
        assert not platform.DeviceLock(lock).try_acquire()
    finally:
        proc.kill()
        proc.wait()
    mine = platform.DeviceLock(lock)
    assert mine.try_acquire()
    mine.release()


def test_no_follow_flag_where_posix_has_it(monkeypatch):
    assert platform.no_follow_flag() == os.O_NOFOLLOW
    monkeypatch.delattr(os, "O_NOFOLLOW")  # as on Windows
    assert platform.no_follow_flag() == 0


@pytest.mark.parametrize(("os_name", "sys_platform", "windows", "macos"), [
    ("nt", "win32", True, False), ("posix", "darwin", False, True), ("posix", "linux", False, False)])
def test_os_detection(monkeypatch, os_name, sys_platform, windows, macos):
    monkeypatch.setattr(platform.os, "name", os_name)
    monkeypatch.setattr(platform.sys, "platform", sys_platform)
    assert (platform.is_windows(), platform.is_macos()) == (windows, macos)


def test_executable_name_on_windows(monkeypatch):
    monkeypatch.setattr(platform, "is_windows", lambda: True)
    assert platform.executable_name("nvidia-smi") == "nvidia-smi.exe"
    assert platform.executable_name("ffmpeg.exe") == "ffmpeg.exe"
    monkeypatch.setattr(platform, "is_windows", lambda: False)
    assert platform.executable_name("nvidia-smi") == "nvidia-smi"


def test_nvidia_gpu_detection_per_os(monkeypatch):
    looked_up: list[str] = []

    def which(name):
        looked_up.append(name)
        return "C:/Windows/System32/nvidia-smi.exe" if name == "nvidia-smi.exe" else None

    monkeypatch.setattr(platform.shutil, "which", which)
    monkeypatch.setattr(platform, "is_macos", lambda: True)
    monkeypatch.setattr(platform, "is_windows", lambda: False)
    assert platform.nvidia_gpu_present() is False and looked_up == []  # macOS: no NVIDIA driver at all
    monkeypatch.setattr(platform, "is_macos", lambda: False)
    monkeypatch.setattr(platform, "is_windows", lambda: True)
    assert platform.nvidia_gpu_present() is True and looked_up == ["nvidia-smi.exe"]  # no /dev on Windows
    monkeypatch.setattr(platform, "is_windows", lambda: False)
    monkeypatch.setattr(platform, "Path", lambda p: Path("/nonexistent") / Path(p).name)
    assert platform.nvidia_gpu_present() is False and looked_up[-1] == "nvidia-smi"


POSIX_ONLY_MODULES = {"fcntl", "termios", "pwd", "grp", "resource", "msvcrt", "winreg"}
POSIX_ONLY_ATTRIBUTES = {"O_NOFOLLOW", "SIGKILL", "SIGHUP", "fork", "getuid", "geteuid", "mkfifo", "setsid",
                         "killpg", "getpgid"}


def test_no_os_specific_calls_outside_the_platform_module():
    offenders = []
    for package in ("studio", "pipelines", "ui"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "studio" / "system" / "platform.py":  # (the one place they belong)
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name.split(".")[0] for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module.split(".")[0]]
                if POSIX_ONLY_MODULES & set(names):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {names}")
                if isinstance(node, ast.Attribute) and node.attr in POSIX_ONLY_ATTRIBUTES:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} uses .{node.attr}")
    assert offenders == [], "use studio.system.platform instead:\n" + "\n".join(offenders)
