#!/usr/bin/env bash
# Creates (or refreshes) the Python venv for trainer/ at .twinflow/venv.
# Idempotent: the install is skipped while a stamp matching the hash of trainer/pyproject.toml exists.
# First run on a fresh machine: ~6 GB / several minutes (torch from PyPI pulls the CUDA libraries).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.twinflow/venv"
PYPROJECT="$ROOT/trainer/pyproject.toml"
PYTHON="${TWINFLOW_PYTHON:-python3}"

log() { echo "[setup-python] $*" >&2; }

if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  log "error: $PYTHON must be Python >= 3.11 (set TWINFLOW_PYTHON to another interpreter)"
  exit 1
fi

# A venv whose interpreter no longer runs (moved or deleted base Python) is rebuilt.
if [ -e "$VENV" ] && ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
  log "venv at $VENV is broken; recreating"
  rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
  log "creating venv at $VENV with $("$PYTHON" --version 2>&1)"
  mkdir -p "$(dirname "$VENV")"
  "$PYTHON" -m venv "$VENV"
fi

HASH="$(sha256sum "$PYPROJECT" | cut -c1-16)"
STAMP="$VENV/.twinflow-installed-$HASH"
# The editable install points at this checkout's trainer/; a venv copied from elsewhere must reinstall.
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$ROOT/trainer" ]; then
  log "up to date (stamp $HASH)"
else
  log "installing trainer[test] into $VENV (first run downloads torch + CUDA libs, ~6 GB; this takes minutes)"
  start=$(date +%s)
  "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar on -e "$ROOT/trainer[test]"
  rm -f "$VENV"/.twinflow-installed-*
  printf '%s' "$ROOT/trainer" > "$STAMP"
  log "done in $(( $(date +%s) - start ))s (stamp $HASH)"
fi

# The example service that starts workflows from Python (examples/services/python: the temporalio SDK), run by the
# test suite; its own stamp, so a change to its requirements reinstalls only it.
SERVICES_REQ="$ROOT/examples/services/python/requirements.txt"
if [ -f "$SERVICES_REQ" ]; then
  SERVICES_STAMP="$VENV/.twinflow-services-$(sha256sum "$SERVICES_REQ" | cut -c1-16)"
  if [ ! -f "$SERVICES_STAMP" ]; then
    log "installing the example services' requirements ($(grep -v '^#' "$SERVICES_REQ" | xargs))"
    "$VENV/bin/python" -m pip install --disable-pip-version-check --quiet -r "$SERVICES_REQ"
    rm -f "$VENV"/.twinflow-services-*
    touch "$SERVICES_STAMP"
  fi
fi
