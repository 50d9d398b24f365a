"""P20 神经网络-非线性激活 (Non-linear activations: ReLU, Sigmoid)

    python lessons/p20_nn_relu.py            # --quick: 3 batches
    tensorboard --logdir logs/p20_nn_relu

Activations bring non-linearity: without them, stacked layers collapse into one linear map.
Printed, on the note's [[1, -0.5], [-1, 3]]: ReLU(x) = max(0, x), Sigmoid(x) = 1 / (1 + e^-x);
inplace=True overwrites the input (saves memory, loses it), the default inplace=False keeps it.
The note wants a batch dimension, the docs give ReLU any shape (*): both hold. ReLU acts element by
element on any shape; conv and pooling layers want (N, C, H, W), made by the course's reshape(-1, 1, 2, 2).
TensorBoard: IMAGES input, output (Sigmoid: washed out), output_relu (unchanged: pixels are >= 0);
SCALARS relu_curve, sigmoid_curve, the functions themselves (step = 10 * x).
Differences from the course's nn_relu.py: ReLU is printed next to Sigmoid (its forward() has Sigmoid
only); inplace, the bare (2, 2) matrix, output_relu and the curves are added; --steps batches
(default 10; the course logs all 157).
"""
from kit import common  # before torch: a Ctrl-C while torch loads is then one line
from kit.data import load_data

import torch
from torch import nn
from torch.nn import MaxPool2d, ReLU, Sigmoid


class Tudui(nn.Module):
    def __init__(self):
        super().__init__()
        self.relu1 = ReLU()
        self.sigmoid1 = Sigmoid()

    def forward(self, input):
        output = self.sigmoid1(input)
        return output


def as_list(t):
    """The (H, W) matrix of a (1, 1, H, W) or (H, W) tensor as a list, rounded for printing."""
    return [[round(v, 4) for v in row] for row in t.reshape(t.shape[-2:]).tolist()]


def main(argv=None):
    p = common.parser(__doc__)
    p.add_argument("--steps", type=common.positive_int, default=10, help="batches to run (default: 10)")
    args = p.parse_args(argv)
    steps = 3 if args.quick else args.steps
    common.seed_everything(args.seed)
    device = common.get_device(args.device)

    input = torch.tensor([[1, -0.5],
                          [-1, 3]], device=device)
    input = torch.reshape(input, (-1, 1, 2, 2))  # (2, 2) -> (1, 1, 2, 2)
    print(input.shape)

    tudui = Tudui().to(device)
    print(f"ReLU:    {as_list(tudui.relu1(input))}")
    print(f"Sigmoid: {as_list(tudui(input))}")

    # the bare (2, 2) matrix, no batch or channel dimension: fine for ReLU, too few dimensions for pooling
    bare = input.reshape(2, 2)
    print(f"ReLU on the bare (2, 2) matrix: {as_list(tudui.relu1(bare))} (element by element: any shape)")
    try:
        MaxPool2d(2)(bare)
    except RuntimeError as e:
        print(f"MaxPool2d(2) on it: RuntimeError: {str(e).splitlines()[0]} "
              "(it wants (N, C, H, W), or (C, H, W) for one image)")

    # inplace: does the input survive?
    x = input.clone()
    out = ReLU(inplace=False)(x)
    print(f"inplace=False: output {as_list(out)}, input kept        {as_list(x)}")
    out = ReLU(inplace=True)(x)
    print(f"inplace=True:  output {as_list(out)}, input overwritten {as_list(x)} (the same tensor: {out is x})")

    data = load_data(args)
    with common.writer("p20_nn_relu", args, synthetic=data.synthetic) as writer:
        for step, (imgs, targets) in enumerate(data.test_loader):
            if step == steps:
                break
            imgs = imgs.to(device)
            output = tudui(imgs)  # Sigmoid; the shape stays (64, 3, 32, 32)
            output_relu = tudui.relu1(imgs)
            if step == 0:
                changed = (output_relu != imgs).sum().item()
                print(f"images: ReLU changed {changed} of {imgs.numel()} values (pixels are >= 0); "
                      f"Sigmoid's output lies in [{output.min().item():.2f}, {output.max().item():.2f}]")
            writer.add_images("input", imgs, global_step=step)
            writer.add_images("output", output, step)
            writer.add_images("output_relu", output_relu, step)

        for step in range(-60, 61):  # x from -6 to 6 in steps of 0.1
            x = torch.tensor(step / 10)
            writer.add_scalar("relu_curve", tudui.relu1(x).item(), step)
            writer.add_scalar("sigmoid_curve", tudui.sigmoid1(x).item(), step)
        common.tensorboard_hint(writer)


if __name__ == "__main__":
    common.run(main)
