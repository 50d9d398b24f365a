"""P30/P31 on the CPU (the test machines have no GPU): they train exactly as P27 does. That they are P27 plus the
lesson's lines is tested in test_p27_train.py."""
import os
import re

import pytest
import torch

from conftest import LessonRunner, events
from kit import checkpoint, errors
from test_p27_train import FRUIT, image_folder, train

GPU_LESSONS = ["p30_train_gpu_1", "p31_train_gpu_2"]
no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="tests the fallback on a machine without CUDA")
no_gpu = pytest.mark.skipif(torch.cuda.is_available() or torch.backends.mps.is_available(),
                            reason="tests the CPU fallback")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """P27, P30 and P31: one epoch each on the same little image folder, seed 0."""
    runner = LessonRunner(tmp_path_factory.mktemp("gpu"))
    fruit = image_folder(runner.tmp / "fruit", FRUIT)
    return runner, {name: train(runner, *fruit, "--epochs", "1", ck=name, name=name)
                    for name in ["p27_train", *GPU_LESSONS]}


@no_cuda
def test_p30_falls_back_to_the_cpu_and_times_the_logged_steps(runs):
    _, r = runs
    out = r["p30_train_gpu_1"].out
    assert "torch.cuda.is_available() is False" in out and "p31_train_gpu_2.py" in out  # MPS users go to P31
    lines = out.splitlines()
    timed = [lines[i + 1] for i, line in enumerate(lines) if line.startswith("训练次数")]  # the video's timing
    seconds = [float(re.fullmatch(r"(\d+\.\d\d) s since the start \(CPU\)", line)[1]) for line in timed]
    assert len(seconds) == 3 and seconds == sorted(seconds)


@no_gpu
def test_p31_picks_the_cpu(runs):
    assert runs[1]["p31_train_gpu_2"].lines("device = ") == [
        f"device = cpu: CPU ({os.cpu_count()} cores, {torch.get_num_threads()} threads)"]


@no_gpu
@pytest.mark.parametrize("name", GPU_LESSONS)
def test_on_the_cpu_they_train_log_and_save_exactly_as_p27(runs, name):
    runner, r = runs
    assert r[name].numbers("整体测试集上的正确率") == r["p27_train"].numbers("整体测试集上的正确率")
    ours, p27 = events(r[name].runs[0]), events(r["p27_train"].runs[0])
    assert {tag: ours.scalars(tag) for tag in p27.tags("scalars")} == {t: p27.scalars(t) for t in p27.tags("scalars")}
    a, b = (checkpoint.load(runner.tmp / n / "epoch_1.pth")["model"] for n in (name, "p27_train"))
    assert all(torch.equal(a[k], b[k]) for k in b)


@no_cuda
@pytest.mark.parametrize("name", GPU_LESSONS)
def test_asking_for_a_missing_gpu_is_one_clear_error(run_lesson, name):
    with pytest.raises(errors.LessonError, match="--device cuda was asked for"):
        run_lesson(name, "--device", "cuda")


@no_cuda
@pytest.mark.parametrize("name", GPU_LESSONS)
def test_loaders_keep_their_workers_and_pin_only_for_cuda(run_lesson, name, monkeypatch):
    """Workers started once, not every epoch (that costs seconds, more on Windows); pinned memory only for CUDA."""
    module, made = __import__(name), []
    real_loader = module.DataLoader

    def recording_loader(*args, **kwargs):
        made.append(kwargs)
        return real_loader(*args, **kwargs)

    def stop(**kwargs):  # no need to train: the loaders are made by then
        raise InterruptedError

    monkeypatch.setattr(module, "DataLoader", recording_loader)
    monkeypatch.setattr(module, "Tudui", stop)
    with pytest.raises(InterruptedError):
        run_lesson(name, *image_folder(run_lesson.tmp / "fruit", FRUIT), "--num-workers", "2", dataset=None)
    assert len(made) == 2 and all(k["num_workers"] == 2 and k["persistent_workers"] and not k["pin_memory"]
                                  for k in made)
