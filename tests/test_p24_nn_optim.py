import re

import pytest

from kit.common import LessonError
from conftest import tb_scalars, tb_tags


@pytest.fixture
def one_thread():
    """Batches of 4 are too small to split between threads; on a busy machine two threads mostly wait."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_loss_goes_down_and_step_lr_is_logged(run_lesson, one_thread):
    # the course's images (--quick: 512 of them) in batches of 4: 256 SGD steps, a few seconds
    out, runs = run_lesson("p24_nn_optim", "--split", "test", "--batch-size", "4", "--scheduler", "step")
    assert "512 test images (synthetic), batch 4, 128 steps per epoch, 2 epochs" in out
    epochs = re.findall(r"epoch (\d): running_loss ([\d.]+), epoch_loss \(average per batch\) ([\d.]+), lr ([\d.]+)",
                        out)
    assert [e[0] for e in epochs] == ["1", "2"]
    running, average = [float(e[1]) for e in epochs], [float(e[2]) for e in epochs]
    assert running[1] < running[0] and average[1] < average[0] - 0.01  # it learns
    assert abs(running[0] / 128 - average[0]) < 1e-3  # the course's sum is the average times the steps
    assert [e[3] for e in epochs] == ["0.01", "0.005"]  # StepLR halves it after each epoch

    tags = tb_tags(runs[0])["scalars"]
    assert {"epoch_loss", "learning_rate", "train_loss"} <= set(tags)
    assert [v for _, v in tb_scalars(runs[0], "epoch_loss")] == pytest.approx(average, abs=1e-4)
    assert [(s, round(v, 6)) for s, v in tb_scalars(runs[0], "learning_rate")] == [(1, 0.01), (2, 0.005)]
    assert [s for s, _ in tb_scalars(runs[0], "train_loss")] == [0, 100, 200]  # every 100 steps


@pytest.mark.parametrize("flags, message", [(["--lr", "-1"], "--lr must be positive"),
                                            (["--scheduler", "step", "--gamma", "0"], r"--gamma must be in \(0, 1\]")])
def test_nonsense_flags_are_one_clear_error(run_lesson, flags, message):
    with pytest.raises(LessonError, match=message):
        run_lesson("p24_nn_optim", *flags)

