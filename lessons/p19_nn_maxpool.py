"""P19 神经网络-最大池化的使用 (Max pooling: nn.MaxPool2d)

    python lessons/p19_nn_maxpool.py            # --quick: 3 batches
    tensorboard --logdir logs/p19_nn_maxpool

MaxPool2d(kernel_size=3) keeps the largest number of each 3x3 window; stride defaults to kernel_size.
Pooling keeps the strong features and cuts the data: an image (3, 32, 32) becomes (3, 10, 10).
Printed, after the images, on the note's 5x5 matrix: ceil_mode=True keeps the windows that hang over
the edge -> [[2, 3], [5, 1]], ceil_mode=False drops them -> [[2]]; dilation=2 spreads a window's cells.
TensorBoard, IMAGES: input, and output after MaxPool2d(3): a coarse mosaic of the same pictures.
Differences from the course's nn_maxpool.py (it pools the images only, with ceil_mode=False):
  - the matrix is float32, as in the video: PyTorch then could not pool integers ('Long')
  - both ceil_mode results and a dilation example are printed in one run
  - --steps batches (default 10; the course logs all 157)
"""
from kit import board, console, datasets, flags  # before torch: a Ctrl-C while torch loads is then one line
from kit.i18n import _

import torch
import torchvision
from torch import nn
from torch.nn import MaxPool2d
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter


class Tudui(nn.Module):
    def __init__(self):
        super().__init__()
        self.maxpool1 = MaxPool2d(kernel_size=3, ceil_mode=False)

    def forward(self, input):
        output = self.maxpool1(input)
        return output


def main(argv=None):
    args = flags.parse(flags.parser(__doc__, steps=(10, 3), seed=False), argv)

    dataset = datasets.CIFAR10(args, train=False, transform=torchvision.transforms.ToTensor())

    dataloader = DataLoader(dataset, batch_size=args.batch_size, **datasets.loader_options(args.num_workers))

    tudui = Tudui().to(args.device)

    with SummaryWriter(board.run_dir("p19_nn_maxpool", args)) as writer:
        step = 0
        for data in dataloader:
            imgs, targets = data
            imgs = imgs.to(args.device)
            writer.add_images("input", imgs, step)
            output = tudui(imgs)  # (64, 3, 32, 32) -> (64, 3, 10, 10); pooling has no weights to train
            writer.add_images("output", output, step)
            step = step + 1
            if step == args.steps:  # --steps: the course logs every batch
                break
    print(_("images: {before} -> {after}, {n} numbers per image instead of {m}").format(
        before=tuple(imgs.shape), after=tuple(output.shape), n=output[0].numel(), m=imgs[0].numel()))

    pool_the_matrix(args.device)  # beyond the course's file: the video's 5x5 matrix, ceil_mode and dilation
    board.tensorboard_hint(writer)


def pool_the_matrix(device):
    input = torch.tensor([[1, 2, 0, 3, 1],
                          [0, 1, 2, 3, 1],
                          [1, 2, 1, 0, 0],
                          [5, 2, 3, 1, 1],
                          [2, 1, 0, 1, 1]], dtype=torch.float32, device=device)
    # float32: the video's way out of "max_pool2d_with_indices_cpu" not implemented for 'Long'. Today's
    # PyTorch pools integers on the CPU, but images and every layer with weights are float: start float.
    input = torch.reshape(input, (-1, 1, 5, 5))  # (5, 5) -> (1, 1, 5, 5): batch, channel, H, W
    print(input.shape, input.dtype)

    for ceil_mode in (True, False):
        output = MaxPool2d(kernel_size=3, ceil_mode=ceil_mode)(input)  # -> (1, 1, 2, 2) if True, (1, 1, 1, 1) if not
        print(f"ceil_mode={ceil_mode}: {output[0, 0].int().tolist()}")  # whole numbers, shown without ".0"

    # dilation=2: a 2x2 window whose cells sit 2 apart, so it spans 3x3; stride=1 slides it one cell at a time
    dilated = MaxPool2d(kernel_size=2, stride=1, dilation=2)(input)  # (1, 1, 5, 5) -> (1, 1, 3, 3)
    print(_("dilation=2 (kernel_size=2, stride=1): the top-left window takes {window} -> {output}").format(
        window=input[0, 0, 0:3:2, 0:3:2].int().tolist(), output=dilated[0, 0].int().tolist()))


if __name__ == "__main__":
    console.run(main)
