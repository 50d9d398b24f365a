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
import atexit
import contextlib
import importlib
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# the suite reads the English output on any system; tests/test_i18n.py checks the languages themselves
os.environ["LESSONS_LANG"] = "en"
# for Python processes a test starts itself (`python -c ...`), the same path as pytest.ini's
PATH = os.environ.get("PYTHONPATH", "")
CHILD_ENV = dict(os.environ, PYTHONPATH=PATH if PATH.startswith(str(REPO / "lessons")) else
                 os.pathsep.join([str(REPO / "lessons"), PATH]))
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


def popen(args, **kw):
    """subprocess.Popen(args, **kw); a `python ...` is forked by tests/forkserver.py, with torch imported already,
    unless what it is given needs a new interpreter: another PYTHONPATH, a locale that is not UTF-8, preexec_fn."""
    env = kw.get("env") or os.environ
    fresh = {k for k in {*env, *CHILD_ENV} if env.get(k) != CHILD_ENV.get(k)
             and (re.match(r"PYTHON(?!IOENCODING|UNBUFFERED)|CUDA_|TORCH_|MKL_", k)
                  or re.match(r"LANG$|LC_", k) and env.get(k) and not re.search(r"utf-?8", env[k], re.I))}
    if args[0] != sys.executable or args[1] == "-m" or fresh or set(kw) - Forked.TAKES:
        return subprocess.Popen(args, **kw)
    return Forked(args, **kw)


class Forked:
    """The part of subprocess.Popen the suite uses, for a process tests/forkserver.py forked: pid, returncode,
    poll(), wait(), send_signal(), kill(), communicate(), and stdin/stdout/stderr as PIPE, DEVNULL, STDOUT or files."""
    TAKES = {"stdin", "stdout", "stderr", "env", "cwd", "text", "encoding", "errors", "start_new_session", "close_fds"}
    server, socket_path = None, os.environ.get("FORKSERVER")  # set: the server of the pytest that started us

    def __init__(self, args, stdin=None, stdout=None, stderr=None, env=None, cwd=None, text=False, encoding=None,
                 errors=None, start_new_session=False, close_fds=True):
        self.args, self.returncode, self.ended = args, None, threading.Event()
        fds, theirs, pipes = [], [], {}
        for i, spec in enumerate((stdin, stdout, stderr)):
            if spec in (subprocess.PIPE, subprocess.DEVNULL):
                r, w = os.pipe() if spec == subprocess.PIPE else (os.open(os.devnull, os.O_RDWR),) * 2
                fds.append(r if i == 0 else w)
                theirs.append(fds[-1])
                if spec == subprocess.PIPE:
                    pipes[i] = w if i == 0 else r
            else:
                fds.append(fds[1] if spec == subprocess.STDOUT else i if spec is None else
                           spec if isinstance(spec, int) else spec.fileno())
        wrap = {"encoding": encoding or "utf-8", "errors": errors or "strict"} if text or encoding or errors else {}
        self.stdin, self.stdout, self.stderr = (
            None if i not in pipes else open(pipes[i], "w" if i == 0 else "r", **wrap) if wrap else
            open(pipes[i], "wb" if i == 0 else "rb", buffering=0) for i in range(3))
        body = json.dumps({"argv": args[1:], "env": dict(env or os.environ), "cwd": str(cwd or os.getcwd()),
                           "new_session": start_new_session}).encode()
        self.conn = socket.socket(socket.AF_UNIX)
        self.conn.connect(self.start_server())
        socket.send_fds(self.conn, [b"%08d" % len(body)], fds)
        self.conn.sendall(body)
        for fd in set(theirs):
            os.close(fd)
        reply = self.conn.makefile()
        self.pid = int(reply.readline())
        threading.Thread(target=self._wait_for_exit, args=(reply,), daemon=True).start()

    @classmethod
    def start_server(cls):
        if cls.socket_path is None:
            folder = tempfile.mkdtemp()
            cls.socket_path = os.path.join(folder, "fork.sock")
            cls.server = subprocess.Popen([sys.executable, str(REPO / "tests" / "forkserver.py"), cls.socket_path],
                                          env=CHILD_ENV, start_new_session=True)
            atexit.register(shutil.rmtree, folder, True)
            atexit.register(cls.server.kill)
        while not os.path.exists(cls.socket_path):  # its imports take a few seconds, once
            assert cls.server is None or cls.server.poll() is None, "tests/forkserver.py did not start"
            time.sleep(0.05)
        return cls.socket_path

    def _wait_for_exit(self, reply):
        self.returncode = int(reply.readline())
        self.conn.close()
        self.ended.set()

    def poll(self):
        return self.returncode

    def wait(self, timeout=None):
        if not self.ended.wait(timeout):
            raise subprocess.TimeoutExpired(self.args, timeout)
        return self.returncode

    def send_signal(self, sig):
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def terminate(self):
        self.send_signal(signal.SIGTERM)

    def communicate(self, input=None, timeout=None):
        """As Popen.communicate: writes `input` to stdin (if PIPE), reads stdout and stderr (if PIPE), waits."""
        if self.stdin:
            with contextlib.suppress(BrokenPipeError):
                if input:
                    self.stdin.write(input)
                self.stdin.close()
        read = {}
        readers = [threading.Thread(target=lambda i=i, f=f: read.update({i: f.read()}), daemon=True)
                   for i, f in ((1, self.stdout), (2, self.stderr)) if f and not f.closed]
        for t in readers:
            t.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        for t in readers:
            t.join(None if deadline is None else max(0, deadline - time.monotonic()))
            if t.is_alive():
                raise subprocess.TimeoutExpired(self.args, timeout)
        self.wait(None if deadline is None else max(0, deadline - time.monotonic()))
        return read.get(1), read.get(2)


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
