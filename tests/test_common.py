"""Shared flags, device choice, writers, and the one-line error contract, also as real subprocesses."""
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch

from kit import common
from conftest import REPO


def test_device_auto_and_missing_device():
    assert common.get_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        assert common.get_device("auto").type in ("cpu", "mps")
        with pytest.raises(common.LessonError, match="--device cuda"):
            common.get_device("cuda")


def test_writer_makes_a_new_run_each_time(tmp_path):
    args = SimpleNamespace(logdir=tmp_path)
    with common.writer("pX", args, synthetic=True) as w1, common.writer("pX", args, synthetic=True) as w2:
        assert w1.log_dir != w2.log_dir
        assert w1.log_dir.endswith("-synthetic") and "/pX/" in w1.log_dir.replace("\\", "/")


def test_bad_flag_is_rejected_by_the_shared_parser():
    with pytest.raises(SystemExit) as e:
        common.parser("doc").parse_args(["--batch-size", "0"])
    assert e.value.code == 2


def run_script(*argv, cwd):
    return subprocess.run([sys.executable, *argv], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_lesson_runs_from_another_directory_and_logs_under_the_repo(tmp_path):
    r = run_script(str(REPO / "lessons" / "p18_nn_conv2d.py"), "--quick", "--dataset", "synthetic", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    hint = [line for line in r.stdout.splitlines() if line.startswith("TensorBoard: tensorboard --logdir")]
    assert len(hint) == 1
    run_name = hint[0].split("(this run: ")[1].rstrip(")")
    run_dir = REPO / "logs" / "p18_nn_conv2d" / run_name
    try:
        assert str(REPO / "logs" / "p18_nn_conv2d") in hint[0]
        assert any(run_dir.glob("events.out.tfevents.*"))
    finally:
        import shutil
        shutil.rmtree(run_dir, ignore_errors=True)


def test_bad_input_is_one_line_without_traceback(tmp_path):
    """A real process: the one-line error and exit status are what a learner sees in the shell."""
    r = run_script(str(REPO / "lessons" / "p18_nn_conv2d.py"), "--logdir", str(tmp_path), "--dataset", "folder",
                   "--data-root", "no/such/folder", cwd=tmp_path)
    assert r.returncode == 1
    assert r.stderr.startswith("error: no folder") and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("argv, message", [
    (["--batch-size", "-3"], "must be at least 1"),
    (["--dataset", "imagenet"], "invalid choice"),
])
def test_nonsense_flags_are_refused_by_argparse(tmp_path, capsys, argv, message):
    from p18_nn_conv2d import main

    with pytest.raises(SystemExit) as e:
        main(["--logdir", str(tmp_path), *argv])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "p18_nn_conv2d").exists()  # nothing was started


def test_run_turns_errors_into_exit_codes(capsys):
    def bad():
        raise common.LessonError("no such file")

    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as e:
        common.run(bad)
    assert e.value.code == "error: no such file"  # printed to stderr by Python, exit status 1
    with pytest.raises(SystemExit) as e:
        common.run(interrupted)
    assert e.value.code == 130 and "interrupted" in capsys.readouterr().err


# ---------------------------------------------------------------- flags: counts, sizes, seeds

@pytest.mark.parametrize("argv, message", [
    (["--num-workers", "-1"], "argument --num-workers: must be 0 or more, got -1"),
    (["--batch-size", "0"], "argument --batch-size: must be at least 1, got 0"),
    (["--batch-size", "2.5"], "argument --batch-size: '2.5' is not a whole number"),
    (["--seed", "99999999999999999999999"], "argument --seed: must be from 0 to 4294967295, got 99999999999999999999999"),
    (["--seed", "-1"], "argument --seed: must be from 0 to 4294967295, got -1"),
])
def test_counts_and_seeds_out_of_range_are_one_argparse_line(capsys, argv, message):
    with pytest.raises(SystemExit) as e:
        common.parser("doc").parse_args(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2
    assert err.splitlines()[-1].endswith(message) and "Traceback" not in err


@pytest.mark.parametrize("kind, good, bad", [
    (common.positive_float, ["0.5", "1e-3"], ["0", "-1", "inf", "nan", "abc"]),
    (common.non_negative_float, ["0", "2"], ["-0.1", "inf", "nan"]),
    (common.positive_int, ["1", "64"], ["0", "-3", "1.5"]),
    (common.non_negative_int, ["0", "4"], ["-1", "x"]),
])
def test_argparse_types(kind, good, bad):
    import argparse

    assert [kind(text) for text in good] == [float(t) if "float" in kind.__name__ else int(t) for t in good]
    for text in bad:
        with pytest.raises(argparse.ArgumentTypeError):
            kind(text)


# ---------------------------------------------------------------- TensorBoard logs that cannot be written

def test_a_logdir_that_is_a_file_is_one_line_naming_it(tmp_path):
    (tmp_path / "logs.txt").write_text("a file, not a folder")
    for logdir in (tmp_path / "logs.txt", tmp_path / "logs.txt" / "deeper"):
        with pytest.raises(common.LessonError) as e:
            common.writer("pX", SimpleNamespace(logdir=logdir))
        assert "\n" not in str(e.value)
        assert f": not a folder ({tmp_path / 'logs.txt'} is a file)" in str(e.value)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_logdir_is_one_line(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(common.LessonError, match=rf"cannot write TensorBoard logs in {locked}.*: permission denied"):
        common.writer("pX", SimpleNamespace(logdir=locked))


def disk_full_after(monkeypatch, n_writes):
    """TensorBoard's event file writes fail with ENOSPC after n_writes of them (in its writer thread)."""
    import errno

    from tensorboard.compat.tensorflow_stub.io import gfile

    calls, append = [], gfile.LocalFileSystem.append

    def append_or_fail(self, *a, **kw):
        calls.append(1)
        if len(calls) > n_writes:
            raise OSError(errno.ENOSPC, "No space left on device")
        return append(self, *a, **kw)

    monkeypatch.setattr(gfile.LocalFileSystem, "append", append_or_fail)


@pytest.mark.parametrize("when", ["at the next add", "at close"])
def test_a_full_disk_in_the_writer_thread_is_one_line_and_no_thread_traceback(tmp_path, monkeypatch, capfd, when):
    disk_full_after(monkeypatch, 0)  # the first record (written by the constructor) goes through write()
    with pytest.raises(common.LessonError) as e:
        with common.writer("pX", SimpleNamespace(logdir=tmp_path)) as writer:
            writer.add_scalar("loss", 1.0, 1)
            if when == "at the next add":
                writer.flush()  # waits for the thread, which has failed by then
                writer.add_scalar("loss", 0.5, 2)
    assert str(e.value) == (f"cannot write TensorBoard logs in {writer.log_dir}: disk full (No space left on device) "
                            "(choose another --logdir)")
    assert capfd.readouterr().err == ""  # the dying writer thread printed nothing


def test_the_lessons_own_error_wins_over_a_log_that_cannot_be_closed(tmp_path, monkeypatch):
    disk_full_after(monkeypatch, 0)
    with pytest.raises(KeyboardInterrupt):
        with common.writer("pX", SimpleNamespace(logdir=tmp_path)) as writer:
            writer.add_scalar("loss", 1.0, 1)
            raise KeyboardInterrupt  # Ctrl-C: exit 130 and its own line, not the log's


FULL_DISK = """
import resource, signal, sys
from types import SimpleNamespace
from kit import common
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead of killing us
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
def main():
    with common.writer("pX", SimpleNamespace(logdir=sys.argv[1])) as writer:
        writer.add_text("notes", "x" * 10_000)  # more than the 4 KB a file may grow to
    print("finished")
common.run(main)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_real_process_that_runs_out_of_disk_ends_in_one_line(tmp_path):
    from conftest import CHILD_ENV

    r = subprocess.run([sys.executable, "-c", FULL_DISK, str(tmp_path)], capture_output=True, text=True,
                       env=CHILD_ENV, timeout=120)
    assert r.returncode == 1 and "finished" not in r.stdout
    assert r.stderr.startswith(f"error: cannot write TensorBoard logs in {tmp_path / 'pX'}")
    assert r.stderr.rstrip().endswith(": file too large (over the file system's or the process's size limit, ulimit -f) "
                                      "(choose another --logdir)")
    assert len(r.stderr.splitlines()) == 1


# ---------------------------------------------------------------- one line from a DataLoader worker

def test_a_lesson_error_raised_again_from_a_dataloader_worker_keeps_its_one_line():
    from torch._utils import ExceptionWrapper

    try:
        raise common.LessonError("data/x.jpg is not a readable image (Truncated File Read): delete or replace it")
    except common.LessonError:
        wrapped = ExceptionWrapper(where="in DataLoader worker process 1")
    with pytest.raises(common.LessonError) as e:
        wrapped.reraise()  # what DataLoader does in the main process
    assert str(e.value) == "data/x.jpg is not a readable image (Truncated File Read): delete or replace it"
