"""P17 卷积操作 (The convolution operation: F.conv2d)

    python lessons/p17_nn_conv.py
    tensorboard --logdir logs/p17_nn_conv

The note's 5x5 input and 3x3 kernel: the kernel slides over the input, `stride` cells at a time, and
each output number is the sum of the 9 products under it; `padding` adds a border of zeros first.
Printed: output (stride 1), output2 (stride 2), output3 (padding 1), each checked against the size
formula out = (in + 2 * padding - kernel) // stride + 1.
TensorBoard, TEXT: input, kernel, output, output2, output3, each as a table.
Differences from the course's nn_conv.py:
  - float32 matrices, not integers: layers are float (P18), and not every device convolves integers
  - the results print as lists with the size check, not as raw tensors; the TEXT tables are added
"""
from kit import common  # before torch: a Ctrl-C while torch loads is then one line

import torch
import torch.nn.functional as F


def markdown_table(matrix):
    """A (H, W) tensor as a markdown table, for TensorBoard's TEXT tab."""
    rows = matrix.int().tolist()
    lines = ["| " + " | ".join(" " for _ in rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def show(writer, name, output, stride, padding, size_in=5, kernel_size=3):
    """Print the result as a list, check the output-size formula against it, log it as a table."""
    print(f"{name} (stride={stride}, padding={padding}): {output[0, 0].int().tolist()}")  # whole numbers
    size = (size_in + 2 * padding - kernel_size) // stride + 1
    verdict = "matches" if output.shape[-2:] == (size, size) else "DOES NOT match"
    print(f"  size: ({size_in} + 2*{padding} - {kernel_size}) // {stride} + 1 = {size}, "
          f"{verdict} {tuple(output.shape[-2:])}")
    writer.add_text(name, markdown_table(output[0, 0]))


def main(argv=None):
    args = common.parser(__doc__, data=False).parse_args(argv)
    device = common.get_device(args.device)

    input = torch.tensor([[1, 2, 0, 3, 1],
                          [0, 1, 2, 3, 1],
                          [1, 2, 1, 0, 0],
                          [5, 2, 3, 1, 1],
                          [2, 1, 0, 1, 1]], dtype=torch.float32, device=device)
    kernel = torch.tensor([[1, 2, 1],
                           [0, 1, 0],
                           [2, 1, 0]], dtype=torch.float32, device=device)

    # conv2d wants the input as (batch, channels, H, W) and the kernel as (out_channels, in_channels, kH, kW)
    input = torch.reshape(input, (1, 1, 5, 5))    # (5, 5) -> (1, 1, 5, 5)
    kernel = torch.reshape(kernel, (1, 1, 3, 3))  # (3, 3) -> (1, 1, 3, 3)
    print(input.shape)
    print(kernel.shape)

    with common.writer("p17_nn_conv", args) as writer:
        writer.add_text("input", markdown_table(input[0, 0]))
        writer.add_text("kernel", markdown_table(kernel[0, 0]))

        output = F.conv2d(input, kernel, stride=1)  # (1, 1, 5, 5) -> (1, 1, 3, 3)
        show(writer, "output", output, stride=1, padding=0)

        output2 = F.conv2d(input, kernel, stride=2)  # (1, 1, 5, 5) -> (1, 1, 2, 2)
        show(writer, "output2", output2, stride=2, padding=0)

        output3 = F.conv2d(input, kernel, stride=1, padding=1)  # (1, 1, 5, 5) -> (1, 1, 5, 5)
        show(writer, "output3", output3, stride=1, padding=1)

        common.tensorboard_hint(writer)


if __name__ == "__main__":
    common.run(main)
