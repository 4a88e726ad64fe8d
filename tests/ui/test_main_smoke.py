"""Start main.py in a subprocess (a second QApplication in this process would abort) and close it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_main_starts_and_quits(_isolated_studio_home):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", STUDIO_HOME=str(_isolated_studio_home))
    proc = subprocess.run([sys.executable, "main.py", "--quit-after", "300"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (Path(_isolated_studio_home) / "ui" / "settings.ini").is_file()  # settings saved on close


def test_main_rejects_unknown_options(_isolated_studio_home):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", STUDIO_HOME=str(_isolated_studio_home))
    proc = subprocess.run([sys.executable, "main.py", "--no-such-option"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "unrecognized arguments" in proc.stderr
