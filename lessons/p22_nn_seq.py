"""P22 神经网络-搭建小实战和Sequential的使用 (Building the CIFAR-10 model with Sequential)

    python lessons/p22_nn_seq.py
    tensorboard --logdir logs/p22_nn_seq

Tudui, the course's CIFAR-10 network: three Conv2d(kernel 5) + MaxPool2d(2) pairs, Flatten and two
Linear layers in one Sequential, so forward() is one line. padding=2 keeps 32x32: (32 + 2*2 - 5) + 1
= 32; after three poolings 64 channels of 4x4 are left, 64 * 4 * 4 = 1024 inputs for Linear(1024, 64).
Printed: Tudui; the output shape for torch.ones((64, 3, 32, 32)); the shape after each layer and
its parameters, 145,578 in all.
TensorBoard, GRAPHS: the model; double-click the Tudui box to follow the shapes.
Differences from the course's nn_seq.py: the Sequential is `self.model`, not `model1`, as in its P27
model.py, so the state_dict keys are those of the later lessons (checkpoint loading accepts both);
the per-layer shapes and the parameter count are added.
"""
import warnings

from kit import board, console, flags  # before torch: a Ctrl-C while torch loads is then one line
from kit.i18n import _

import torch
from torch import nn
from torch.nn import Conv2d, MaxPool2d, Flatten, Linear, Sequential
from torch.utils.tensorboard import SummaryWriter


class Tudui(nn.Module):
    # the same network as lessons/model.py, which the later lessons import; tests/test_p22_nn_seq.py keeps them equal
    def __init__(self):
        super().__init__()
        self.model = Sequential(  # the course: self.model1; self.model is the name its P27 model.py uses
            Conv2d(3, 32, 5, padding=2),   # (64, 3, 32, 32) -> (64, 32, 32, 32)
            MaxPool2d(2),                  # -> (64, 32, 16, 16)
            Conv2d(32, 32, 5, padding=2),  # -> (64, 32, 16, 16)
            MaxPool2d(2),                  # -> (64, 32, 8, 8)
            Conv2d(32, 64, 5, padding=2),  # -> (64, 64, 8, 8)
            MaxPool2d(2),                  # -> (64, 64, 4, 4)
            Flatten(),                     # -> (64, 1024)
            Linear(1024, 64),              # -> (64, 64)
            Linear(64, 10),                # -> (64, 10)
        )

    def forward(self, x):
        x = self.model(x)
        return x


def main(argv=None):
    args = flags.parse(flags.parser(__doc__, data=False, device=False, seed=False, quick=False), argv)

    tudui = Tudui()
    print(tudui)
    input = torch.ones((64, 3, 32, 32))
    output = tudui(input)  # (64, 3, 32, 32) -> (64, 10): ten class scores per image
    print(output.shape)

    # the same, one layer at a time: the shape after each, and how many numbers each layer learns
    x = input
    for name, layer in tudui.model.named_children():
        x = layer(x)
        params = sum(p.numel() for p in layer.parameters())
        print(f"  model.{name} {type(layer).__name__:9} -> {str(tuple(x.shape)):17} "
              + _("{n:6,} parameters").format(n=params))
    total = sum(p.numel() for p in tudui.parameters())
    print(_("parameters: {total:,}").format(total=total))

    with SummaryWriter(board.run_dir("p22_nn_seq", args)) as writer:
        with warnings.catch_warnings():  # add_graph traces with torch.jit.trace, which warns it is deprecated
            warnings.simplefilter("ignore", FutureWarning)
            writer.add_graph(tudui, input)
    board.tensorboard_hint(writer)


if __name__ == "__main__":
    console.run(main)
