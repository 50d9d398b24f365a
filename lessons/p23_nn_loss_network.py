"""P23 损失函数与反向传播 (Loss functions and backpropagation): Tudui's loss, and backward()

    python lessons/p23_nn_loss_network.py            # --quick: 3 batches
    tensorboard --logdir logs/p23_nn_loss_network

Test images go through Tudui; CrossEntropyLoss compares its 10 scores with the true class, and
result_loss.backward() (反向传播) gives every weight its gradient, in .grad: None before, filled after.
No weight changes yet: that is the optimizer's job (P24).
Printed: each batch's loss (random weights: about ln(10) = 2.30) and the first conv's gradient norm.
TensorBoard: SCALARS cross_entropy, grad_norm_conv1; HISTOGRAMS grad/model.0.weight ... grad/model.8.bias.
Differences from the course's nn_loss_network.py (one image at a time; it prints "ok"):
  - batches of 64 (--batch-size 1 is the course's), and --steps batches, not all 10,000 images
  - result_loss.backward() is called (the script stops at the loss), after tudui.zero_grad():
    backward() adds to .grad, so without it the gradients of all batches would pile up
  - Tudui comes from model.py: its Sequential is `model` (the course's script names it `model1`)
"""
from kit import board, console, datasets, flags  # before torch: a Ctrl-C while torch loads is then one line
from kit.i18n import _

import torchvision
from torch import nn
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter

from model import Tudui


def main(argv=None):
    args = flags.parse(flags.parser(__doc__, steps=(10, 3)), argv)

    dataset = datasets.CIFAR10(args, train=False, transform=torchvision.transforms.ToTensor())

    # the course: batch_size=1, one image per step; 64 at a time give the same mean loss with less noise
    dataloader = DataLoader(dataset, batch_size=args.batch_size, **datasets.loader_options(args.num_workers))

    loss = nn.CrossEntropyLoss()
    tudui = Tudui().to(args.device)
    conv1 = tudui.model[0]
    print(_("before backward(): model.0.weight.grad is {grad}").format(grad=conv1.weight.grad))

    with SummaryWriter(board.run_dir("p23_nn_loss_network", args)) as writer:
        step = 0
        for data in dataloader:
            imgs, targets = data
            imgs, targets = imgs.to(args.device), targets.to(args.device)
            outputs = tudui(imgs)                 # (64, 3, 32, 32) -> (64, 10) raw scores
            result_loss = loss(outputs, targets)  # (64, 10) and (64,) -> one number, the batch's mean
            tudui.zero_grad()                     # start from empty .grad (backward() adds to it)
            result_loss.backward()                # 反向传播: fills .grad of every weight
            grad_norm = conv1.weight.grad.norm().item()
            print(_("step {step}: loss {loss:.4f}, model.0.weight.grad {shape} norm {norm:.4f}").format(
                step=step, loss=result_loss.item(), shape=tuple(conv1.weight.grad.shape), norm=grad_norm))
            writer.add_scalar("cross_entropy", result_loss.item(), step)
            writer.add_scalar("grad_norm_conv1", grad_norm, step)
            for name, param in tudui.named_parameters():
                writer.add_histogram(f"grad/{name}", param.grad, step)
            step = step + 1
            if step == args.steps:
                break
    board.tensorboard_hint(writer)


if __name__ == "__main__":
    console.run(main)
