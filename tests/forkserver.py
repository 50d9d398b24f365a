"""The python processes the tests start, forked from one that has imported torch, torchvision and TensorBoard:
each lesson process then starts in a fraction of a second, not after a ~5 s import (the suite: 3 minutes, not 5).

    proc = popen([sys.executable, "lessons/p27_train.py", ...], stdout=PIPE, ...)   # as subprocess.Popen

A forked child is a real process (its own pid, signals, exit code, stdin, stdout and stderr) that runs the script
or `-c` code as `__main__` with the test's argv, environment and folder, and first sets up what Python and torch
set up at start-up (sys.path[0], stdio and PYTHONIOENCODING, the locale, OMP_NUM_THREADS). What only a new
interpreter honours (another PYTHONPATH, a locale that is not UTF-8, preexec_fn) gets a plain subprocess.Popen.
The server (`python tests/forkserver.py SOCKET`) starts at the first popen(); a request is JSON {argv, env, cwd,
new_session} with the child's fds 0-2 attached; the answers are its pid, then its exit code.
"""
import atexit
import contextlib
import io
import json
import locale
import os
import re
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import types
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# the environment of the processes a test starts: lessons/ on the path, as pytest.ini puts it for the tests
PATH = os.environ.get("PYTHONPATH", "")
CHILD_ENV = dict(os.environ, PYTHONPATH=PATH if PATH.startswith(str(REPO / "lessons")) else
                 os.pathsep.join([str(REPO / "lessons"), PATH]))


# ---------------------------------------------------------------- the server's side

def child(request, fds):
    """In the new process: become `python argv...` (a script or -c CODE), run it, exit as Python would."""
    if request["new_session"]:
        os.setsid()
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    for fd in set(fds) - {0, 1, 2}:
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # what Python and torch read from the environment as they start
    with contextlib.suppress(locale.Error):
        locale.setlocale(locale.LC_CTYPE, "")
    if os.environ.get("OMP_NUM_THREADS"):
        sys.modules["torch"].set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    encoding, _, errors = os.environ.get("PYTHONIOENCODING", "").partition(":")
    c_locale = locale.setlocale(locale.LC_CTYPE) in ("C", "POSIX", "C.UTF-8", "C.utf8", "UTF-8")
    errors = errors or ("surrogateescape" if c_locale else "strict")
    unbuffered = bool(os.environ.get("PYTHONUNBUFFERED"))
    for fd, name in enumerate(("stdin", "stdout", "stderr")):  # as CPython's create_stdio makes them
        raw = io.FileIO(fd, "w" if fd else "r", closefd=False)
        buffer = raw if fd and unbuffered else io.BufferedWriter(raw) if fd else io.BufferedReader(raw)
        stream = io.TextIOWrapper(buffer, encoding or sys.__stdout__.encoding, errors if fd < 2 else "backslashreplace",
                                  newline=None if fd == 0 else "\n", write_through=bool(fd) and unbuffered,
                                  line_buffering=not unbuffered and (fd == 2 or os.isatty(fd)))
        setattr(sys, name, stream)
        setattr(sys, "__" + name + "__", stream)
    argv = request["argv"]
    try:
        if argv[0] == "-c":
            sys.argv, sys.path[0] = ["-c", *argv[2:]], ""
            main = sys.modules["__main__"] = types.ModuleType("__main__")
            exec(compile(argv[1], "<string>", "exec"), main.__dict__)
        else:
            sys.argv, sys.path[0] = list(argv), os.path.dirname(os.path.abspath(argv[0]))
            runpy.run_path(argv[0], run_name="__main__")
    except SystemExit:
        raise
    except BaseException as e:  # uncaught: what the interpreter does with it
        sys.excepthook(type(e), e, e.__traceback__)
        if isinstance(e, KeyboardInterrupt):  # Python ends as Ctrl-C ends a program, once it has finished
            atexit._run_exitfuncs()
            sys.stdout.flush()
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
        raise SystemExit(1) from None
    raise SystemExit(0)


def reap(pid, conn):
    _, status = os.waitpid(pid, 0)
    with conn:
        conn.sendall(f"{os.waitstatus_to_exitcode(status)}\n".encode())


def receive(conn):
    """A request: its JSON, with the child's fds 0, 1 and 2 attached to the first byte, until the client's EOF."""
    body, fds, _flags, _addr = socket.recv_fds(conn, 1, 3)
    while chunk := conn.recv(65536):
        body += chunk
    return json.loads(body), fds


def serve(path):
    import torch  # noqa: F401  (what every lesson imports first: the reason for the server)
    import torchvision  # noqa: F401
    from torch.utils.tensorboard import SummaryWriter  # noqa: F401

    server = socket.socket(socket.AF_UNIX)
    server.bind(path + ".tmp")
    server.listen(8)
    os.rename(path + ".tmp", path)  # ready: the imports are done
    while True:
        conn, _ = server.accept()
        request, fds = receive(conn)
        pid = os.fork()
        if pid == 0:
            server.close()
            conn.close()
            child(request, fds)  # never returns
        for fd in set(fds):
            os.close(fd)
        conn.sendall(f"{pid}\n".encode())  # then its exit code, when it ends
        threading.Thread(target=reap, args=(pid, conn), daemon=True).start()


# ---------------------------------------------------------------- the tests' side: popen() and its processes

def popen(args, **kw):
    """subprocess.Popen(args, **kw); a `python script|-c ...` is forked by the server, unless what it is given needs a
    new interpreter: another PYTHONPATH, a locale that is not UTF-8, a sitecustomize, preexec_fn..."""
    env = kw.get("env") or os.environ
    fresh = {k for k in {*env, *CHILD_ENV} if env.get(k) != CHILD_ENV.get(k)
             and (re.match(r"PYTHON(?!IOENCODING|UNBUFFERED)|CUDA_|TORCH_|MKL_", k)
                  or re.match(r"LANG$|LC_", k) and env.get(k) and not re.search(r"utf-?8", env[k], re.I))}
    if not hasattr(os, "fork") or args[0] != sys.executable or args[1] == "-m" or fresh or set(kw) - Forked.TAKES:
        return subprocess.Popen(args, **kw)
    return Forked(args, **kw)


class Forked:
    """What the suite uses of subprocess.Popen, for a forked process: pid, returncode, poll(), wait(), send_signal(),
    kill(), communicate(), and stdin, stdout, stderr given as PIPE, DEVNULL, STDOUT, a file or a descriptor."""
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
        socket.send_fds(self.conn, [body[:1]], fds)
        self.conn.sendall(body[1:])
        self.conn.shutdown(socket.SHUT_WR)
        for fd in set(theirs):
            os.close(fd)
        reply = self.conn.makefile()
        self.pid = int(reply.readline())
        threading.Thread(target=self._wait_for_exit, args=(reply,), daemon=True).start()

    @classmethod
    def start_server(cls):
        """The server's socket, starting the server at the first call."""
        if cls.socket_path is None:
            folder = tempfile.mkdtemp()
            cls.socket_path = os.path.join(folder, "fork.sock")
            cls.server = subprocess.Popen([sys.executable, __file__, cls.socket_path], env=CHILD_ENV,
                                          start_new_session=True)
            atexit.register(shutil.rmtree, folder, True)
            atexit.register(cls.server.kill)
        while not os.path.exists(cls.socket_path):  # its imports take a few seconds, once
            assert cls.server is None or cls.server.poll() is None, "tests/forkserver.py did not start"
            time.sleep(0.05)
        return cls.socket_path

    def _wait_for_exit(self, reply):
        self.returncode = int(reply.readline())
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
        deadline = time.monotonic() + (timeout or 1e9)
        for t in readers:
            t.join(max(0, deadline - time.monotonic()))
            if t.is_alive():
                raise subprocess.TimeoutExpired(self.args, timeout)
        self.wait(max(0, deadline - time.monotonic()))
        return read.get(1), read.get(2)


if __name__ == "__main__":
    serve(sys.argv[1])
