import os
import re
import select
import sys

import pytest

from conftest import CHILD_ENV, REPO, events, popen


@pytest.fixture
def one_thread():
    """Batches of 8 are too small to split between threads; on a busy machine two threads mostly wait."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def plan(r):
    """(images, batch size, steps per epoch, epochs) from the first line."""
    m = re.match(r"(\d+) images \(synthetic\), batch (\d+): (\d+) steps per epoch; epochs: (\d+)", r.out)
    return tuple(int(n) for n in m.groups())


def test_quick_loss_goes_down_and_every_curve_has_points(run_lesson, one_thread):
    # --quick's own batch size (8) and epochs (3) on the course's test images (--quick: 512 of them)
    r = run_lesson("p24_nn_optim", "--scheduler", "step")
    assert plan(r) == (512, 8, 64, 3)
    running, average = r.numbers("running_loss"), r.numbers("epoch_loss (average per batch)")
    assert running[0] > running[1] > running[2] and average[0] > average[1] > average[2]  # it learns
    assert average[2] < average[0] - 0.01
    assert running == pytest.approx([a * 64 for a in average], abs=0.01)  # the course's sum = average * steps
    assert r.numbers(", lr") == [0.01, 0.005, 0.0025]  # StepLR halves it after each epoch
    assert r.lines("epoch 3 [")  # the progress bar's line, in a file
    assert float(r.lines("about ")[0].split()[1]) > 0  # after the first epoch: its seconds, and the whole run's
    assert "one epoch_loss point" not in r.out  # the one-epoch note is for --epochs 1 only

    board = events(r.runs[0])
    # TensorBoard draws a line through 2 points or more; one point alone shows an empty chart
    assert board.scalars("epoch_loss") == [(i + 1, pytest.approx(a, abs=1e-4)) for i, a in enumerate(average)]
    assert [(s, round(v, 6)) for s, v in board.scalars("learning_rate")] == [(1, 0.01), (2, 0.005), (3, 0.0025)]
    assert [s for s, _ in board.scalars("train_loss")] == [0, 100]  # every 100 of the 192 steps


def test_one_epoch_says_its_curve_is_one_point(run_lesson, one_thread):
    r = run_lesson("p24_nn_optim", "--batch-size", "64", "--epochs", "1")
    assert plan(r) == (512, 64, 8, 1)
    assert "one epoch is one epoch_loss point" in r.out and not r.lines("about ")
    assert len(events(r.runs[0]).scalars("epoch_loss")) == 1


def test_nonsense_flags_are_one_line_from_argparse(run_lesson):
    for flag, value in [("--lr", "-1"), ("--lr", "nan"), ("--gamma", "0"), ("--gamma", "2"), ("--epochs", "0")]:
        r = run_lesson("p24_nn_optim", flag, value, expect=2)
        assert f"argument {flag}:" in r.err and value in r.err and "Traceback" not in r.err
    assert "at most 1" in run_lesson("p24_nn_optim", "--gamma", "2", expect=2).err


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal is a POSIX thing")
def test_the_default_run_shows_a_progress_bar_on_a_terminal_within_20_seconds(tmp_path):
    """The course's run takes minutes: on a terminal the bar (and its time estimate) must come at once."""
    import pty
    import subprocess
    import time

    main, child = pty.openpty()
    proc = popen([sys.executable, str(REPO / "lessons" / "p24_nn_optim.py"), "--logdir", str(tmp_path)],
                 stdin=child, stdout=child, stderr=child, env=CHILD_ENV, close_fds=True)
    os.close(child)
    seen, start = b"", time.monotonic()
    try:
        while not re.search(rb"\repoch 1 \[", seen) and time.monotonic() - start < 20:
            ready, _, _ = select.select([main], [], [], 1)
            if ready:
                seen += os.read(main, 4096)
    finally:
        proc.kill()
        proc.wait()
        os.close(main)
    assert re.search(rb"\repoch 1 \[#* *\] \d+/157", seen), seen.decode("utf-8", "replace")[-500:]
