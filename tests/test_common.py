"""Shared flags, device choice, writers, and the one-line error contract, also as real subprocesses."""
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
