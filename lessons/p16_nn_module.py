"""P16 神经网络的基本骨架-nn.Module的使用 (The skeleton of a network: nn.Module)

    python lessons/p16_nn_module.py
    tensorboard --logdir logs/p16_nn_module    # then open http://localhost:6006

Every network is a subclass of nn.Module: __init__ builds its layers (none yet), forward() says
what happens to the input. Here forward adds 1, so 1.0 -> 2.0.
You never call forward() yourself: `tudui(x)` goes through nn.Module.__call__, which runs any
hooks and then forward(). The script shows the difference with a hook that prints a line.

TensorBoard, GRAPHS tab: the traced forward, a single add between the input and the output.

Differences from the course's nn_module.py:
  - added the forward hook, to show what __call__ does around forward()
  - added the graph in TensorBoard (the course only prints the output)
"""
import warnings

import torch
from torch import nn

from kit import common


class Tudui(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, input):
        output = input + 1
        return output


def main(argv=None):
    args = common.parser(__doc__, data=False).parse_args(argv)
    common.seed_everything(args.seed)
    device = common.get_device(args.device)

    tudui = Tudui().to(device)
    x = torch.tensor(1.0, device=device)
    output = tudui(x)  # nn.Module.__call__ -> tudui.forward(x)
    print(output)
    print(f"tudui(x): {x.item()} -> {output.item()}")

    # why tudui(x) and not tudui.forward(x): hooks (used by tools, e.g. to log activations) run only in __call__
    tudui.register_forward_hook(lambda module, inputs, out: print(f"  hook: forward returned {out.item()}"))
    print("calling tudui(x):")
    tudui(x)
    print("calling tudui.forward(x):")
    tudui.forward(x)
    print("  (no hook line: forward() alone skips what __call__ adds)")

    with common.writer("p16_nn_module", args) as writer:
        with warnings.catch_warnings():  # add_graph traces with torch.jit.trace, which warns it is deprecated
            warnings.simplefilter("ignore", FutureWarning)
            writer.add_graph(Tudui().to(device), x)  # a fresh Tudui, without the printing hook
        common.tensorboard_hint(writer)


if __name__ == "__main__":
    common.run(main)
