#!/usr/bin/env bash
# Set up rnnviz on a fresh Debian/Ubuntu machine: the system libraries Qt needs, a virtual
# environment in .venv, and the project installed in it with its test tools.
#   bash scripts/setup.sh            # what the tests and offscreen rendering need
#   bash scripts/setup.sh --window   # also what a real window needs (Qt's xcb plugin)
# The package lists were found by ldd on PySide6's Qt libraries and plugins, on a fresh image.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libgl1 libegl1 libfontconfig1 libxkbcommon0 libglib2.0-0 libdbus-1-3 fonts-dejavu-core)
if [[ "${1:-}" == "--window" ]]; then
  packages+=(libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-randr0
             libxcb-render-util0 libxcb-shape0 libxcb-xfixes0 libxcb-xkb1 libxkbcommon-x11-0
             libx11-xcb1)
fi

missing=()
if command -v dpkg-query >/dev/null; then
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
fi
if (( ${#missing[@]} )); then
  if [[ $(id -u) == 0 ]]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "rnnviz needs these system packages; please run:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "rnnviz needs Python 3.11 or newer; python3 is $(python3 --version)" >&2; exit 1; }
[[ -x .venv/bin/python ]] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
echo "rnnviz is set up in .venv" >&2
