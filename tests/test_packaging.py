"""Done-when of "install it like an application": build the wheel, install it into a fresh virtual environment
and, from there (not from this checkout), run the CLI's --help, a warp render of the bundled samples, and the
window offscreen with its theme, icon and samples found.

The fresh environment sees this environment's packages through a .pth file (after its own), and the wheel is
installed with --no-deps --no-index, so nothing is downloaded and the test stays quick.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["pyproject.toml", "README.md", "LICENSE", "MODEL_LICENSES.md", "studio", "pipelines", "ui", "assets"]


def _run(cmd: list, cwd: Path, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, f"{cmd}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"  # a copy, so the build's scratch folders never land in the checkout
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", work / "dist",
          src], work, env)
    wheel = next((work / "dist").glob("stableanimator_studio-*.whl"))
    prefix = work / "venv"
    venv.EnvBuilder(with_pip=False).create(prefix)
    scripts = prefix / ("Scripts" if os.name == "nt" else "bin")
    python = scripts / ("python.exe" if os.name == "nt" else "python")
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], work,
                     env).stdout.strip())
    (site / "zz_shared_packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheel], work, env)
    run_dir = work / "run"
    run_dir.mkdir()
    env.update(QT_QPA_PLATFORM="offscreen", STUDIO_HOME=str(work / "home"), OMP_NUM_THREADS="1")
    return {"prefix": prefix, "scripts": scripts, "python": python, "wheel": wheel, "cwd": run_dir, "env": env,
            "home": work / "home"}


@pytest.mark.slow
def test_wheel_carries_assets_licences_and_entry_points(installed):
    import zipfile

    names = zipfile.ZipFile(installed["wheel"]).namelist()
    for asset in ("assets/sample_photo.jpg", "assets/sample_motion.mp4", "assets/sample_dance/motion.json",
                  "assets/theme.qss", "assets/icons/app.svg"):
        assert asset in names
    assert any(n.endswith("licenses/LICENSE") for n in names)
    assert any(n.endswith("licenses/MODEL_LICENSES.md") for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(installed["wheel"]).read(entry_points).decode()
    assert "[console_scripts]\nstableanimator-studio = studio.__main__:entry" in text
    assert "[gui_scripts]\nstableanimator-studio-window = ui.app:main" in text
    located = _run([installed["python"], "-c", "import studio, assets; from studio.system.assets import asset_path; "
                    "print(studio.__file__); print(asset_path('theme.qss'))"], installed["cwd"], installed["env"])
    for line in located.stdout.split():
        assert Path(line).resolve().is_relative_to(installed["prefix"].resolve()), line  # not this checkout


@pytest.mark.slow
def test_installed_cli_help_and_warp_render_of_the_samples(installed):
    cli = installed["scripts"] / "stableanimator-studio"
    help_text = _run([cli, "--help"], installed["cwd"], installed["env"]).stdout
    assert help_text.startswith("usage: stableanimator-studio") and "render" in help_text
    photo, motion = _run([installed["python"], "-c", "from studio.system.assets import asset_path as a; "
                          "print(a('sample_photo.jpg')); print(a('sample_motion.mp4'))"],
                         installed["cwd"], installed["env"]).stdout.split()
    result = _run([cli, "render", "--engine", "warp", "--reference", photo, "--motion", motion, "--width", "128",
                   "--height", "128", "--frames", "4", "--out", "out/{reference}_{counter:02d}.webm", "--json",
                   "--quiet"], installed["cwd"], installed["env"])
    summary = json.loads(result.stdout)
    assert summary["frames"] == 4 and summary["path"].endswith("out/sample_photo_01.webm")
    assert summary["format"] == "vp9-webm"  # from the extension
    assert Path(summary["sidecar"]).is_file()
    from studio.export.exporter import probe_video

    info = probe_video(summary["path"])
    assert (info.video_codec, info.frames, info.width, info.height) == ("vp9", 4, 128, 128)
    assert "W0000" not in result.stderr  # mediapipe's native log lines stay off the terminal …
    assert "Feedback manager" in (installed["home"] / "logs" / "native.log").read_text()  # … and in the log folder
    log = (installed["home"] / "logs" / "studio.log").read_text()
    assert "stableanimator-studio render --engine warp" in log and "ffmpeg: " in log


@pytest.mark.slow
def test_installed_window_starts_offscreen_with_its_assets(installed):
    window = installed["scripts"] / "stableanimator-studio-window"
    _run([window, "--samples", "--quit-after", "1500", "-v"], installed["cwd"], installed["env"])
    log = (installed["home"] / "logs" / "studio.log").read_text()
    assert "theme" in log and "sample_photo.jpg" in log


def test_tested_pins_satisfy_the_declared_ranges():
    """requirements.txt's exact pins must be one of the sets pyproject's ranges allow (and ranges stay ranges)."""
    import re
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [Requirement(r) for r in project["dependencies"]]
    declared += [Requirement(r) for extra in project["optional-dependencies"].values() for r in extra]
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)==([^\s#;]+).*", line)
        if match:
            pins[canonicalize_name(match[1])] = match[2]
    assert pins.get("torch") == "2.13.0"
    checked = 0
    for requirement in declared:
        assert not any(spec.operator == "==" for spec in requirement.specifier), f"{requirement} is an exact pin"
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is not None:
            assert requirement.specifier.contains(pinned, prereleases=True), f"{requirement} excludes {pinned}"
            checked += 1
    assert checked >= 15
    assert not {"einops", "scikit-image", "pyside6-addons"} & {canonicalize_name(r.name) for r in declared}
