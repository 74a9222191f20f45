"""The trainer stops when the worker that started it dies (kill -9), instead of training on beside the next attempt."""

import os
import signal
import subprocess
import sys
import textwrap
import time


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) counts as gone.
    with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def test_trainer_exits_when_its_parent_is_killed(tmp_path):
    pid_file = tmp_path / "child.pid"
    # A stand-in for the worker: starts a process that runs the trainer's parent watch, then waits.
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import subprocess, sys, time
                child = subprocess.Popen([sys.executable, "-c", "import time; from twinflow_trainer.cli import _exit_with_parent; _exit_with_parent(); time.sleep(120)"], start_new_session=True)
                open({str(pid_file)!r}, "w").write(str(child.pid))
                time.sleep(120)
                """
            ),
        ]
    )
    deadline = time.time() + 30
    while not pid_file.exists() or not pid_file.read_text():
        assert time.time() < deadline, "the stand-in worker did not start its child"
        time.sleep(0.1)
    child = int(pid_file.read_text())
    time.sleep(1.5)
    assert _alive(child), "the trainer must run while its parent lives"
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.time() + 10
    while _alive(child):
        assert time.time() < deadline, "the trainer outlived its killed parent by more than 10 s"
        time.sleep(0.2)
