"""P19 神经网络-最大池化的使用 (Max pooling: nn.MaxPool2d)

    python lessons/p19_nn_maxpool.py            # --quick: 3 batches
    tensorboard --logdir logs/p19_nn_maxpool

MaxPool2d(kernel_size=3) keeps the largest number of each 3x3 window; stride defaults to kernel_size.
Printed, on the note's 5x5 matrix: ceil_mode=True keeps the windows that hang over the edge
-> [[2, 3], [5, 1]], ceil_mode=False drops them -> [[2]]; dilation=2 spreads a window's cells apart.
Pooling keeps the strong features and cuts the data: an image (3, 32, 32) becomes (3, 10, 10).
TensorBoard, IMAGES: input, and output after MaxPool2d(3): a coarse mosaic of the same pictures.
Differences from the course's nn_maxpool.py (it pools the images only, with ceil_mode=False):
  - the matrix is float32, as in the video: PyTorch then could not pool integers ('Long')
  - both ceil_mode results and a dilation example are printed in one run
  - --steps batches (default 10; the course logs all 157)
"""
from kit import common  # before torch: a Ctrl-C while torch loads is then one line
from kit.data import load_data

import torch
from torch import nn
from torch.nn import MaxPool2d


class Tudui(nn.Module):
    def __init__(self, ceil_mode=False):
        super().__init__()
        self.maxpool1 = MaxPool2d(kernel_size=3, ceil_mode=ceil_mode)

    def forward(self, input):
        output = self.maxpool1(input)
        return output


def main(argv=None):
    p = common.parser(__doc__)
    p.add_argument("--steps", type=common.positive_int, default=10, help="batches to run (default: 10)")
    args = p.parse_args(argv)
    steps = 3 if args.quick else args.steps
    common.seed_everything(args.seed)
    device = common.get_device(args.device)

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
        tudui = Tudui(ceil_mode=ceil_mode).to(device)
        output = tudui(input)  # (1, 1, 5, 5) -> (1, 1, 2, 2) with ceil_mode=True, (1, 1, 1, 1) without
        print(f"ceil_mode={ceil_mode}: {output[0, 0].int().tolist()}")  # whole numbers, shown without ".0"

    # dilation=2: a 2x2 window whose cells sit 2 apart, so it spans 3x3; stride=1 slides it one cell at a time
    dilated = MaxPool2d(kernel_size=2, stride=1, dilation=2)(input)  # (1, 1, 5, 5) -> (1, 1, 3, 3)
    print(f"dilation=2 (kernel_size=2, stride=1): the top-left window takes {input[0, 0, 0:3:2, 0:3:2].int().tolist()} "
          f"-> {dilated[0, 0].int().tolist()}")

    data = load_data(args)
    tudui = Tudui(ceil_mode=False).to(device)  # the course's choice for the images
    with common.writer("p19_nn_maxpool", args, synthetic=data.synthetic) as writer:
        for step, (imgs, targets) in enumerate(data.test_loader):
            if step == steps:
                break
            imgs = imgs.to(device)
            output = tudui(imgs)  # (64, 3, 32, 32) -> (64, 3, 10, 10); pooling has no weights to train
            if step == 0:
                print(f"images: {tuple(imgs.shape)} -> {tuple(output.shape)}, "
                      f"{output[0].numel()} numbers per image instead of {imgs[0].numel()}")
            writer.add_images("input", imgs, step)
            writer.add_images("output", output, step)
        common.tensorboard_hint(writer)


if __name__ == "__main__":
    common.run(main)
