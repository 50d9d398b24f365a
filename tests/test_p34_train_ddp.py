import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import torch

from conftest import CHILD_ENV, REPO, tb_scalars, tb_tags


def test_torchrun_two_processes_equal_one_process(tmp_path, run_lesson):
    args = ["--quick", "--dataset", "synthetic", "--epochs", "1", "--batch-size", "128", "--max-steps", "6"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    ddp = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                          str(REPO / "lessons" / "p34_train_ddp.py"), *args, "--logdir", str(tmp_path / "ddp_logs"),
                          "--checkpoint-dir", str(tmp_path / "ddp_ck")],
                         capture_output=True, text=True, env=env, timeout=240, cwd=tmp_path)
    assert ddp.returncode == 0, ddp.stdout[-2000:] + ddp.stderr[-2000:]
    assert "rank 0 of 2: done" in ddp.stdout and "rank 1 of 2: done" in ddp.stdout
    assert ddp.stdout.count("2 process(es), backend gloo") == 1  # only rank 0 prints the run's lines
    assert ddp.stdout.count("epoch 1/1: test_loss") == 1

    # rank 0 alone wrote one TensorBoard run and the checkpoints
    runs = list((tmp_path / "ddp_logs" / "p34_train_ddp").iterdir())
    assert len(runs) == 1 and len(list(runs[0].glob("events.out.tfevents.*"))) == 1
    assert {"test_loss", "test_accuracy"} <= set(tb_tags(runs[0])["scalars"])
    assert sorted(p.name for p in (tmp_path / "ddp_ck").iterdir()) == [".lock", "best.pth", "final.pth"]  # .lock: empty

    # one process, no torchrun, the same global batches
    out, single_runs = run_lesson("p34_train_ddp", "--epochs", "1", "--batch-size", "128", "--max-steps", "6",
                                  "--checkpoint-dir", str(tmp_path / "one_ck"))
    assert "1 process(es), backend none" in out and "rank 0 of 1: done" in out
    from kit import checkpoint

    a, b = checkpoint.load(tmp_path / "ddp_ck" / "final.pth"), checkpoint.load(tmp_path / "one_ck" / "final.pth")
    assert list(a["model"]) == ["model.0.weight", "model.0.bias", "model.2.weight", "model.2.bias", "model.4.weight",
                                "model.4.bias", "model.7.weight", "model.7.bias", "model.8.weight", "model.8.bias"]
    assert a["world_size"] == 2 and b["world_size"] == 1 and a["epoch"] == b["epoch"] == 1
    for k in a["model"]:
        assert torch.allclose(a["model"][k], b["model"][k], atol=1e-5, rtol=1e-4), k
    assert tb_scalars(runs[0], "test_accuracy")[0][1] == pytest.approx(tb_scalars(single_runs[0], "test_accuracy")[0][1], abs=0.01)


def test_global_batch_must_split_evenly():
    from kit import common
    import p34_train_ddp

    args = common.parser("").parse_args(["--batch-size", "3"])
    with pytest.raises(common.LessonError, match="multiple of the number of processes, 2"):
        p34_train_ddp.train(args, rank=0, world_size=2, device=torch.device("cpu"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="SIGSTOP: Linux and macOS")
def test_a_stuck_process_ends_the_run_in_one_line(tmp_path):
    """Two processes started as torchrun starts them (its environment variables, without torchrun's own
    report and 30 s grace period around it); one is stopped (SIGSTOP) once both have joined: the other gives
    up after --timeout seconds with one line on stderr, instead of waiting forever."""
    env = {**CHILD_ENV, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port()), "WORLD_SIZE": "2",
           "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, str(REPO / "lessons" / "p34_train_ddp.py"), "--quick", "--dataset", "synthetic",
           "--timeout", "3", "--logdir", str(tmp_path / "logs"), "--checkpoint-dir", str(tmp_path / "ck")]
    procs = [subprocess.Popen(cmd, env={**env, "RANK": str(r), "LOCAL_RANK": str(r)}, cwd=tmp_path, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for r in (0, 1)]
    try:
        first = procs[0].stdout.readline()  # rank 0 prints it once the process group is up
        assert "2 process(es), backend gloo" in first, procs[0].communicate(timeout=60)
        procs[1].send_signal(signal.SIGSTOP)
        stopped = time.monotonic()
        out, err = procs[0].communicate(timeout=90)
        waited = time.monotonic() - stopped
    finally:
        for p in procs:
            p.kill()  # SIGKILL ends a stopped process too
            p.communicate()
    assert procs[0].returncode == 1 and waited >= 3
    assert err.splitlines() == ["error: rank 0: no answer from the other processes for 3 s (--timeout): one is "
                                "stuck or gone"]
    assert "epoch 2/2" not in out and not (tmp_path / "ck" / "final.pth").exists()


def test_nan_loss_stops_in_one_line_and_is_never_saved(run_lesson, tmp_path):
    from kit import common

    with pytest.raises(common.LessonError, match=r"^the loss became nan at step \d+: try a lower --lr than 1000.0$"):
        run_lesson("p34_train_ddp", "--lr", "1000", "--checkpoint-dir", str(tmp_path / "ck"))
    assert not (tmp_path / "ck" / "best.pth").exists() and not (tmp_path / "ck" / "final.pth").exists()


def test_only_rank_0_reports_a_divergence(monkeypatch, capsys):
    """Every rank sees the same averaged nan at the same step: one line for the run, not one per process."""
    import p34_train_ddp
    from kit import common

    def diverge(*a):
        raise p34_train_ddp.Diverged("the loss became nan at step 7: try a lower --lr than 1.0")

    monkeypatch.setattr(p34_train_ddp, "train", diverge)
    for rank in (0, 1):
        monkeypatch.setattr(p34_train_ddp, "setup", lambda args, rank=rank: (rank, 2, torch.device("cpu")))
        with pytest.raises((common.LessonError, SystemExit)) as e:
            p34_train_ddp.main([])
        assert (e.type, str(e.value)) == ((p34_train_ddp.Diverged, "the loss became nan at step 7: try a lower "
                                           "--lr than 1.0") if rank == 0 else (SystemExit, "1"))
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("flag, value, says", [
    ("--lr", "-1", "must be more than 0"), ("--lr", "nan", "must be more than 0 (and finite)"),
    ("--timeout", "0", "must be more than 0"), ("--max-steps", "0", "must be at least 1"),
    ("--epochs", "-2", "must be at least 1")])
def test_nonsense_numbers_are_refused_by_argparse(flag, value, says, capsys):
    import p34_train_ddp

    with pytest.raises(SystemExit) as e:
        p34_train_ddp.main([flag, value])
    err = capsys.readouterr().err.strip().splitlines()
    assert e.value.code == 2 and f"argument {flag}: {says}" in err[-1]


def test_a_second_run_into_the_same_checkpoint_folder_is_refused(tmp_path):
    import p34_train_ddp
    from kit import common, locks

    with locks.hold(tmp_path / "ck", "checkpoint folder"):
        with pytest.raises(common.LessonError, match=r"ck is in use by another run"):
            p34_train_ddp.main(["--quick", "--dataset", "synthetic", "--checkpoint-dir", str(tmp_path / "ck"),
                                "--logdir", str(tmp_path / "logs")])


def test_its_loaders_keep_their_worker_processes(monkeypatch, tmp_path):
    """Both DataLoaders get data.loader_options: persistent workers, pinned memory only for CUDA."""
    import p34_train_ddp

    made = []

    class Enough(Exception):
        pass

    def data_loader(dataset, **options):
        made.append(options)
        if len(made) == 2:
            raise Enough

    monkeypatch.setattr(p34_train_ddp, "DataLoader", data_loader)
    with pytest.raises(Enough):
        p34_train_ddp.main(["--quick", "--dataset", "synthetic", "--num-workers", "2", "--device", "cpu",
                            "--checkpoint-dir", str(tmp_path / "ck"), "--logdir", str(tmp_path / "logs")])
    assert [(o["num_workers"], o["persistent_workers"], o["pin_memory"]) for o in made] == [(2, True, False)] * 2
