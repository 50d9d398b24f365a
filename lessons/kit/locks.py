"""One process at a time in a folder: an operating-system lock on <folder>/.lock, gone with its process however it ends.

    with locks.hold(ckpt_dir):                                # a second run is refused in one line
    with locks.hold(data_root, N_("data folder"), wait=True):  # a second download waits for the first
"""
import contextlib
import os
import sys
import time
from pathlib import Path

from kit.errors import LessonError, shown
from kit.i18n import N_, _

if sys.platform == "win32":
    import msvcrt

    def _lock(f, unlock=False):  # msvcrt locks bytes others cannot read: one far past the process id
        f.seek(1 << 20)
        msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK if unlock else msvcrt.LK_NBLCK, 1)
else:
    import fcntl

    def _lock(f, unlock=False):
        fcntl.flock(f.fileno(), fcntl.LOCK_UN if unlock else fcntl.LOCK_EX | fcntl.LOCK_NB)


def _try_lock(f):
    with contextlib.suppress(OSError):
        return _lock(f) or True
    return False


def owner(path):
    """The process id written in a lock file (to name its owner in a refusal or a takeover note), or None."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(Path(path).read_text().split()[0])


@contextlib.contextmanager
def hold(folder, what=N_("checkpoint folder"), *, wait=False):  # what: N_("data folder") ...
    """Hold <folder>/.lock during the block; refuse (or, with wait=True, wait) while another process has it."""
    folder, announced = Path(folder), False
    path = folder / ".lock"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        f = open(path, "a+")
    except OSError as e:
        raise LessonError(_("cannot use {folder} as a {what}: {why}").format(
            folder=shown(folder), what=_(what), why=_(e.strerror) or e)) from None
    with f:
        while not _try_lock(f):
            pid = owner(path) or "?"
            if not wait:
                raise LessonError(_("{folder} is in use by another run (process {pid}): wait for it to finish, "
                                    "or choose another {what}").format(folder=shown(folder), pid=pid, what=_(what)))
            if not announced:
                print(_("waiting for process {pid}, which is using the {what} {folder} ...").format(
                    pid=pid, what=_(what), folder=shown(folder)), flush=True)
                announced = True
            time.sleep(0.5)
        if (stale := owner(path)) and stale != os.getpid():
            print(_("note: took over the lock of process {pid} in {folder} (it is no longer running)").format(
                pid=stale, folder=shown(folder)))
        _write(f, f"{os.getpid()}\n")
        try:
            yield path
        finally:
            _write(f, "")  # an empty file: the next run finds no owner to report
            _lock(f, unlock=True)


def _write(f, text):
    f.truncate(0)  # "a+": every write goes to the end, here the start
    print(text, end="", file=f, flush=True)
