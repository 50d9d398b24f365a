import re

import pytest

from conftest import tb_scalars, tb_tags


def test_backward_fills_gradients_and_logs_histograms(run_lesson):
    out, runs = run_lesson("p23_nn_loss_network", "--steps", "5")
    assert "before backward(): model.0.weight.grad is None" in out
    steps = re.findall(r"step (\d): loss ([\d.]+), model\.0\.weight\.grad \(32, 3, 5, 5\) norm ([\d.]+)", out)
    assert [s[0] for s in steps] == ["0", "1", "2"]  # --quick: 3 batches
    for _, loss, norm in steps:
        assert 2.0 < float(loss) < 2.6  # random weights: about ln(10) = 2.30
        assert float(norm) > 0
    assert len(runs) == 1 and runs[0].name.endswith("-synthetic")
    tags = tb_tags(runs[0])
    assert {"grad/model.0.weight", "grad/model.8.bias"} <= set(tags["histograms"])
    assert len([t for t in tags["histograms"] if t.startswith("grad/")]) == 10
    assert [step for step, _ in tb_scalars(runs[0], "cross_entropy")] == [0, 1, 2]
    norms = [v for _, v in tb_scalars(runs[0], "grad_norm_conv1")]
    assert norms == pytest.approx([float(s[2]) for s in steps], abs=1e-4)
