"""What every test shares: running a lesson, and reading what it wrote for TensorBoard.

    def test_x(run_lesson):
        r = run_lesson("p18_nn_conv2d", "--steps", "2")       # main() in this process: quick, synthetic, logs in tmp
        r = run_lesson.process("p18_nn_conv2d", "--quick")    # a real `python lessons/p18_nn_conv2d.py ...`
        r.code, r.out, r.err, r.runs                          # exit code, printed text, run folders (oldest first)
        r.number("整体测试集上的正确率")                         # the numbers printed after a label, as floats

    board = events(r.runs[-1])                                # one run's event files
    board.tags("scalars"), board.scalars("loss"), board.images("input"), board.texts("x"), board.histograms("y")

pytest.ini puts lessons/ on the path, so tests import the lessons and their helpers as the lessons
themselves do: `import p27_train`, `from kit import checkpoint`.
"""
import contextlib
import importlib
import io
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# the suite reads the English output on any system; tests/test_i18n.py checks the languages themselves
os.environ["LESSONS_LANG"] = "en"
from forkserver import CHILD_ENV, REPO, Forked, popen  # noqa: E402, F401  (tests import them from here)
NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


@dataclass
class Result:
    code: int
    out: str
    err: str = ""
    runs: list = field(default_factory=list)

    def numbers(self, label):
        """Every number printed after `label` on a line, in order: numbers("训练次数") -> [10.0, 20.0, ...]."""
        return [float(m.group(1)) for m in re.finditer(re.escape(label) + rf"\D*?({NUMBER})", self.out)]

    def number(self, label):
        """The last number printed after `label`."""
        found = self.numbers(label)
        assert found, f"nothing printed after {label!r} in:\n{self.out}"
        return found[-1]

    def lines(self, start):
        return [line for line in self.out.splitlines() if line.startswith(start)]


class LessonRunner:
    """run_lesson(name, *flags): the lesson's main() here; run_lesson.process(name, *flags): a real process.
    Both add --logdir in tmp; main() also --quick and --dataset synthetic unless quick=False / dataset=None."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.logdir = tmp_path / "logs"

    def _argv(self, name, flags, quick, dataset):
        argv = ["--logdir", str(self.logdir), *flags]
        if quick:
            argv.append("--quick")
        if dataset:
            argv += ["--dataset", dataset]
        return argv

    def runs(self, name):
        return sorted((p for p in (self.logdir / name).glob("*") if p.is_dir()), key=lambda p: p.stat().st_mtime_ns)

    def __call__(self, name, *flags, quick=True, dataset="synthetic", expect=0):
        module = importlib.import_module(name)
        argv = self._argv(name, flags, quick, dataset)
        out, err = io.StringIO(), io.StringIO()  # not a terminal: progress bars print plain lines
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = module.main(argv) or 0
            except SystemExit as e:  # argparse, or a lesson's own exit code
                code = e.code if isinstance(e.code, int) else 1
                if not isinstance(e.code, int) and e.code is not None:
                    err.write(str(e.code))
        result = Result(code, out.getvalue(), err.getvalue(), self.runs(name))
        if expect is not None:
            assert result.code == expect, f"exit {result.code}\n{result.out}\n{result.err}"
        return result

    def process(self, name, *flags, env=None, cwd=None, timeout=300, logdir=True, **kw):
        """A real `python lessons/<name>.py ...` (no --quick or --dataset added): what a learner sees in a shell."""
        cmd = [sys.executable, str(REPO / "lessons" / f"{name}.py"), *flags] + ["--logdir", str(self.logdir)] * logdir
        proc = popen(cmd, cwd=cwd or self.tmp, env=dict(CHILD_ENV, **(env or {})), stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace", **kw)
        try:
            out, err = proc.communicate(timeout=timeout)
        finally:
            proc.kill()
        return Result(proc.returncode, out, err, self.runs(name))


def pytest_collection_modifyitems(items):
    if any("tour" in item.fixturenames for item in items):  # the quick tour: started now, in the background
        import conftest_tour
        conftest_tour.start()


@pytest.fixture
def run_lesson(tmp_path):
    return LessonRunner(tmp_path)


def one_line_error(result, code=1):
    """A failure as a learner must see it: the exit code, one line on stderr, no traceback."""
    assert result.code == code, f"exit {result.code}\n{result.out}\n{result.err}"
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.err, result.err
    return lines[0]


class Events:
    """A run folder's TensorBoard event files, read back as TensorBoard reads them."""

    def __init__(self, run_dir):
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

        self.acc = EventAccumulator(str(run_dir), size_guidance={"images": 0, "scalars": 0, "histograms": 0,
                                                                 "tensors": 0})
        self.acc.Reload()

    def tags(self, kind=None):
        tags = self.acc.Tags()
        return tags[kind] if kind else tags

    def scalars(self, tag):
        """[(step, value), ...]"""
        return [(e.step, e.value) for e in self.acc.Scalars(tag)]

    def images(self, tag):
        """[(step, width, height, png bytes), ...]"""
        return [(e.step, e.width, e.height, e.encoded_image_string) for e in self.acc.Images(tag)]

    def histograms(self, tag):
        return [(e.step, e.histogram_value) for e in self.acc.Histograms(tag)]

    def texts(self, tag):
        """[(step, text), ...] of a TEXT card."""
        return [(e.step, e.tensor_proto.string_val[0].decode("utf-8")) for e in self.acc.Tensors(tag)]

    def summary_tags(self):
        """Every summary tag in the raw files, the HPARAMS plugin's included."""
        from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

        return {v.tag for f in Path(self.acc.path).glob("events.out.tfevents.*")
                for e in EventFileLoader(str(f)).Load() for v in e.summary.value}


def events(run_dir):
    return Events(run_dir)
