"""P23 损失函数与反向传播 (Loss functions and backpropagation): the loss of Tudui, and backward()

    python lessons/p23_nn_loss_network.py              # add --quick for a 3-batch smoke run
    tensorboard --logdir logs/p23_nn_loss_network      # then open http://localhost:6006

The course's nn_loss_network.py: CIFAR-10 test images go through Tudui, CrossEntropyLoss compares
its 10 scores with the true classes, and `result_loss.backward()` works out, for every weight, how
the loss changes when that weight changes: its gradient, stored in `weight.grad`. Before the first
backward() every `.grad` is None; after it they are filled, which the script prints for the first
convolution (the gradient's norm). No weight changes here: that is the optimizer's job (P24).

TensorBoard:
  SCALARS     cross_entropy    the loss of each batch (random weights: about ln(10) = 2.30)
              grad_norm_conv1  the norm of the first convolution's gradient
  HISTOGRAMS  grad/model.0.weight ... grad/model.8.bias   every layer's gradients, per step

Differences from the course's nn_loss_network.py: batches of 64 instead of 1 (`--batch-size 1`
is the course's), `--steps` batches instead of all 10,000 images, and `tudui.zero_grad()` before
each backward(): backward() adds to `.grad`, so without it the gradients of all batches pile up.
"""
import torch
from torch import nn

from kit import common
from kit.data import load_data
from model import Tudui


def main(argv=None):
    p = common.parser(__doc__)
    p.add_argument("--steps", type=common.positive_int, default=10, help="batches to run (default: 10)")
    args = p.parse_args(argv)
    steps = 3 if args.quick else args.steps
    common.seed_everything(args.seed)
    device = common.get_device(args.device)

    data = load_data(args)
    dataloader = data.test_loader  # the course uses the test images, in order
    loss = nn.CrossEntropyLoss()
    tudui = Tudui().to(device)
    conv1 = tudui.model[0]
    print(f"before backward(): model.0.weight.grad is {conv1.weight.grad}")

    with common.writer("p23_nn_loss_network", args, synthetic=data.synthetic) as writer:
        for step, (imgs, targets) in enumerate(dataloader):
            if step == steps:
                break
            imgs, targets = imgs.to(device), targets.to(device)
            outputs = tudui(imgs)                   # (64, 3, 32, 32) -> (64, 10) raw scores
            result_loss = loss(outputs, targets)    # (64, 10) and (64,) -> one number, the batch's mean
            tudui.zero_grad()                       # start from empty .grad (backward() adds to it)
            result_loss.backward()                  # fills .grad of every weight
            grad_norm = conv1.weight.grad.norm().item()
            print(f"step {step}: loss {result_loss.item():.4f}, model.0.weight.grad {tuple(conv1.weight.grad.shape)} "
                  f"norm {grad_norm:.4f}")
            writer.add_scalar("cross_entropy", result_loss.item(), step)
            writer.add_scalar("grad_norm_conv1", grad_norm, step)
            for name, param in tudui.named_parameters():
                writer.add_histogram(f"grad/{name}", param.grad, step)
        common.tensorboard_hint(writer)


if __name__ == "__main__":
    common.run(main)
