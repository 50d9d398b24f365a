"""Shared by test_tour.py, test_tensorboard_server.py and test_readme.py: one quick tour per session (the
`tour` fixture: .returncode, .output, .logdir, .seconds) and the flags a lesson's --help lists.

The tour runs as a learner runs it (`python -m lessons tour --quick`), on synthetic data and the CPU, into a
temporary folder (.logdir: the tour's own, logs/tour/<time>/); once, though two modules import the fixture.
TOUR_LOGDIR=<such a folder> skips it while working on the TensorBoard tests (test_tour.py's tour test fails).
"""
import contextlib
import importlib
import io
import os
import re
import subprocess
import sys
import time
from collections import namedtuple
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def help_flags(script):
    """The flags `python lessons/<script> --help` lists."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        importlib.import_module(script.removesuffix(".py")).main(["--help"])
    return set(re.findall(r"--[\w-]+", out.getvalue().split("\n\n")[0]))  # the usage lines, not the docstring


Tour = namedtuple("Tour", "returncode output logdir seconds")
_done = {}


@pytest.fixture(scope="session")
def tour(tmp_path_factory):
    if "tour" not in _done and os.environ.get("TOUR_LOGDIR"):
        _done["tour"] = Tour(0, "", Path(os.environ["TOUR_LOGDIR"]), 0.0)
    if "tour" not in _done:
        root, t0 = tmp_path_factory.mktemp("tour"), time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "lessons", "tour", "--quick", "--dataset", "synthetic",
                               "--device", "cpu", "--logdir", str(root / "logs"), "--checkpoint-dir",
                               str(root / "checkpoints")], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              encoding="utf-8", errors="replace", timeout=900)
        logdir = next((root / "logs" / "tour").glob("*"), root / "logs")  # the tour's own folder
        _done["tour"] = Tour(proc.returncode, proc.stdout, logdir, time.perf_counter() - t0)
        print(f"\nquick tour: {_done['tour'].seconds:.0f} s, exit {proc.returncode}")  # shown with pytest -s
    return _done["tour"]
