"""kit.locks: one process at a time in a folder, against real holder processes (no torch: they start at once)."""
import os
import subprocess
import sys

import pytest

from conftest import CHILD_ENV
from kit import locks
from kit.errors import LessonError

# holds the folder's lock until the test closes its stdin (or kills it)
HOLDER = 'import sys\nfrom kit import locks\nwith locks.hold(sys.argv[1], "checkpoint folder"):\n' \
         '    print("holding", flush=True)\n    sys.stdin.read()\n'



@pytest.fixture
def holder(tmp_path):
    """A live process holding tmp_path's lock; ended after the test."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=CHILD_ENV)
    assert proc.stdout.readline() == "holding\n"
    yield proc
    proc.kill()
    proc.wait()


def test_a_second_holder_is_refused_then_free_when_the_first_ends(tmp_path, holder, capsys):
    proc = holder
    with pytest.raises(LessonError) as e, locks.hold(tmp_path, "checkpoint folder"):
        pass
    assert "\n" not in str(e.value)
    assert all(part in str(e.value) for part in (f"process {proc.pid}", str(tmp_path), "checkpoint folder"))
    proc.stdin.close()  # the holder leaves its `with` block and exits normally
    assert proc.wait(timeout=30) == 0
    with locks.hold(tmp_path, "checkpoint folder") as path:
        assert locks.owner(path) == os.getpid()
    assert capsys.readouterr().out == ""  # a clean exit leaves no owner behind: no note
    assert locks.owner(path) is None


def test_a_lock_left_by_a_killed_process_is_taken_over_with_a_note(tmp_path, holder, capsys):
    proc = holder
    proc.kill()  # SIGKILL: no `finally` runs, the pid stays in the lock file
    proc.wait()
    assert locks.owner(tmp_path / ".lock") == proc.pid
    with locks.hold(tmp_path, "checkpoint folder"):
        assert capsys.readouterr().out == f"note: took over the lock of process {proc.pid} in {tmp_path} " \
                                          "(it is no longer running)\n"


def test_a_folder_that_cannot_be_made_is_one_line(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(LessonError, match=r"cannot use .*file.* as a data folder"), \
            locks.hold(tmp_path / "file" / "sub", "data folder"):
        pass
