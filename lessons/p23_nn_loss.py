"""P23 损失函数与反向传播 (Loss functions and backpropagation): L1Loss, MSELoss, CrossEntropyLoss

    python lessons/p23_nn_loss.py
    tensorboard --logdir logs/p23_nn_loss

Printed, for the prediction [1, 2, 3] against the target [1, 2, 5]: L1Loss |1-1| + |2-2| + |3-5| = 2.0
with reduction='sum' (0.6667 with the default 'mean'), MSELoss (0 + 0 + 2**2) / 3 = 1.3333; then
CrossEntropyLoss of the scores [0.1, 0.2, 0.3] for class 1, 1.1019, and by the note's formula
-x[class] + ln(sum_j e^x[j]); then its shape rules: raw scores (N, C), targets (N,) of int64 class
indices, and PyTorch's own error for each wrong target.
TensorBoard, SCALARS: l1_loss, mse_loss as one prediction passes the target (a V and a parabola;
the target is at step 30); cross_entropy as the true class's score rises: towards 0, never 0.
Differences from the course's nn_loss.py: the 'mean' L1Loss, the formula, the shape rules and the
curves are added.
"""
import math

from kit import board, console, flags  # before torch: a Ctrl-C while torch loads is then one line
from kit.i18n import _

import torch
from torch.nn import L1Loss
from torch import nn
from torch.utils.tensorboard import SummaryWriter


def cross_entropy_by_hand(x, target):
    """The note's formula for one sample: -x[class] + log(sum_j exp(x[j]))."""
    return -x[target] + math.log(sum(math.exp(v) for v in x))


def main(argv=None):
    args = flags.parse(flags.parser(__doc__, data=False, device=False, seed=False, quick=False), argv)

    inputs = torch.tensor([1, 2, 3], dtype=torch.float32)  # losses need floats: an int tensor fails in L1Loss
    targets = torch.tensor([1, 2, 5], dtype=torch.float32)

    inputs = torch.reshape(inputs, (1, 1, 1, 3))  # (3,) -> (1, 1, 1, 3): batch, channel, height, width
    targets = torch.reshape(targets, (1, 1, 1, 3))

    loss = L1Loss(reduction='sum')
    result = loss(inputs, targets)

    loss_mse = nn.MSELoss()
    result_mse = loss_mse(inputs, targets)

    print(result)      # tensor(2.): |1-1| + |2-2| + |3-5|
    print(result_mse)  # tensor(1.3333): (0 + 0 + 2**2) / 3
    result_mean = L1Loss()(inputs, targets)  # reduction='mean', the default: 2 / 3
    print(_("L1Loss(reduction='mean') = {value}").format(value=round(result_mean.item(), 4)))

    x = torch.tensor([0.1, 0.2, 0.3])
    y = torch.tensor([1])
    x = torch.reshape(x, (1, 3))  # (3,) -> (1, 3): N=1 sample, C=3 classes
    loss_cross = nn.CrossEntropyLoss()
    result_cross = loss_cross(x, y)
    print(result_cross)
    by_hand = cross_entropy_by_hand([0.1, 0.2, 0.3], 1)
    print(_("by hand: {value} = -0.2 + ln(e^0.1 + e^0.2 + e^0.3), the note's -x[class] + ln(sum_j e^x[j])").format(
        value=round(by_hand, 4)))

    print()
    print(_("CrossEntropyLoss shape rules: input (N, C) raw scores, target (N,) class indices (int64)"))
    shape_rules(loss_cross)

    with SummaryWriter(board.run_dir("p23_nn_loss", args)) as writer:
        target = torch.tensor([0.0])
        for step in range(61):  # the prediction goes from -3 to +3; the target is 0, at step 30
            prediction = torch.tensor([(step - 30) / 10])
            writer.add_scalar("l1_loss", L1Loss()(prediction, target).item(), step)
            writer.add_scalar("mse_loss", nn.MSELoss()(prediction, target).item(), step)
            scores = torch.tensor([[0.1, (step - 30) / 10, 0.3]])  # class 1's score rises from -3 to +3
            writer.add_scalar("cross_entropy", loss_cross(scores, y).item(), step)
    board.tensorboard_hint(writer)


def shape_rules(loss_cross):
    x = torch.tensor([[0.1, 0.2, 0.3]])  # (1, 3)
    cases = [
        ("target tensor([1])", torch.tensor([1]), _("right: one class index per sample")),
        ("target tensor([[1]])", torch.tensor([[1]]),
         _("the target must be (N,), not (N, 1): use target.squeeze(1) or target.view(-1)")),
        ("target tensor([1.])", torch.tensor([1.0]), _("a class index must be an integer (int64): use target.long()")),
        ("target tensor([1, 2])", torch.tensor([1, 2]), _("one target per sample: N must be the same in both")),
        ("target tensor([3])", torch.tensor([3]), _("3 classes means indices 0, 1, 2")),
        ("target [[0., 1., 0.]] (N, C)", torch.tensor([[0.0, 1.0, 0.0]]),
         _("also allowed: floats of shape (N, C) are class probabilities; one-hot gives the same loss")),
    ]
    scores = _("(1, 3) scores")
    for text, target, why in cases:
        try:
            value = loss_cross(x, target)
            print(f"  {scores}, {text:28} -> {round(value.item(), 4)}   ({why})")
        except (RuntimeError, ValueError, IndexError) as e:
            print(f"  {scores}, {text:28} -> {type(e).__name__}: {str(e).splitlines()[0]}\n      ({why})")


if __name__ == "__main__":
    console.run(main)
