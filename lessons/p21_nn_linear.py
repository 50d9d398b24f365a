"""P21 神经网络-线性层及其他层介绍 (Linear layers and other layers)

    python lessons/p21_nn_linear.py            # --quick: 2 batches
    tensorboard --logdir logs/p21_nn_linear

Linear(in_features, out_features) computes x @ W.T + b. The course flattens a whole batch of 64
images into one row of 64 * 3 * 32 * 32 = 196608 numbers for Linear(196608, 10), hence drop_last=True:
the last batch of the 10,000 test images has 16, only 49152 numbers.
Printed: the course's three shapes per batch; that short batch failing; flattening per image,
torch.flatten(imgs, start_dim=1) -> (64, 3072), as real models do (P22); a line for each other layer
family in the note: normalization, dropout, distance, loss.
TensorBoard, IMAGES: input, and flattened: a row of 3072 numbers per image, the picture gone.
Differences from the course's nn_linear.py: the short batch is shown failing; the per-image way,
the layer tour and TensorBoard are added; --steps batches (default 3; the course runs all 156).
"""
from kit import board, console, datasets, flags  # before torch: a Ctrl-C while torch loads is then one line
from kit.errors import LessonError
from kit.i18n import _

import torch
import torchvision
from torch import nn
from torch.nn import Linear
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter


class Tudui(nn.Module):
    def __init__(self, in_features=196608):  # the course's Linear(196608, 10): 64 * 3 * 32 * 32, a batch in a row
        super().__init__()
        self.linear1 = Linear(in_features, 10)

    def forward(self, input):
        output = self.linear1(input)
        return output


def main(argv=None):
    args = flags.parse(flags.parser(__doc__, steps=(3, 2)), argv)

    dataset = datasets.CIFAR10(args, train=False, transform=torchvision.transforms.ToTensor())
    if len(dataset) < args.batch_size:
        raise LessonError(_("--batch-size {size} is more than the {n} test images: drop_last=True leaves no batch")
                          .format(size=args.batch_size, n=len(dataset)))

    dataloader = DataLoader(dataset, batch_size=args.batch_size, drop_last=True,
                            **datasets.loader_options(args.num_workers))

    tudui = Tudui(in_features=args.batch_size * 3 * 32 * 32).to(args.device)  # --batch-size 64: 196608
    print(tudui)

    with SummaryWriter(board.run_dir("p21_nn_linear", args)) as writer:
        step = 0
        for data in dataloader:
            imgs, targets = data
            imgs = imgs.to(args.device)
            print(imgs.shape)
            output = torch.flatten(imgs)  # (64, 3, 32, 32) -> (196608,)
            print(output.shape)
            output = tudui(output)  # (196608,) -> (10,)
            print(output.shape)
            writer.add_images("input", imgs, step)  # beyond the course, as the flattened rows: one grey picture
            writer.add_image("flattened", torch.flatten(imgs, start_dim=1).unsqueeze(0), step)  # (1, 64, 3072)
            step = step + 1
            if step == args.steps:  # --steps: the course runs every batch
                break
    why_drop_last(tudui, imgs, len(dataset))
    flatten_per_image(imgs)
    other_layers(imgs)
    board.tensorboard_hint(writer)


def why_drop_last(tudui, imgs, images):
    """A short last batch does not fit Linear(196608, 10)."""
    size = len(imgs)
    print(_("{n} images = {full} full batches of {size} + {rest} left over (the full test set: 10000 = 156 * 64 + 16)")
          .format(n=images, full=images // size, size=size, rest=images % size))
    short = torch.flatten(imgs[:size // 4])  # 16 of 64 images, like that last batch: -> (49152,)
    try:
        tudui(short)
    except RuntimeError as e:
        print(_("a short batch of {n} images -> {features} features -> error: {error}").format(
            n=size // 4, features=short.numel(), error=str(e).splitlines()[0]))


def flatten_per_image(imgs):
    """torch.flatten vs reshape, and flattening each image on its own, as real models do."""
    flattened = torch.flatten(imgs, start_dim=1)
    print(_("torch.reshape(imgs, (1, 1, 1, -1)) -> {shape}: the course's first try").format(
        shape=tuple(torch.reshape(imgs, (1, 1, 1, -1)).shape)))
    print(_("torch.flatten(imgs) -> {shape}: one row for the batch").format(shape=tuple(torch.flatten(imgs).shape)))
    print(_("torch.flatten(imgs, start_dim=1) -> {shape}: one row per image").format(shape=tuple(flattened.shape)))
    per_image = Linear(3 * 32 * 32, 10).to(imgs.device)
    print(_("per image: Linear(3072, 10) on 16 images -> {shape}, no drop_last needed").format(
        shape=tuple(per_image(flattened[:16]).shape)))


def other_layers(imgs):
    """The other layer families from the note, one line each."""
    normalized = nn.BatchNorm2d(3).to(imgs.device)(imgs)  # the note's 正则化层: normalization (not regularization)
    means = [round(v, 2) + 0.0 for v in normalized.mean(dim=(0, 2, 3)).tolist()]  # + 0.0 turns -0.0 into 0.0
    stds = [round(v, 2) for v in normalized.std(dim=(0, 2, 3)).tolist()]
    print(_("normalization: BatchNorm2d(3) -> channel means {means}, stds {stds} (faster, steadier training)")
          .format(means=means, stds=stds))
    dropped = nn.Dropout(p=0.5)(torch.ones(8))  # a new module is in training mode
    print(_("dropout: Dropout(p=0.5) on eight 1s -> {output} (random zeros, the rest * 2; off in eval mode; "
            "fights overfitting)").format(output=dropped.tolist()))
    distance = nn.PairwiseDistance()(torch.tensor([[0.0, 0.0]]), torch.tensor([[3.0, 4.0]]))
    print(_("distance: PairwiseDistance([0, 0], [3, 4]) -> {d:.4f}").format(d=distance.item()))
    loss = nn.L1Loss()(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.0, 5.0]))
    print(_("loss: L1Loss([1, 2, 3], [1, 2, 5]) -> {loss:.4f} (more in P23)").format(loss=loss.item()))


if __name__ == "__main__":
    console.run(main)
