#!/usr/bin/env bash
# Set up (first run only) and run the whole test suite offline on the CPU: tiny models, generated media,
# Qt offscreen (the screenshot test starts its own Xvfb). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
export QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 PYTHONDONTWRITEBYTECODE=1
exec .venv/bin/python -m pytest "$@"
