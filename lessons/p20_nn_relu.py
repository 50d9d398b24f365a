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
from kit import board, console, datasets, flags  # before torch: a Ctrl-C while torch loads is then one line
from kit.i18n import _

import torch
import torchvision
from torch import nn
from torch.nn import MaxPool2d, ReLU, Sigmoid
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter


class Tudui(nn.Module):
    def __init__(self):
        super().__init__()
        self.relu1 = ReLU()
        self.sigmoid1 = Sigmoid()

    def forward(self, input):
        output = self.sigmoid1(input)
        return output


def main(argv=None):
    args = flags.parse(flags.parser(__doc__, steps=(10, 3), seed=False), argv)

    input = torch.tensor([[1, -0.5],
                          [-1, 3]], device=args.device)

    input = torch.reshape(input, (-1, 1, 2, 2))  # (2, 2) -> (1, 1, 2, 2)
    print(input.shape)

    dataset = datasets.CIFAR10(args, train=False, transform=torchvision.transforms.ToTensor())

    dataloader = DataLoader(dataset, batch_size=args.batch_size, **datasets.loader_options(args.num_workers))

    tudui = Tudui().to(args.device)
    print(f"ReLU:    {as_list(tudui.relu1(input))}")
    print(f"Sigmoid: {as_list(tudui(input))}")
    shapes_and_inplace(input)  # beyond the course: the bare (2, 2) matrix, and inplace=True

    with SummaryWriter(board.run_dir("p20_nn_relu", args)) as writer:
        step = 0
        for data in dataloader:
            imgs, targets = data
            imgs = imgs.to(args.device)
            writer.add_images("input", imgs, global_step=step)
            output = tudui(imgs)  # Sigmoid; the shape stays (64, 3, 32, 32)
            writer.add_images("output", output, step)
            writer.add_images("output_relu", tudui.relu1(imgs), step)  # beyond the course: ReLU on the images
            step += 1
            if step == args.steps:  # --steps: the course logs every batch
                break
        changed = (tudui.relu1(imgs) != imgs).sum().item()
        print(_("images: ReLU changed {changed} of {n} values (pixels are >= 0); Sigmoid's output lies in "
                "[{lo:.2f}, {hi:.2f}]").format(changed=changed, n=imgs.numel(), lo=output.min(), hi=output.max()))

        for i in range(-60, 61):  # beyond the course: the two functions, x from -6 to 6 in steps of 0.1
            x = torch.tensor(i / 10)
            writer.add_scalar("relu_curve", tudui.relu1(x).item(), i)
            writer.add_scalar("sigmoid_curve", tudui.sigmoid1(x).item(), i)
    board.tensorboard_hint(writer)


def as_list(t):
    """The (H, W) matrix of a (1, 1, H, W) or (H, W) tensor as a list, rounded for printing."""
    return [[round(v, 4) for v in row] for row in t.reshape(t.shape[-2:]).tolist()]


def shapes_and_inplace(input):
    # the bare (2, 2) matrix, no batch or channel dimension: fine for ReLU, too few dimensions for pooling
    bare = input.reshape(2, 2)
    print(_("ReLU on the bare (2, 2) matrix: {output} (element by element: any shape)").format(
        output=as_list(ReLU()(bare))))
    try:
        MaxPool2d(2)(bare)
    except RuntimeError as e:
        print(_("MaxPool2d(2) on it: RuntimeError: {error} (it wants (N, C, H, W), or (C, H, W) for one image)")
              .format(error=str(e).splitlines()[0]))

    # inplace: does the input survive?
    x = input.clone()
    out = ReLU(inplace=False)(x)
    print(_("inplace=False: output {output}, input kept {input}").format(output=as_list(out), input=as_list(x)))
    out = ReLU(inplace=True)(x)
    print(_("inplace=True: output {output}, input overwritten {input} (the same tensor: {same})").format(
        output=as_list(out), input=as_list(x), same=out is x))


if __name__ == "__main__":
    console.run(main)
