"""Screenshot under a real X server (Xvfb): photo, video and a finished result loaded; not blank."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.xvfb


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="Xvfb (xvfb-run) is not installed")
def test_screenshot_under_xvfb(tmp_path, _isolated_studio_home):
    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", OMP_NUM_THREADS="1", STUDIO_HOME=str(_isolated_studio_home))
    proc = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable, "-m", "ui.screenshot", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=400,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    import cv2

    image = cv2.imread(str(out))
    assert image is not None and image.shape[0] >= 600 and image.shape[1] >= 1000
    colours = len(np.unique(image.reshape(-1, 3), axis=0))
    assert colours > 2000, f"the screenshot looks blank ({colours} colours)"
    # the three result views (reference | pose | result) hold real pictures, not just the dark background
    h, w = image.shape[:2]
    band = image[int(h * 0.40): int(h * 0.52), : int(w * 0.72)]
    assert band.std() > 20
