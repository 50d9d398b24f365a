import math
import re

import torch

from conftest import events
from p23_nn_loss import cross_entropy_by_hand


def test_the_notes_values_shape_rules_and_curves(run_lesson):
    r = run_lesson("p23_nn_loss", quick=False, dataset=None)
    assert r.lines("tensor(") == ["tensor(2.)", "tensor(1.3333)", "tensor(1.1019)"]  # the course's three prints
    assert r.number("L1Loss(reduction='mean')") == 0.6667
    assert r.number("by hand:") == 1.1019  # the note's formula gives PyTorch's CrossEntropyLoss, for any scores:
    x, pytorch = [2.0, -1.0, 0.5, 0.0], torch.nn.CrossEntropyLoss()
    assert math.isclose(cross_entropy_by_hand(x, 2), pytorch(torch.tensor([x]), torch.tensor([2])).item(), rel_tol=1e-6)

    # the shape rules: the right calls give the loss, each wrong one PyTorch's own error
    rules = dict(re.findall(r"scores, (target .*?) +-> (\S+)", r.out))
    assert rules == {"target tensor([1])": "1.1019", "target tensor([[1]])": "RuntimeError:",
                     "target tensor([1.])": "RuntimeError:", "target tensor([1, 2])": "ValueError:",
                     "target tensor([3])": "IndexError:", "target [[0., 1., 0.]] (N, C)": "1.1019"}

    board = events(r.runs[-1])
    l1, mse = dict(board.scalars("l1_loss")), dict(board.scalars("mse_loss"))
    assert l1[30] == 0 and mse[30] == 0  # the prediction equals the target at step 30
    assert math.isclose(l1[0], 3.0, rel_tol=1e-6) and math.isclose(mse[0], 9.0, rel_tol=1e-6)
    cross = [v for _, v in board.scalars("cross_entropy")]
    assert len(cross) == 61 and all(a > b > 0 for a, b in zip(cross, cross[1:]))  # towards 0, never 0
