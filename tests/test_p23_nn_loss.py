import math

from conftest import tb_scalars, tb_tags


def test_prints_the_notes_values(run_lesson):
    out, runs = run_lesson("p23_nn_loss", dataset=None)
    assert "L1Loss(reduction='sum')  = 2.0 " in out
    assert "L1Loss(reduction='mean') = 0.6667 " in out
    assert "MSELoss()                = 1.3333 " in out
    assert "CrossEntropyLoss([0.1, 0.2, 0.3], target 1) = 1.1019 " in out
    assert "-0.2 + ln(e^0.1 + e^0.2 + e^0.3)   = 1.1019" in out
    assert "equal: True" in out
    assert "tensor(2.)" in out  # the course's printout, next to the number

    # the shape rules: the right call, and each wrong one caught with PyTorch's own error
    assert "target tensor([1])           -> 1.1019" in out
    assert "target tensor([[1]])         -> RuntimeError: 0D or 1D target tensor expected" in out
    assert "target tensor([1.])          -> RuntimeError: expected target dtype to be Long" in out
    assert "target tensor([1, 2])        -> ValueError: Expected input batch_size (1) to match target batch_size (2)" in out
    assert "target tensor([3])           -> IndexError: Target 3 is out of bounds" in out
    assert "target [[0., 1., 0.]] (N, C) -> 1.1019" in out

    assert len(runs) == 1
    assert {"l1_loss", "mse_loss", "cross_entropy"} <= set(tb_tags(runs[0])["scalars"])
    l1 = dict(tb_scalars(runs[0], "l1_loss"))
    mse = dict(tb_scalars(runs[0], "mse_loss"))
    assert l1[30] == 0 and mse[30] == 0  # the prediction equals the target at step 30
    assert math.isclose(l1[0], 3.0, rel_tol=1e-6) and math.isclose(mse[0], 9.0, rel_tol=1e-6)


def test_by_hand_formula_matches_pytorch():
    import torch
    from p23_nn_loss import cross_entropy_by_hand

    x, target = [2.0, -1.0, 0.5, 0.0], 2
    expected = torch.nn.CrossEntropyLoss()(torch.tensor([x]), torch.tensor([target])).item()
    assert math.isclose(cross_entropy_by_hand(x, target), expected, rel_tol=1e-6)
