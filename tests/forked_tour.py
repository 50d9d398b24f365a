"""`python -m lessons tour ARGS` with its lessons forked by the suite's fork server (conftest_tour starts it so): the
tour's own code, each lesson a real process of its own, without the ~5 s torch import each (forkserver.py).
`python -m lessons run 18` and CI's Chinese pass run lessons from a new interpreter, as a learner does."""
import runpy
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent / "lessons")]
import conftest  # noqa: E402
from cli import tour  # noqa: E402

tour.Popen = conftest.popen
sys.argv[0] = "lessons"
runpy.run_module("lessons", run_name="__main__", alter_sys=True)
