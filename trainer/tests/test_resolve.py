"""Every install set of the trainer resolves without a conflict, and its committed lock file is current.

uv resolves the base install, the qlora extra and the two GPU venvs (unsloth, vllm) against the package index, for
the target in requirements/lock-settings.env (with a fixed --exclude-newer date, so the answer does not drift as new
releases appear), starting from the committed lock as lock.sh does. A pin that conflicts with another fails here with uv's explanation; a pin changed without
re-running trainer/scripts/lock.sh fails with the diff. The four resolutions run in parallel and take about 15 s with
a warm uv cache (30-60 s cold); the index must be reachable.
"""

from __future__ import annotations

import difflib
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

TRAINER = Path(__file__).resolve().parent.parent
REQ = TRAINER / "requirements"
SETS = {
    "base": ["pyproject.toml", "--extra", "test"],
    "qlora": ["pyproject.toml", "--extra", "test", "--extra", "qlora"],
    "unsloth": ["requirements/unsloth.in"],
    "vllm": ["requirements/vllm.in"],
}


def _settings() -> dict[str, str]:
    out = {}
    for line in (REQ / "lock-settings.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def _uv() -> str:
    here = Path(sys.executable).parent / "uv"
    found = str(here) if here.exists() else shutil.which("uv")
    if not found:
        pytest.fail("uv is not installed: it comes with the trainer's test extra (pip install -e 'trainer[test]')")
    return found


def _compile(name: str, out: Path) -> subprocess.CompletedProcess[str]:
    # Resolved the way lock.sh writes the lock: uv keeps the pins of an existing output file where they still fit, so
    # the committed lock is the starting point. A fresh resolve would pick up every release the index has learned of
    # since (the mirror here lists some with upload dates before EXCLUDE_NEWER), a drift that says nothing about a pin.
    shutil.copyfile(REQ / f"{name}.lock.txt", out)
    s = _settings()
    cmd = [_uv(), "pip", "compile", *SETS[name], "--python-version", s["PYTHON_VERSION"], "--python-platform", s["PYTHON_PLATFORM"],
           "--exclude-newer", s["EXCLUDE_NEWER"], "--quiet", "--no-header", "--no-annotate", "-o", str(out)]
    return subprocess.run(cmd, cwd=TRAINER, capture_output=True, text=True, timeout=240)


@pytest.mark.resolve
def test_each_install_set_resolves_and_matches_its_lock(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=len(SETS)) as pool:
        results = dict(zip(SETS, pool.map(lambda n: _compile(n, tmp_path / f"{n}.txt"), SETS)))
    problems = []
    for name, res in results.items():
        if res.returncode != 0:
            problems.append(f"{name}: does not resolve:\n{res.stderr.strip()}")
            continue
        fresh = (tmp_path / f"{name}.txt").read_text().splitlines()
        locked = (REQ / f"{name}.lock.txt").read_text().splitlines()
        if fresh != locked:
            diff = "\n".join(difflib.unified_diff(locked, fresh, f"{name}.lock.txt", "resolved now", lineterm="", n=0))
            problems.append(f"{name}: the lock is stale (run trainer/scripts/lock.sh):\n{diff}")
    assert not problems, "\n\n".join(problems)


def test_the_base_lock_holds_the_pyproject_pins() -> None:
    import tomllib

    pins = tomllib.loads((TRAINER / "pyproject.toml").read_text())["project"]["dependencies"]
    locked = set((REQ / "base.lock.txt").read_text().lower().splitlines())
    missing = [p for p in pins if p.lower().replace("_", "-") not in locked]
    assert not missing, f"pinned in pyproject.toml but not in base.lock.txt: {missing} (run trainer/scripts/lock.sh)"


def test_the_gpu_venvs_torch_differs_from_the_base_which_is_why_they_are_separate() -> None:
    def torch_of(name: str) -> str:
        return next(line for line in (REQ / f"{name}.lock.txt").read_text().splitlines() if line.startswith("torch=="))

    assert torch_of("base") == torch_of("qlora")  # qlora shares the base venv
    assert torch_of("vllm") != torch_of("base")
