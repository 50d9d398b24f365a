"""kit.locks: one process at a time in a folder, with real second processes (kit.locks imports no torch,
so each holder starts in a fraction of a second)."""
import subprocess
import sys

import pytest

from conftest import CHILD_ENV
from kit import locks
from kit.common import LessonError

HOLDER = """
import sys
from kit import locks
with locks.hold(sys.argv[1], "checkpoint folder"):
    print("holding", flush=True)
    sys.stdin.read()  # until the test closes our stdin (or kills us)
"""


@pytest.fixture
def holder():
    """holder(folder) -> a live process holding folder's lock; ended after the test."""
    procs = []

    def start(folder):
        proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, env=CHILD_ENV)
        procs.append(proc)
        assert proc.stdout.readline() == "holding\n"
        return proc

    yield start
    for proc in procs:
        proc.kill()
        proc.wait()


def test_a_second_holder_is_refused_in_one_line_naming_the_process(tmp_path, holder):
    proc = holder(tmp_path / "ck")
    with pytest.raises(LessonError) as e:
        with locks.hold(tmp_path / "ck", "checkpoint folder"):
            pass
    message = str(e.value)
    assert "\n" not in message
    assert f"process {proc.pid}" in message and str(tmp_path / "ck") in message and "checkpoint folder" in message


def test_the_lock_is_free_again_when_its_holder_ends(tmp_path, holder, capsys):
    proc = holder(tmp_path)
    proc.stdin.close()  # the holder leaves its `with` block and exits normally
    assert proc.wait(timeout=30) == 0
    with locks.hold(tmp_path, "checkpoint folder") as path:
        assert locks.owner(path) == locks.os.getpid()
    assert capsys.readouterr().out == ""  # a clean exit leaves no owner behind: no note
    assert locks.owner(path) is None


def test_a_lock_left_by_a_killed_process_is_taken_over_with_a_note(tmp_path, holder, capsys):
    proc = holder(tmp_path)
    proc.kill()  # SIGKILL: no `finally` runs, the pid stays in the lock file
    proc.wait()
    assert locks.owner(tmp_path / ".lock") == proc.pid
    with locks.hold(tmp_path, "checkpoint folder"):
        out = capsys.readouterr().out
    assert out == f"note: took over the lock of process {proc.pid} in {tmp_path} (it is no longer running)\n"


def test_a_folder_that_cannot_be_made_is_one_line(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(LessonError, match=r"cannot use .*file.* as a data folder"):
        with locks.hold(tmp_path / "file" / "sub", "data folder"):
            pass
