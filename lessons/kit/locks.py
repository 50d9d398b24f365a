"""One process at a time in a folder: a checkpoint folder while a run trains into it, a data folder
while CIFAR-10 downloads into it.

    with locks.hold(ckpt_dir, "checkpoint folder"):          # a second run is refused in one line
        ...
    with locks.hold(data_root, "data folder", wait=True):   # a second download waits for the first
        ...

The lock is an operating-system lock on <folder>/.lock (flock on Linux and macOS, msvcrt on Windows),
so it goes away with its process, however that process ends: a lock file left by a killed run is
taken over with a one-line note. The file holds the owner's process id, to name it in the refusal.
"""
import contextlib
import os
import sys
import time
from pathlib import Path

from kit.common import LessonError

if sys.platform == "win32":
    import msvcrt

    # msvcrt locks bytes from the current position; other processes cannot read locked bytes, so lock one
    # far past the process id, which a refused run reads to name the owner
    LOCK_BYTE = 1 << 20

    def _try_lock(f):
        f.seek(LOCK_BYTE)
        try:
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(f):
        f.seek(LOCK_BYTE)
        msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(f):
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False

    def _unlock(f):
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def owner(path):
    """The process id written in a lock file, or None."""
    try:
        return int(Path(path).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


@contextlib.contextmanager
def hold(folder, what="folder", *, wait=False, poll=0.5):
    """Hold <folder>/.lock for the duration of the block; refuse (or, with wait=True, wait) while another has it."""
    folder = Path(folder)
    path = folder / ".lock"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        f = open(path, "a+")
    except OSError as e:
        raise LessonError(f"cannot use {folder} as a {what}: {e.strerror or e}") from None
    try:
        announced = False
        while not _try_lock(f):
            pid = owner(path)
            if not wait:
                raise LessonError(f"{folder} is in use by another run (process {pid or '?'}): wait for it to "
                                  f"finish, or choose another {what}")
            if not announced:
                print(f"waiting for process {pid or '?'}, which is using the {what} {folder} ...", flush=True)
                announced = True
            time.sleep(poll)
        stale = owner(path)
        if stale and stale != os.getpid():
            print(f"note: took over the lock of process {stale} in {folder} (it is no longer running)")
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        try:
            yield path
        finally:
            f.seek(0)
            f.truncate()  # an empty file: the next run finds no owner to report
            f.flush()
            _unlock(f)
    finally:
        f.close()
