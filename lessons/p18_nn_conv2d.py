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
output_channels is added; no_grad(), as nothing is trained.
"""
from kit import common  # before torch: a Ctrl-C while torch loads is then one line
from kit.data import load_data

import torch
import torchvision
from torch import nn
from torch.nn import Conv2d


class Tudui(nn.Module):  # the course calls every lesson's network Tudui; this one is only a conv layer
    def __init__(self):
        super().__init__()
        self.conv1 = Conv2d(in_channels=3, out_channels=6, kernel_size=3, stride=1, padding=0)

    def forward(self, x):
        x = self.conv1(x)  # (64, 3, 32, 32) -> (64, 6, 30, 30)
        return x


def per_tile_scaled(maps):
    """Scale each (H, W) map to [0, 1] on its own, so every channel is visible."""
    lo = maps.amin(dim=(-2, -1), keepdim=True)
    hi = maps.amax(dim=(-2, -1), keepdim=True)
    return (maps - lo) / (hi - lo).clamp_min(1e-8)


def channel_grid(maps):
    """(8, 6, 30, 30) feature maps -> one picture, a row per image and a grey tile per channel."""
    _, channels, h, w = maps.shape
    tiles = per_tile_scaled(maps).reshape(-1, 1, h, w)  # (8, 6, 30, 30) -> (48, 1, 30, 30)
    # nrow=6: six tiles a row, so a row is one image (add_images would lay 8 a row); white gaps between tiles
    return torchvision.utils.make_grid(tiles, nrow=channels, padding=2, pad_value=1.0)  # -> (3, 8*32+2, 6*32+2)


def main(argv=None):
    p = common.parser(__doc__)
    p.add_argument("--steps", type=common.positive_int, default=10, help="batches to run (default: 10)")
    args = p.parse_args(argv)
    steps = 3 if args.quick else args.steps
    common.seed_everything(args.seed)
    device = common.get_device(args.device)

    data = load_data(args)
    tudui = Tudui().to(device)
    print(tudui)

    with common.writer("p18_nn_conv2d", args, synthetic=data.synthetic) as writer:
        with torch.no_grad():  # nothing is trained here, so no gradients are needed
            for step, (imgs, targets) in enumerate(data.test_loader):
                if step == steps:
                    break
                imgs = imgs.to(device)
                output = tudui(imgs)
                print(f"step {step}: input {tuple(imgs.shape)} -> output {tuple(output.shape)}")
                writer.add_images("input", imgs, step)
                writer.add_image("output_channels", channel_grid(output[:8]), step)
                # the course's version: (64, 6, 30, 30) -> (128, 3, 30, 30); -1 lets PyTorch work out 128
                output = torch.reshape(output, (-1, 3, 30, 30))
                writer.add_images("output", output, step)
        common.tensorboard_hint(writer)


if __name__ == "__main__":
    common.run(main)
