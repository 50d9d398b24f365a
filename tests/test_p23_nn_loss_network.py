import pytest

from conftest import events


def test_backward_fills_gradients_and_logs_histograms(run_lesson):
    r = run_lesson("p23_nn_loss_network", "--steps", "5")
    assert "model.0.weight.grad is None" in r.out  # before backward()
    assert r.numbers("step") == [0, 1, 2]  # --quick: 3 batches
    losses, norms = r.numbers(": loss"), r.numbers("norm")
    assert all(2.0 < loss < 2.6 for loss in losses)  # random weights: about ln(10) = 2.30
    assert len(norms) == 3 and all(n > 0 for n in norms) and "grad (32, 3, 5, 5)" in r.out

    assert len(r.runs) == 1 and r.runs[0].name.endswith("-synthetic")
    board = events(r.runs[0])
    grads = [t for t in board.tags("histograms") if t.startswith("grad/")]
    assert len(grads) == 10 and {"grad/model.0.weight", "grad/model.8.bias"} <= set(grads)
    assert [step for step, _ in board.scalars("cross_entropy")] == [0, 1, 2]
    assert [v for _, v in board.scalars("grad_norm_conv1")] == pytest.approx(norms, abs=1e-4)
