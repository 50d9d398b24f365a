"""P19 神经网络-最大池化的使用 (Max pooling: nn.MaxPool2d)

    python lessons/p19_nn_maxpool.py            # add --quick for a 3-batch smoke run
    tensorboard --logdir logs/p19_nn_maxpool    # then open http://localhost:6006

MaxPool2d(kernel_size=3) keeps the largest number of each 3x3 window. The window moves by
stride, whose default is kernel_size, so windows do not overlap. On the note's 5x5 matrix:
  ceil_mode=True   windows that hang over the edge are kept (max of what is inside) -> [[2, 3], [5, 1]]
  ceil_mode=False  they are dropped: only the top-left window fits                  -> [[2]]
Why pool: keep the strongest features while cutting the data. A (3, 32, 32) image becomes
(3, 10, 10), a tenth of the numbers: (32 - 3) // 3 + 1 = 10.

TensorBoard, IMAGES tab:
  input    the batch as it went in, (64, 3, 32, 32)
  output   the same batch after MaxPool2d(3), (64, 3, 10, 10): a coarse mosaic of the same pictures

Differences from the course's nn_maxpool.py:
  - dtype=torch.float32 on the matrix, the course's dtype trap: its integer matrix made the old
    PyTorch fail with `"max_pool2d_with_indices_cpu" not implemented for 'Long'`.
    Recent PyTorch pools integers on the CPU, but images and every layer with weights are float,
    so make inputs float from the start
  - both ceil_mode results are printed in one run (the course edits the flag between runs)
  - the data comes from the shared helper; --steps limits the batches (the course logs all 157)
"""
import torch
from torch import nn
from torch.nn import MaxPool2d

from kit import common
from kit.data import load_data


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
                          [2, 1, 0, 1, 1]], dtype=torch.float32, device=device)  # float: the dtype trap
    input = torch.reshape(input, (-1, 1, 5, 5))  # (5, 5) -> (1, 1, 5, 5): batch, channel, H, W
    print(input.shape, input.dtype)

    for ceil_mode in (True, False):
        tudui = Tudui(ceil_mode=ceil_mode).to(device)
        output = tudui(input)  # (1, 1, 5, 5) -> (1, 1, 2, 2) with ceil_mode=True, (1, 1, 1, 1) without
        print(f"ceil_mode={ceil_mode}: {output[0, 0].int().tolist()}")  # whole numbers, shown without ".0"

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
