"""P17 卷积操作 (The convolution operation: F.conv2d)

    python lessons/p17_nn_conv.py
    tensorboard --logdir logs/p17_nn_conv

The note's 5x5 input and 3x3 kernel: the kernel slides over the input, `stride` cells at a time, and
each output number is the sum of the 9 products under it; `padding` adds a border of zeros first.
Printed: output (stride 1), output2 (stride 2), output3 (padding 1), each checked against the size
formula out = (in + 2 * padding - kernel) // stride + 1.
TensorBoard, TEXT: input, kernel, output, output2, output3, each as a table (row and column numbers).
Differences from the course's nn_conv.py:
  - float32 matrices, not integers: layers are float (P18), and not every device convolves integers
  - each output is followed by its size check; the TEXT tables are added
"""
from kit import board, console, flags  # before torch: a Ctrl-C while torch loads is then one line
from kit.i18n import _

import torch
import torch.nn.functional as F
from torch.utils.tensorboard import SummaryWriter


def main(argv=None):
    args = flags.parse(flags.parser(__doc__, data=False, seed=False, quick=False), argv)

    input = torch.tensor([[1, 2, 0, 3, 1],
                          [0, 1, 2, 3, 1],
                          [1, 2, 1, 0, 0],
                          [5, 2, 3, 1, 1],
                          [2, 1, 0, 1, 1]], dtype=torch.float32, device=args.device)

    kernel = torch.tensor([[1, 2, 1],
                           [0, 1, 0],
                           [2, 1, 0]], dtype=torch.float32, device=args.device)

    # conv2d wants the input as (batch, channels, H, W) and the kernel as (out_channels, in_channels, kH, kW)
    input = torch.reshape(input, (1, 1, 5, 5))    # (5, 5) -> (1, 1, 5, 5)
    kernel = torch.reshape(kernel, (1, 1, 3, 3))  # (3, 3) -> (1, 1, 3, 3)

    print(input.shape)
    print(kernel.shape)

    output = F.conv2d(input, kernel, stride=1)  # (1, 1, 5, 5) -> (1, 1, 3, 3)
    print(output)
    size_check(output, stride=1, padding=0)

    output2 = F.conv2d(input, kernel, stride=2)  # (1, 1, 5, 5) -> (1, 1, 2, 2)
    print(output2)
    size_check(output2, stride=2, padding=0)

    output3 = F.conv2d(input, kernel, stride=1, padding=1)  # (1, 1, 5, 5) -> (1, 1, 5, 5)
    print(output3)
    size_check(output3, stride=1, padding=1)

    # beyond the course: the five matrices as tables in TensorBoard's TEXT tab
    with SummaryWriter(board.run_dir("p17_nn_conv", args)) as writer:
        for name, matrix in (("input", input), ("kernel", kernel), ("output", output), ("output2", output2),
                             ("output3", output3)):
            writer.add_text(name, markdown_table(matrix[0, 0]))
    board.tensorboard_hint(writer)


def size_check(output, stride, padding, size_in=5, kernel_size=3):
    """The output-size formula, worked out, beside the size conv2d gave."""
    size = (size_in + 2 * padding - kernel_size) // stride + 1
    print(_("  size: ({n} + 2*{padding} - {k}) // {stride} + 1 = {size}; conv2d gave {h}x{w}").format(
        n=size_in, padding=padding, k=kernel_size, stride=stride, size=size, h=output.shape[-2], w=output.shape[-1]))


def markdown_table(matrix):
    """A (H, W) tensor as a markdown table for the TEXT tab: column numbers on top, row numbers down the left."""
    rows = matrix.int().tolist()
    lines = ["|   | " + " | ".join(str(c) for c in range(len(rows[0]))) + " |", "|---" * (len(rows[0]) + 1) + "|"]
    lines += [f"| **{r}** | " + " | ".join(str(v) for v in row) + " |" for r, row in enumerate(rows)]
    return "\n".join(lines)


if __name__ == "__main__":
    console.run(main)
