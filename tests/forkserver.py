"""The suite's fork server: one Python that has imported torch, torchvision and TensorBoard forks a new process
for each `python lessons/<name>.py ...` that run_lesson.process starts, instead of paying their ~5 s import
every time (about 40 processes: 3 minutes of the suite on 2 cores).

Each child is a real process (its own pid, signals, exit code, stdin, stdout and stderr) that runs the script as
`__main__` with the test's argv, environment and folder, and sets up what Python sets up at start-up (sys.path[0],
stdio, PYTHONIOENCODING, the locale, OMP_NUM_THREADS) as `python script.py` does. What only a new interpreter can
honour (another PYTHONPATH, a locale that is not UTF-8) makes conftest start a plain `python`: see conftest.popen.

    python tests/forkserver.py SOCKET    # conftest starts it; a request: JSON {argv, env, cwd, new_session}, fds 0-2
"""
import contextlib
import json
import locale
import os
import runpy
import signal
import socket
import sys
import threading
import types

import torch  # noqa: F401  (what every lesson imports first: the reason this server exists)
import torchvision  # noqa: F401
from torch.utils.tensorboard import SummaryWriter  # noqa: F401


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
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    encoding, _, errors = os.environ.get("PYTHONIOENCODING", "").partition(":")
    unbuffered = bool(os.environ.get("PYTHONUNBUFFERED"))
    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        stream = getattr(sys, "__" + name + "__")
        new = open(fd, "w" if fd else "r", closefd=False, encoding=encoding or stream.encoding,
                   errors=(errors or stream.errors) if fd < 2 else "backslashreplace", **({"newline": "\n"} if fd else {}))
        new.reconfigure(line_buffering=fd == 2 or (fd == 1 and os.isatty(1)), write_through=bool(fd) and unbuffered)
        setattr(sys, name, new)
        setattr(sys, "__" + name + "__", new)
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
        if isinstance(e, KeyboardInterrupt):
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
        raise SystemExit(1) from None
    raise SystemExit(0)


def reap(pid, conn):
    _, status = os.waitpid(pid, 0)
    with conn:
        conn.sendall(f"{os.waitstatus_to_exitcode(status)}\n".encode())


def receive(conn):
    """A request: 8 digits giving the JSON's length, with the child's fds 0, 1 and 2 attached; then the JSON."""
    head, fds, _flags, _addr = socket.recv_fds(conn, 8, 3)
    while len(head) < 8:
        head += conn.recv(8 - len(head))
    body = b""
    while len(body) < int(head):
        body += conn.recv(int(head) - len(body))
    return json.loads(body), fds


def serve(path):
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


if __name__ == "__main__":
    serve(sys.argv[1])
