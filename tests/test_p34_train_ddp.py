import os
import subprocess
import sys

import pytest
import torch

from conftest import REPO, tb_scalars, tb_tags


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
    assert sorted(p.name for p in (tmp_path / "ddp_ck").iterdir()) == ["best.pth", "final.pth"]

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
