"""P16 神经网络的基本骨架-nn.Module的使用 (The skeleton of a network: nn.Module)

    python lessons/p16_nn_module.py
    tensorboard --logdir logs/p16_nn_module

Every network subclasses nn.Module: __init__ builds its layers (none yet), forward() says what
happens to the input (here: add 1). Call the module, tudui(x), not tudui.forward(x):
nn.Module.__call__ runs the hooks, then forward().
Printed: tensor(2.), as in the course; then a forward hook's line, which appears for tudui(x) only.
TensorBoard, GRAPHS: the traced forward, one add between the input and the output.
Differences from the course's nn_module.py: the hook and the graph are added.
"""
import warnings

from kit import board, console, flags  # before torch: a Ctrl-C while torch loads is then one line
from kit.i18n import _

import torch
from torch import nn
from torch.utils.tensorboard import SummaryWriter


class Tudui(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, input):
        output = input + 1
        return output


def main(argv=None):
    args = flags.parse(flags.parser(__doc__, data=False, device=False, seed=False, quick=False), argv)

    tudui = Tudui()
    x = torch.tensor(1.0)
    output = tudui(x)  # nn.Module.__call__ -> tudui.forward(x)
    print(output)

    # why tudui(x) and not tudui.forward(x): hooks (used by tools, e.g. to log activations) run only in __call__
    tudui.register_forward_hook(lambda module, inputs, out: print(_("  hook: forward returned {value}").format(
        value=out.item())))
    print(_("calling tudui(x):"))
    tudui(x)
    print(_("calling tudui.forward(x):"))
    tudui.forward(x)
    print(_("  (no hook line: forward() alone skips what __call__ adds)"))

    with SummaryWriter(board.run_dir("p16_nn_module", args)) as writer:
        with warnings.catch_warnings():  # add_graph traces with torch.jit.trace, which warns it is deprecated
            warnings.simplefilter("ignore", FutureWarning)
            writer.add_graph(Tudui(), x)  # a fresh Tudui, without the printing hook
    board.tensorboard_hint(writer)


if __name__ == "__main__":
    console.run(main)
