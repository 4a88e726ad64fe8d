#!/usr/bin/env bash
# Sets up everything the studio and its tests need, idempotently:
#   - on Debian/Ubuntu (where apt exists): the system libraries Qt needs (xcb, Xvfb for screenshots), when missing;
#     elsewhere (macOS, other Linux) this step is skipped: Qt's wheels carry what they need there;
#   - a virtual environment at .venv with the pinned Python packages (re-installed when a requirements file changes).
# Usage: bash scripts/setup.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")/.."

want_dev=0
[ "${1:-}" = "--dev" ] && want_dev=1

apt_packages=(xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-cursor0 libgl1 libegl1 libxkbcommon-x11-0)
missing=()
if command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then
  for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then sudo_cmd=(); else sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || echo "setup: warning: could not install ${missing[*]} (the window may not open; tests run offscreen)"
fi

python_bin="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$python_bin" -m venv .venv
fi

req=requirements.txt
[ $want_dev = 1 ] && req=requirements-dev.txt
stamp=".venv/.installed-$(basename "$req" .txt)"
if command -v sha256sum >/dev/null 2>&1; then hasher=(sha256sum); else hasher=(shasum -a 256); fi  # macOS: shasum
digest=$(cat requirements.txt requirements-dev.txt | "${hasher[@]}" | cut -d' ' -f1)
current() { [ -f "$1" ] && [ "$(cat "$1")" = "$digest" ]; }
# the test set includes the studio's: a .venv the tests set up also launches the studio without a reinstall
if ! current "$stamp" && ! current .venv/.installed-requirements-dev; then
  echo "setup: installing Python packages from $req (first time: about 2 minutes)"
  .venv/bin/python -m pip install --disable-pip-version-check -q -r "$req" 2> >(grep -v "is ignored: it is neither" >&2)
  echo "$digest" > "$stamp"
fi
