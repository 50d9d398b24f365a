"""CIFAR-10's stand-in (offline, --dataset synthetic): made in a second, and Tudui learns it: its curves mean something.

    dataset = SyntheticCIFAR10(10_000, seed=1, transform=ToTensor())  # as CIFAR10: .data (N,32,32,3) uint8, .targets
"""
import torch
from PIL import Image
from torch.utils.data import Dataset

from kit.i18n import N_, _

# the class names in the learner's language (圆盘, 圆环 ... under Chinese), in the output and in TensorBoard
NAMES = [N_("disc"), N_("ring"), N_("square"), N_("frame"), N_("plus"), N_("cross"), N_("triangle"),
         N_("horizontal stripes"), N_("vertical stripes"), N_("checkerboard")]


def is_synthetic(classes):
    """Are these the synthetic shapes' class names (in either language)?"""
    return list(classes) in (NAMES, [_(name) for name in NAMES])


class SyntheticCIFAR10(Dataset):
    """Ten shapes and patterns, bright on dark with noise, varied in place, size, colour and stripe width."""
    def __init__(self, n, seed=0, transform=None):
        self.classes, self.transform = [_(name) for name in NAMES], transform
        images, self.targets = make_shapes(n, seed)
        self.data = images.permute(0, 2, 3, 1).contiguous().numpy()  # (n, 32, 32, 3) uint8, as CIFAR10 keeps it

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, i):
        img = Image.fromarray(self.data[i])  # a PIL image, as CIFAR10 gives: the lesson's transform does the rest
        return (img if self.transform is None else self.transform(img)), self.targets[i]


def make_shapes(n, seed):
    g = torch.Generator().manual_seed(seed)
    labels = (torch.arange(n) % 10)[torch.randperm(n, generator=g)]
    u = lambda *shape: torch.rand(n, *shape, generator=g)  # noqa: E731  one random draw per image
    cx, cy, s = 10 + 12 * u(1, 1), 10 + 12 * u(1, 1), 6 + 5 * u(1, 1)  # centre and half-size
    period, phase = (4 + 5 * u(1, 1)).floor(), 8 * u(1, 1)            # stripe width and offset
    fg, bg = (128 + 102 * u(3, 1, 1)).byte(), (115 * u(3, 1, 1)).byte()  # bright on dark, as bytes like a real image
    yy, xx = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    mask = torch.empty(n, 32, 32, dtype=torch.bool)
    for k in range(10):  # draw each class's shape on its own images only
        i = (labels == k).nonzero().squeeze(1)
        dx, dy, s_, p_, f_ = xx - cx[i], yy - cy[i], s[i], period[i], phase[i]  # (m, 32, 32)
        r, box = (dx**2 + dy**2).sqrt(), torch.maximum(dx.abs(), dy.abs())
        mask[i] = [
            lambda: r <= s_,                                                          # disc
            lambda: (r - s_).abs() <= 1.5,                                            # ring
            lambda: box <= s_,                                                        # square
            lambda: (box - s_).abs() <= 1.5,                                          # frame
            lambda: ((dx.abs() <= 2) | (dy.abs() <= 2)) & (box <= s_),                # plus
            lambda: (((dx - dy).abs() <= 2) | ((dx + dy).abs() <= 2)) & (box <= s_),  # cross
            lambda: (dy.abs() <= s_) & (dx.abs() <= (dy + s_) / 2),                   # triangle
            lambda: ((yy + f_) / p_).floor() % 2 == 0,                                # horizontal stripes
            lambda: ((xx + f_) / p_).floor() % 2 == 0,                                # vertical stripes
            lambda: (((xx + f_) / p_).floor() + ((yy + f_) / p_).floor()) % 2 == 0,   # checkerboard
        ][k]()
    img = torch.where(mask.unsqueeze(1), fg, bg) + torch.randint(0, 25, (n, 1, 32, 32), dtype=torch.uint8, generator=g)
    return img, labels.tolist()  # (n, 3, 32, 32) uint8 with noise (230 + 24: still a byte), n labels
