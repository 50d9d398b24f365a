"""P30/P31: the GPU lessons fall back to the CPU here (no GPU in the test machines) and train like P27.
That they are P27 plus the lesson's lines is tested in test_p27_train.py."""
import contextlib
import importlib
import io
import re

import pytest
import torch

from conftest import tb_scalars, tb_tags

from kit import checkpoint
from kit.common import LessonError

no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="tests the fallback on a machine without CUDA")
no_gpu = pytest.mark.skipif(torch.cuda.is_available() or torch.backends.mps.is_available(),
                            reason="tests the CPU fallback")


def train(name, tmp, *args):
    """One quick epoch on synthetic data, logs and checkpoints under tmp: (stdout, run folders)."""
    module = importlib.import_module(name)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = module.main(["--quick", "--epochs", "1", "--dataset", "synthetic", "--logdir", str(tmp / "logs"),
                          "--checkpoint-dir", str(tmp / "ck"), *args])
    assert rc == 0
    return out.getvalue(), sorted(p for p in (tmp / "logs" / name).glob("*") if p.is_dir())


@pytest.fixture(scope="module")
def gpu_runs(tmp_path_factory):
    return {name: (tmp, *train(name, tmp))
            for name in ("p30_train_gpu_1", "p31_train_gpu_2")
            for tmp in [tmp_path_factory.mktemp(name)]}


@no_cuda
def test_p30_falls_back_to_the_cpu_and_times_every_100_steps(gpu_runs):
    tmp, out, runs = gpu_runs["p30_train_gpu_1"]
    assert "torch.cuda.is_available() is False" in out and "trains on the CPU" in out
    # the course's timing, after every 训练次数 line (--quick prints every 10 steps)
    lines = out.splitlines()
    timed = [lines[i + 1] for i, line in enumerate(lines) if line.startswith("训练次数：")]
    assert len(timed) == 3 and all(re.fullmatch(r"\d+\.\d\d s since the start \(CPU\)", line) for line in timed)


@no_gpu
def test_p31_picks_the_cpu(gpu_runs):
    tmp, out, runs = gpu_runs["p31_train_gpu_2"]
    assert "device = cpu  (no CUDA or MPS here: the CPU)" in out


@pytest.mark.parametrize("name", ["p30_train_gpu_1", "p31_train_gpu_2"])
def test_gpu_lessons_learn_log_and_save_like_p27(gpu_runs, name):
    tmp, out, runs = gpu_runs[name]
    assert len(runs) == 1
    assert {"train_loss", "test_loss", "test_accuracy"} <= set(tb_tags(runs[0])["scalars"])
    [(step, accuracy)] = tb_scalars(runs[0], "test_accuracy")
    assert step == 1 and accuracy > 0.15  # one quick epoch; chance is 0.1
    tudui, classes = checkpoint.load_tudui(tmp / "ck" / "best.pth")
    assert len(classes) == 10 and checkpoint.load(tmp / "ck" / "epoch_1.pth")["epoch"] == 1


@no_gpu
def test_both_styles_train_the_same_weights_on_the_cpu(gpu_runs):
    """Same seed, same shared loop, same device: the .cuda() style and the .to(device) style agree exactly."""
    a = checkpoint.load(gpu_runs["p30_train_gpu_1"][0] / "ck" / "epoch_1.pth")["model"]
    b = checkpoint.load(gpu_runs["p31_train_gpu_2"][0] / "ck" / "epoch_1.pth")["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


@no_cuda
@pytest.mark.parametrize("name", ["p30_train_gpu_1", "p31_train_gpu_2"])
def test_asking_for_a_missing_gpu_is_one_clear_error(name, tmp_path):
    module = importlib.import_module(name)
    with pytest.raises(LessonError, match="--device cuda was asked for"):
        module.main(["--device", "cuda", "--logdir", str(tmp_path)])


def test_p30_sends_mps_users_to_p31(tmp_path):
    import p30_train_gpu_1

    with pytest.raises(LessonError, match="p31_train_gpu_2"):
        p30_train_gpu_1.main(["--device", "mps", "--logdir", str(tmp_path)])


@no_cuda
@pytest.mark.parametrize("name", ["p30_train_gpu_1", "p31_train_gpu_2"])
def test_loaders_keep_their_workers_and_pin_only_for_cuda(name, tmp_path, monkeypatch):
    """Workers started once, not every epoch (that costs seconds, more on Windows); pinned memory only for CUDA."""
    module = importlib.import_module(name)
    made, real_loader = [], module.DataLoader

    def recording_loader(*args, **kwargs):
        made.append(kwargs)
        return real_loader(*args, **kwargs)

    def stop(**kwargs):  # no need to train: the loaders are made by then
        raise RuntimeError("stopped after the loaders")

    monkeypatch.setattr(module, "DataLoader", recording_loader)
    monkeypatch.setattr(module, "Tudui", stop)
    with pytest.raises(RuntimeError, match="stopped after the loaders"):
        module.main(["--quick", "--dataset", "synthetic", "--num-workers", "2", "--logdir", str(tmp_path)])
    assert len(made) == 2
    assert all(k["num_workers"] == 2 and k["persistent_workers"] and not k["pin_memory"] for k in made)
