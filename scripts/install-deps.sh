#!/usr/bin/env bash
# Installs the npm dependencies exactly as locked, once: skipped while package-lock.json is unchanged.
# Install scripts stay off (.npmrc): nothing twinflow uses needs them (native modules ship prebuilt binaries).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
stamp="node_modules/.twinflow-lock-hash"
hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then exit 0; fi
echo "==> installing npm dependencies (locked versions)"
# `npm install` rather than `npm ci`: both install the locked versions, but `npm ci` refuses a lock file that lacks
# optional per-platform packages the registry in use does not serve (LanceDB's darwin/win32/arm64 builds on a
# mirror that carries only linux-x64), while `npm install` skips them as the optional packages they are.
npm install --ignore-scripts --no-audit --no-fund --loglevel=error
echo "$hash" > "$stamp"
