"""P22 神经网络-搭建小实战和Sequential的使用 (Building the CIFAR-10 model with Sequential)

    python lessons/p22_nn_seq.py
    tensorboard --logdir logs/p22_nn_seq    # then open http://localhost:6006

The course's CIFAR-10 network, Tudui: three Conv2d(kernel 5) + MaxPool2d(2) pairs, Flatten and two
Linear layers, written as one nn.Sequential so forward() is a single line. It lives in
lessons/model.py because every later lesson uses the same network.
padding=2 keeps 32x32 after a 5x5 kernel: out = (32 + 2 * padding - 5) // 1 + 1 = 32 -> padding = 2.
Linear(1024, 64): after three poolings 64 channels of 4x4 are left, 64 * 4 * 4 = 1024.
A batch of ones, torch.ones((64, 3, 32, 32)), checks that the shapes fit before any training.

TensorBoard, GRAPHS tab: the model; double-click the Tudui box to open it and follow the shapes.

Differences from the course's nn_seq.py:
  - Tudui is imported from model.py (`from model import Tudui`), shared by all later lessons
  - its Sequential is called `model`, as in the course's P27 model.py (nn_seq.py says `model1`),
    so the state_dict keys match the course's saved models
  - added the per-layer shapes and the parameter count
"""
import warnings

import torch

from kit import common
from model import Tudui


def main(argv=None):
    args = common.parser(__doc__, data=False).parse_args(argv)
    common.seed_everything(args.seed)
    device = common.get_device(args.device)

    tudui = Tudui().to(device)
    print(tudui)
    input = torch.ones((64, 3, 32, 32), device=device)
    output = tudui(input)  # (64, 3, 32, 32) -> (64, 10): ten class scores per image
    print(output.shape)

    # the same, one layer at a time: the shape after each, and how many numbers each layer learns
    x = input
    for name, layer in tudui.model.named_children():
        x = layer(x)
        params = sum(p.numel() for p in layer.parameters())
        print(f"  model.{name} {type(layer).__name__:9} -> {str(tuple(x.shape)):17} {params:6,} parameters")
    total = sum(p.numel() for p in tudui.parameters())
    print(f"parameters: {total:,}")

    with common.writer("p22_nn_seq", args) as writer:
        with warnings.catch_warnings():  # add_graph traces with torch.jit.trace, which warns it is deprecated
            warnings.simplefilter("ignore", FutureWarning)
            writer.add_graph(tudui, input)
        common.tensorboard_hint(writer)


if __name__ == "__main__":
    common.run(main)
