import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from unittest import mock
from pathlib import Path

import pytest
import torch

import p34_train_ddp
from conftest import CHILD_ENV, REPO, events, one_line_error, popen
from kit import checkpoint, flags, locks
from kit.errors import LessonError

COURSE_KEYS = [f"model.{i}.{p}" for i in (0, 2, 4, 7, 8) for p in ("weight", "bias")]
# offline for sure, fast: every download goes to a proxy that refuses the connection
OFFLINE = {"https_proxy": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9", "no_proxy": "",
           "LESSONS_WARNED": "", "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def command(tmp_path, how, *args):
    """P34 on 2 processes: started by the lesson itself (--nproc-per-node) or by the torchrun command."""
    start = ["--nproc-per-node", "2"] if how == "launcher" else None
    lesson = [str(REPO / "lessons" / "p34_train_ddp.py"), "--logdir", str(tmp_path / "logs"), *args]
    return [sys.executable, *(lesson + start if start else
                              ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", *lesson])]


def test_two_processes_equal_one_process_and_warn_offline_once(tmp_path, run_lesson):
    """--nproc-per-node 2, offline (--dataset auto, no CIFAR-10 in --data-root): rank 0 alone prints the run's
    lines and the CIFAR-10 warning, logs and saves; the weights are those of one process."""
    (tmp_path / "empty").mkdir()
    args = ["--quick", "--epochs", "1", "--batch-size", "128", "--max-steps", "6"]
    proc = popen(command(tmp_path, "launcher", *args, "--data-root", str(tmp_path / "empty"), "--checkpoint-dir",
                         str(tmp_path / "ddp_ck")), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                 env={**CHILD_ENV, **OFFLINE}, cwd=tmp_path)
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, out[-2000:] + err[-2000:]
    assert sorted(out.count(f"rank {r} of 2: done") for r in (0, 1)) == [1, 1]
    for once in ("warning: CIFAR-10 is not in", "2 process(es), backend gloo", "epoch 1/1: test_loss"):
        assert out.count(once) == 1, once
    [ddp_run] = run_lesson.runs("p34_train_ddp")
    assert ddp_run.name.endswith("-synthetic") and len(list(ddp_run.glob("events.out.tfevents.*"))) == 1
    assert {"test_loss", "test_accuracy"} <= set(events(ddp_run).tags("scalars"))
    assert sorted(p.name for p in (tmp_path / "ddp_ck").iterdir()) == [".lock", "best.pth", "final.pth"]

    # one process, no torchrun, the same global batches
    r = run_lesson("p34_train_ddp", *args[1:], "--checkpoint-dir", str(tmp_path / "one_ck"))
    assert r.lines("1 process(es), backend none") and r.lines("rank 0 of 1: done")
    a, b = checkpoint.load(tmp_path / "ddp_ck" / "final.pth"), checkpoint.load(tmp_path / "one_ck" / "final.pth")
    assert list(a["model"]) == COURSE_KEYS
    assert (a["world_size"], b["world_size"], a["epoch"], b["epoch"]) == (2, 1, 1, 1)
    for k in a["model"]:
        assert torch.allclose(a["model"][k], b["model"][k], atol=1e-5, rtol=1e-4), k
    accuracy = [events(run).scalars("test_accuracy")[0][1] for run in r.runs]
    assert accuracy[0] == pytest.approx(accuracy[1], abs=0.01)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_rank_0_alone_says_what_it_waited_for(run_lesson):
    """torchrun's variables, but only rank 0 started (no torchrun): after --timeout, one line."""
    env = {**OFFLINE, "RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1",
           "MASTER_PORT": str(free_port())}
    line = one_line_error(run_lesson.process("p34_train_ddp", "--quick", "--dataset", "synthetic", "--timeout", "3",
                                             env=env))
    assert f"rank 0 waited 3 s (--timeout) at 127.0.0.1:{env['MASTER_PORT']} for the other processes of " \
           "WORLD_SIZE=2, but not all came" in line


def rank_pid(parent, rank):
    """The pid of torchrun's process of that rank (Linux: from /proc)."""
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError, ValueError):
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == parent and f"RANK={rank}".encode() in (proc / "environ").read_bytes().split(b"\0"):
                return int(proc.name)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds torchrun's processes in /proc")
@pytest.mark.parametrize("sig, how", [("SIGKILL", "launcher"), ("SIGSTOP", "torchrun")])
def test_a_killed_or_stuck_process_ends_the_run_with_our_line(tmp_path, sig, how):
    """Rank 1 killed or stopped (a hang) once best.pth is saved: one line says so and what is kept, last with
    --nproc-per-node, in torchrun's report with torchrun; a stuck process is ended at once, not after 30 s."""
    ck, timeout = tmp_path / "ck", "3" if sig == "SIGSTOP" else "60"  # 60: a slow start is no failure here
    run = popen(command(tmp_path, how, "--quick", "--dataset", "synthetic", "--timeout", timeout, "--checkpoint-dir",
                        str(ck)), env={**CHILD_ENV, **OFFLINE}, cwd=tmp_path, text=True, stderr=subprocess.PIPE)
    victim = None
    try:
        while not (ck / "best.pth").exists() and run.poll() is None:  # epoch 1 is saved: stop rank 1 in epoch 2
            time.sleep(0.05)
        victim = rank_pid(run.pid, 1)
        assert victim, run.communicate(timeout=60)[1]
        os.kill(victim, getattr(signal, sig))
        signalled = time.monotonic()
        err = run.communicate(timeout=60)[1]
        waited = time.monotonic() - signalled
    finally:
        run.kill()
        if victim:
            with contextlib.suppress(OSError):
                os.kill(victim, signal.SIGKILL)
    ours = [line for line in err.splitlines() if line.startswith("error: ")]
    assert run.returncode == 1 and "Exception ignored" not in err and ours, err
    assert ours[-1].endswith(f"; best.pth (epoch 1) is kept in {ck}"), err
    assert checkpoint.load(ck / "best.pth")["epoch"] == 1 and not (ck / "final.pth").exists()
    if how == "launcher":  # rank 0 says another process ended; the launcher, last, which one and how
        assert err.splitlines()[-1] == ours[-1] and "Traceback" not in err
        assert ours[-1].startswith("error: rank 1 was ended by SIGKILL from outside the lesson, so the run stopped")
    else:  # torchrun alone waits 30 s after its SIGTERM (which a stopped process never acts on)
        assert len(ours) == 1 and ours[0].startswith("error: rank 0: no answer from the other processes for 3 s")
        assert ours[0].split(": ", 1)[1] in err.split("ChildFailedError")[-1] and waited < 15  # in its report


def test_one_line_errors_save_nothing(run_lesson, tmp_path):
    """A nan loss; a global batch that does not split over the processes; a checkpoint folder in use."""
    ck = tmp_path / "ck"
    with pytest.raises(LessonError, match=r"^the loss became nan at step \d+: try a lower --lr than 1000.0$"):
        run_lesson("p34_train_ddp", "--lr", "1000", "--checkpoint-dir", str(ck))
    assert sorted(p.name for p in ck.iterdir()) == [".lock"]
    args = flags.parser("").parse_args(["--batch-size", "3"])
    with pytest.raises(LessonError, match="must be a multiple of the number of processes, 2"):
        p34_train_ddp.train(args, rank=0, world_size=2, device=torch.device("cpu"))
    with locks.hold(ck, "checkpoint folder"), pytest.raises(LessonError, match=r"ck is in use by another run"):
        run_lesson("p34_train_ddp", "--checkpoint-dir", str(ck))


def test_only_rank_0_reports_a_divergence(monkeypatch, capsys):
    """Every rank sees the same averaged nan at the same step: one line for the run, not one per process."""
    def diverge(*a):
        raise p34_train_ddp.Diverged("the loss became nan at step 7: try a lower --lr than 1.0")

    monkeypatch.setattr(p34_train_ddp, "train", diverge)
    for rank in (0, 1):
        monkeypatch.setattr(p34_train_ddp, "setup", lambda args, rank=rank: (rank, 2, torch.device("cpu")))
        with pytest.raises((LessonError, SystemExit)) as e:
            p34_train_ddp.main([])
        assert (e.type, str(e.value)) == ((p34_train_ddp.Diverged, "the loss became nan at step 7: try a lower "
                                           "--lr than 1.0") if rank == 0 else (SystemExit, "1"))
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("flag, value, says", [
    ("--lr", "-1", "must be more than 0"), ("--lr", "nan", "must be more than 0 (and finite)"),
    ("--timeout", "0", "must be more than 0"), ("--max-steps", "0", "must be from 1 to"),
    ("--timeout", "1e308", "must be more than 0 and at most 259200 (3 days), got 1e308"),  # timedelta overflows
    ("--epochs", "-2", "must be from 1 to"), ("--batch-size", "1000000000000", "must be from 1 to 2147483648")])
def test_nonsense_numbers_are_refused_by_argparse(run_lesson, flag, value, says):
    r = run_lesson.process("p34_train_ddp", flag, value)  # a real process: argparse's line, exit 2
    assert r.code == 2 and f"argument {flag}: {says}" in r.err.splitlines()[-1]


def test_its_loaders_keep_their_worker_processes(run_lesson, monkeypatch, tmp_path):
    """Both DataLoaders get datasets.loader_options: persistent workers, pinned memory only for CUDA."""
    made = []
    monkeypatch.setattr(p34_train_ddp, "DataLoader", lambda dataset, **options: made.append(options) or [])
    run_lesson("p34_train_ddp", "--num-workers", "2", "--device", "cpu", "--checkpoint-dir", str(tmp_path / "ck"))
    assert [(o["num_workers"], o["persistent_workers"], o["pin_memory"]) for o in made] == [(2, True, False)] * 2


def test_the_launchers_line_names_the_cause(tmp_path, monkeypatch):
    """launcher.cause reads what each process told (the error files torchrun's report reads too): a process's own
    error first, else the process a signal ended, with what rank 0 kept; Ctrl-C to the launcher is one line."""
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ProcessFailure
    from kit import launcher

    def failure(rank, exitcode, line=None, own=True):
        path = tmp_path / f"{rank}-{exitcode}.json"
        if line:
            monkeypatch.setenv("TORCHELASTIC_ERROR_FILE", str(path))
            launcher.tell(line, own, kept="; best.pth (epoch 2) is kept in ck")
        return ProcessFailure(local_rank=rank, pid=100 + rank, exitcode=exitcode, error_file=str(path))

    peer = failure(0, 1, "rank 0: another process ended", own=False)
    assert launcher.cause({0: peer, 1: failure(1, -9)}) == \
        "rank 1 was ended by SIGKILL from outside the lesson, so the run stopped; best.pth (epoch 2) is kept in ck"
    assert launcher.cause({0: failure(0, 1, "rank 0: one is stuck"), 1: failure(1, -9)}) == "rank 0: one is stuck"
    assert launcher.cause({0: peer}) == "rank 0: another process ended"
    assert launcher.cause({1: failure(1, 3)}) == "rank 1 ended with exit code 3; its output above says why"

    sigterm = SignalException("got SIGTERM", sigval=signal.SIGTERM)  # Ctrl-C, SIGTERM, SIGHUP to the launcher
    monkeypatch.setattr("torch.distributed.run.run", mock.Mock(side_effect=sigterm))
    with pytest.raises(KeyboardInterrupt) as e:
        launcher.run("p34_train_ddp.py", 2, [])
    assert (e.value.signum, e.value.detail) == (signal.SIGTERM, "every process has stopped")
