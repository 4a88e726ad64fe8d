#!/usr/bin/env bash
# Make docs/screenshot.png (or OUT at a size): the studio window with the sample photo, motion and a finished (warp) result,
# drawn by a real X server (Xvfb). Needs xvfb, libxcb-icccm4, libxcb-keysyms1 (see packages.md §3).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 QT_QPA_PLATFORM=xcb
export STUDIO_HOME="${STUDIO_HOME:-$(mktemp -d)}"  # never the user's queue or settings
export STUDIO_OUTPUT_DIR="${STUDIO_OUTPUT_DIR:-$STUDIO_HOME/renders}"  # nor their Videos folder
# usage: scripts/screenshot.sh [OUT.png] [WIDTHxHEIGHT]  (the window's size; the screen is made to fit it)
size="${2:-1560x960}"
exec xvfb-run -a -s "-screen 0 ${size}x24" "${PYTHON:-.venv/bin/python}" -m ui.screenshot "${1:-docs/screenshot.png}" "$size"
