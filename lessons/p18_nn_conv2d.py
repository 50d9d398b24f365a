"""P18 神经网络-卷积层 (Convolution layers: nn.Conv2d)

    python lessons/p18_nn_conv2d.py            # --quick: 3 batches
    tensorboard --logdir logs/p18_nn_conv2d

Conv2d(3, 6, kernel_size=3) turns each (3, 32, 32) image into six (30, 30) feature maps:
32 - 3 + 1 = 30, as there is no padding. Printed: the input and output shape of each batch.
TensorBoard, IMAGES:
  input            the batch as it went in
  output_channels  the first 8 images, one row each: its six channels as six grey tiles
  output           the course's reshape (64, 6, 30, 30) -> (128, 3, 30, 30): pairs of channels
                   glued into false colours, not pictures; output_channels is the honest view
Differences from the course's nn_conv2d.py: --steps batches (default 10; the course logs all 157);
output_channels is added.
"""
from kit import board, console, datasets, flags  # before torch: a Ctrl-C while torch loads is then one line

import torch
import torchvision
from torch import nn
from torch.nn import Conv2d
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter


class Tudui(nn.Module):  # the course calls every lesson's network Tudui; this one is only a conv layer
    def __init__(self):
        super().__init__()
        self.conv1 = Conv2d(in_channels=3, out_channels=6, kernel_size=3, stride=1, padding=0)

    def forward(self, x):
        x = self.conv1(x)  # (64, 3, 32, 32) -> (64, 6, 30, 30)
        return x


def main(argv=None):
    args = flags.parse(flags.parser(__doc__, steps=(10, 3)), argv)

    dataset = datasets.CIFAR10(args, train=False, transform=torchvision.transforms.ToTensor())
    dataloader = DataLoader(dataset, batch_size=args.batch_size, **datasets.loader_options(args.num_workers))

    tudui = Tudui().to(args.device)
    print(tudui)

    with SummaryWriter(board.run_dir("p18_nn_conv2d", args)) as writer:
        step = 0
        for data in dataloader:
            imgs, targets = data
            imgs = imgs.to(args.device)
            output = tudui(imgs)
            print(imgs.shape)
            print(output.shape)
            # torch.Size([64, 3, 32, 32])
            writer.add_images("input", imgs, step)
            # torch.Size([64, 6, 30, 30])  -> [xxx, 3, 30, 30]
            writer.add_image("output_channels", channel_grid(output[:8]), step)  # beyond the course: true channels

            output = torch.reshape(output, (-1, 3, 30, 30))  # -1: PyTorch works out 128
            writer.add_images("output", output, step)

            step = step + 1
            if step == args.steps:  # --steps: the course logs every batch
                break
    board.tensorboard_hint(writer)


def per_tile_scaled(maps):
    """Scale each (H, W) map to [0, 1] on its own, so every channel is visible."""
    lo = maps.amin(dim=(-2, -1), keepdim=True)
    hi = maps.amax(dim=(-2, -1), keepdim=True)
    return (maps - lo) / (hi - lo).clamp_min(1e-8)


def channel_grid(maps):
    """(8, 6, 30, 30) feature maps -> one picture, a row per image and a grey tile per channel."""
    _, channels, h, w = maps.shape
    tiles = per_tile_scaled(maps.detach()).reshape(-1, 1, h, w)  # (8, 6, 30, 30) -> (48, 1, 30, 30)
    # nrow=6: six tiles a row, so a row is one image (add_images would lay 8 a row); white gaps between tiles
    return torchvision.utils.make_grid(tiles, nrow=channels, padding=2, pad_value=1.0)  # -> (3, 8*32+2, 6*32+2)


if __name__ == "__main__":
    console.run(main)
