import re

import pytest

from conftest import tb_scalars, tb_tags


@pytest.fixture
def one_thread():
    """Batches of 8 are too small to split between threads; on a busy machine two threads mostly wait."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def epochs_printed(out):
    """[(epoch, running_loss, epoch_loss, lr), ...] from the lines printed after each epoch."""
    found = re.findall(r"epoch (\d): running_loss ([\d.]+), epoch_loss \(average per batch\) ([\d.]+), lr ([\d.]+)", out)
    return [(int(e), float(r), float(a), lr) for e, r, a, lr in found]


def test_quick_loss_goes_down_and_every_curve_has_points(run_lesson, one_thread):
    # --quick's own batch size (8) and epochs (3) on the course's images (--quick: 512 of them), a few seconds
    out, runs = run_lesson("p24_nn_optim", "--split", "test", "--scheduler", "step")
    assert "512 test images (synthetic), batch 8, 64 steps per epoch, 3 epochs" in out
    epochs = epochs_printed(out)
    assert [e[0] for e in epochs] == [1, 2, 3]
    running, average = [e[1] for e in epochs], [e[2] for e in epochs]
    assert running[0] > running[1] > running[2] and average[0] > average[1] > average[2]  # it learns
    assert average[2] < average[0] - 0.01
    assert all(abs(r / 64 - a) < 1e-3 for r, a in zip(running, average))  # the course's sum = average * steps
    assert [e[3] for e in epochs] == ["0.01", "0.005", "0.0025"]  # StepLR halves it after each epoch
    assert "one epoch_loss point" not in out  # the one-epoch note is for --epochs 1 only

    run = runs[0]
    assert {"epoch_loss", "learning_rate", "train_loss"} <= set(tb_tags(run)["scalars"])
    # TensorBoard draws a line through 2 points or more; one point alone shows an empty chart
    assert tb_scalars(run, "epoch_loss") == [(i + 1, pytest.approx(a, abs=1e-4)) for i, a in enumerate(average)]
    assert [(s, round(v, 6)) for s, v in tb_scalars(run, "learning_rate")] == [(1, 0.01), (2, 0.005), (3, 0.0025)]
    assert [s for s, _ in tb_scalars(run, "train_loss")] == [0, 100]  # every 100 of the 192 steps


def test_one_epoch_says_its_curve_is_one_point(run_lesson, one_thread):
    out, runs = run_lesson("p24_nn_optim", "--split", "test", "--batch-size", "64", "--epochs", "1")
    assert "512 test images (synthetic), batch 64, 8 steps per epoch, 1 epoch," in out
    assert "one epoch is one epoch_loss point, and TensorBoard draws no line through one point" in out
    assert len(tb_scalars(runs[0], "epoch_loss")) == 1


@pytest.mark.parametrize("flags, message", [
    (["--lr", "-1"], "argument --lr: must be more than 0 (and finite), got -1"),
    (["--lr", "nan"], "argument --lr: must be more than 0 (and finite), got nan"),
    (["--gamma", "0"], "argument --gamma: must be more than 0 (and finite), got 0"),
    (["--gamma", "2"], "argument --gamma: must be at most 1, got 2"),
    (["--epochs", "0"], "argument --epochs: must be at least 1, got 0")])
def test_nonsense_flags_are_one_line_from_argparse(run_lesson, capsys, flags, message):
    with pytest.raises(SystemExit) as exit_info:
        run_lesson("p24_nn_optim", *flags)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
