#!/usr/bin/env bash
# Set up (first run only) and launch StableAnimator Studio.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python main.py "$@"
