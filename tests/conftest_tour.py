"""One quick tour of every lesson per test session, shared by test_tour.py and test_tensorboard_server.py.

    from conftest_tour import tour    # the fixture; tour.returncode, tour.output, tour.logdir, ...

The tour runs exactly as a learner runs it (`python -m lessons tour --quick` from the repo root, each
lesson its own process), on synthetic data and the CPU, with logs and checkpoints in a temporary folder.
It runs once even though two test modules import the fixture: the result is cached here.
While working on the TensorBoard tests, TOUR_LOGDIR=<logs of an earlier tour> skips the tour (its
output is then empty, so test_tour.py's tour tests fail: never set it in CI).
"""
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Tour:
    returncode: int
    output: str
    logdir: Path
    checkpoint_dir: Path
    seconds: float


_done = {}


@pytest.fixture(scope="session")
def tour(tmp_path_factory):
    if "tour" not in _done and os.environ.get("TOUR_LOGDIR"):
        _done["tour"] = Tour(0, "", Path(os.environ["TOUR_LOGDIR"]), Path(os.environ["TOUR_LOGDIR"]), 0.0)
    if "tour" not in _done:
        root = tmp_path_factory.mktemp("tour")
        logdir, checkpoint_dir = root / "logs", root / "checkpoints"
        cmd = [sys.executable, "-m", "lessons", "tour", "--quick", "--dataset", "synthetic", "--device", "cpu",
               "--logdir", str(logdir), "--checkpoint-dir", str(checkpoint_dir)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              encoding="utf-8", errors="replace", timeout=900)
        _done["tour"] = Tour(proc.returncode, proc.stdout, logdir, checkpoint_dir, time.perf_counter() - t0)
        print(f"\nquick tour: {_done['tour'].seconds:.0f} s, exit {proc.returncode}")  # shown with pytest -s
    return _done["tour"]
