"""P18 神经网络-卷积层 (Neural networks: the convolution layer, nn.Conv2d)

    python lessons/p18_nn_conv2d.py            # add --quick for a 3-batch smoke run
    tensorboard --logdir logs/p18_nn_conv2d    # then open http://localhost:6006

A Conv2d(3, 6, kernel_size=3) layer on CIFAR-10 test images. Each (3, 32, 32) image
becomes six (30, 30) feature maps: 32 - 3 + 1 = 30, since there is no padding.

TensorBoard, IMAGES tab:
  input            the batch as it went in
  output_channels  all six output channels of the first 8 images, one grey tile each
                   (row = image, column = channel), scaled to [0, 1] per tile
  output           the course's trick: reshape (64, 6, 30, 30) -> (128, 3, 30, 30) so that
                   add_images accepts it. It shows pairs of channels glued into false-colour
                   pictures, not real images; output_channels is the honest view.

Differences from the course's nn_conv2d.py: the data comes from the shared helper (offline it
falls back to synthetic data); `--steps` limits the batches (the course logs all 157).
"""
import torch
from torch import nn

from kit import common
from kit.data import load_data


class Tudui(nn.Module):  # the course calls every lesson's network Tudui; this one is only a conv layer
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels=3, out_channels=6, kernel_size=3, stride=1, padding=0)

    def forward(self, x):
        return self.conv1(x)  # (64, 3, 32, 32) -> (64, 6, 30, 30)


def per_tile_scaled(maps):
    """Scale each (H, W) map to [0, 1] on its own, so every channel is visible."""
    lo = maps.amin(dim=(-2, -1), keepdim=True)
    hi = maps.amax(dim=(-2, -1), keepdim=True)
    return (maps - lo) / (hi - lo).clamp_min(1e-8)


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
                # all six channels of the first 8 images, as one grey tile each: (8, 6, 30, 30) -> (48, 1, 30, 30)
                channels = per_tile_scaled(output[:8]).reshape(-1, 1, 30, 30)
                writer.add_images("output_channels", channels, step)
                # the course's version: (64, 6, 30, 30) -> (128, 3, 30, 30); -1 lets PyTorch work out 128
                output = torch.reshape(output, (-1, 3, 30, 30))
                writer.add_images("output", output, step)
        common.tensorboard_hint(writer)


if __name__ == "__main__":
    common.run(main)
