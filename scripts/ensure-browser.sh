#!/usr/bin/env bash
# The Web UI test drives a real Chromium. Use the one at $CHROMIUM_PATH (default /usr/bin/chromium); where it is
# missing, install Debian's package when this shell may (root with apt-get), else stop with one line saying what to do.
set -euo pipefail
browser="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$browser" ] && exit 0
if [ -z "${CHROMIUM_PATH:-}" ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "==> installing Chromium (Debian's package) for the Web UI test"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  [ -x "$browser" ] && exit 0
fi
echo "twinflow: the Web UI test needs Chromium at $browser: install it (sudo apt-get install chromium, or your system's package) or set CHROMIUM_PATH to a Chromium binary" >&2
exit 1
