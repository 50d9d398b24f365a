"""Shared by test_tour.py, test_tensorboard_server.py and test_readme.py: one quick tour per session (the
`tour` fixture: .returncode, .output, .logdir, .seconds) and the flags a lesson's --help lists.

The tour runs as a learner runs it (`python -m lessons tour --quick`), its lessons forked (forked_tour.py), on
synthetic data and the CPU, into a temporary folder (.logdir: the tour's own, logs/tour/<time>/); once, in the
background from the end of collection.
TOUR_LOGDIR=<such a folder> skips it while working on the TensorBoard tests (test_tour.py's tour test fails).
"""
import atexit
import contextlib
import importlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import namedtuple
from pathlib import Path

import pytest

from conftest import CHILD_ENV, REPO, Forked


def help_flags(script):
    """The flags `python lessons/<script> --help` lists."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        importlib.import_module(script.removesuffix(".py")).main(["--help"])
    return set(re.findall(r"--[\w-]+", out.getvalue().split("\n\n")[0]))  # the usage lines, not the docstring


Tour = namedtuple("Tour", "returncode output logdir seconds")
_started = {}


def start():
    """Start the tour in the background (conftest.py does, once collection shows a test that needs it): it takes
    about 50 s on 2 cores, which the rest of the suite, often waiting on a process, can share."""
    if _started or os.environ.get("TOUR_LOGDIR"):
        return
    root = Path(tempfile.mkdtemp(prefix="tour-"))
    atexit.register(shutil.rmtree, root, True)
    output = open(root / "output.txt", "w+", encoding="utf-8", errors="replace")
    forked = hasattr(os, "fork")  # Windows: a plain `python -m lessons tour`
    tour = [str(REPO / "tests" / "forked_tour.py")] if forked else ["-m", "lessons"]
    env = dict(CHILD_ENV, FORKSERVER=Forked.start_server()) if forked else CHILD_ENV
    proc = subprocess.Popen([sys.executable, *tour, "tour", "--quick", "--dataset", "synthetic", "--device", "cpu",
                             "--logdir", str(root / "logs"), "--checkpoint-dir", str(root / "checkpoints")],
                            cwd=REPO, stdout=output, stderr=subprocess.STDOUT, env=env)
    atexit.register(proc.kill)
    _started.update(proc=proc, root=root, output=output, t0=time.perf_counter())


@pytest.fixture(scope="session")
def tour():
    if os.environ.get("TOUR_LOGDIR"):
        return Tour(0, "", Path(os.environ["TOUR_LOGDIR"]), 0.0)
    start()
    if "tour" not in _started:
        code = _started["proc"].wait(timeout=900)
        _started["output"].seek(0)
        root = _started["root"]
        logdir = next((root / "logs" / "tour").glob("*"), root / "logs")  # the tour's own folder
        _started["tour"] = Tour(code, _started["output"].read(), logdir, time.perf_counter() - _started["t0"])
        print(f"\nquick tour: {_started['tour'].seconds:.0f} s, exit {code}")  # shown with pytest -s
    return _started["tour"]
