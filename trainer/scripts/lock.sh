#!/usr/bin/env bash
# Writes the trainer's lock files (trainer/requirements/*.lock.txt) with uv: the base install, the qlora extra, and
# the two GPU venvs whose pins disagree with the base (unsloth, vllm). Resolution is for Linux x86_64, Python 3.11,
# with packages published before EXCLUDE_NEWER only, so the same inputs give the same lock on any day;
# trainer/tests/test_resolve.py re-resolves each set the same way and fails when a pin conflicts or a lock is stale.
#   trainer/scripts/lock.sh            # rewrite the locks (after changing a pin; move EXCLUDE_NEWER forward too)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
UV="${UV:-$ROOT/.twinflow/venv/bin/uv}"
cd "$ROOT/trainer"
# shellcheck source=/dev/null
. requirements/lock-settings.env
common=(--python-version "$PYTHON_VERSION" --python-platform "$PYTHON_PLATFORM" --exclude-newer "$EXCLUDE_NEWER" --quiet --no-header --no-annotate)
"$UV" pip compile pyproject.toml --extra test "${common[@]}" -o requirements/base.lock.txt
"$UV" pip compile pyproject.toml --extra test --extra qlora "${common[@]}" -o requirements/qlora.lock.txt
"$UV" pip compile requirements/unsloth.in "${common[@]}" -o requirements/unsloth.lock.txt
"$UV" pip compile requirements/vllm.in "${common[@]}" -o requirements/vllm.lock.txt
echo "locks written to trainer/requirements/"
