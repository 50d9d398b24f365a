"""P15 DataLoader的使用 (Using DataLoader)

    python lessons/p15_dataloader.py            # --quick: 3 batches per epoch, 500 test images
    tensorboard --logdir logs/p15_dataloader

A DataLoader deals a Dataset's (img, target) pairs out in batches. Printed: the first image's shape,
target and class; each epoch's first batch: batch_size stacks 64 images into imgs (64, 3, 32, 32),
shuffle=True starts the two epochs with different targets; then drop_last (the note's 100 cards
dealt 3 at a time, then the test set: the short last batch kept or dropped) and num_workers (0 and
2 worker processes, timed; on Windows more than 0 needs the `if __name__ == "__main__":` guard).
TensorBoard, IMAGES: `Epoch: 0` and `Epoch: 1`, one step per batch; at one step the two epochs
show different pictures, because shuffle=True.
Differences from the course's dataloader.py: --steps batches per epoch (default 10; the course
logs all 156); the shuffle is seeded (--seed), so a run repeats.
"""
import time

from kit import board, console, datasets, flags  # before torch: a Ctrl-C while torch loads is then one line
from kit.i18n import _

import torchvision
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter

QUICK_IMAGES = 500  # of --quick's 512 test images: 512 is 8 whole batches of 64, nothing for drop_last to drop


def main(argv=None):
    args = flags.parse(flags.parser(__doc__, steps=(10, 3), device=False), argv)

    # 准备的测试数据集
    test_data = datasets.CIFAR10(args, train=False, transform=torchvision.transforms.ToTensor())
    if args.quick:
        test_data = datasets.subset(test_data, QUICK_IMAGES)

    test_loader = DataLoader(dataset=test_data, batch_size=args.batch_size, shuffle=True, num_workers=args.num_workers,
                             drop_last=True, persistent_workers=args.num_workers > 0)  # workers kept for epoch 2

    # 测试数据集中第一张图片及target
    img, target = test_data[0]
    print(img.shape)
    print(target)
    print(test_data.classes[target])  # the class's name

    with SummaryWriter(board.run_dir("p15_dataloader", args)) as writer:
        # two passes over the data (epochs); shuffle=True deals a new order each time
        for epoch in range(2):
            step = 0
            for data in test_loader:
                imgs, targets = data
                if step == 0:  # batch_size: 64 images stacked in one tensor; shuffle: each epoch starts anew
                    print(_("epoch {epoch}, step 0: imgs {imgs}, targets {targets}, first targets {first}").format(
                        epoch=epoch, imgs=tuple(imgs.shape), targets=tuple(targets.shape), first=targets[:8].tolist()))
                writer.add_images("Epoch: {}".format(epoch), imgs, step)
                step = step + 1
                if step == args.steps:  # --steps: the course logs every batch
                    break

    # beyond the course: the note's other parameters at work
    show_drop_last(len(test_data), args.batch_size)
    time_num_workers(test_data, args.batch_size, args.steps)
    board.tensorboard_hint(writer)


def show_drop_last(images, batch_size):
    """The note's 100 cards dealt 3 at a time, then the test set: is the short last batch kept?"""
    for n, what, size in ((100, _("cards"), 3), (images, _("images"), batch_size)):
        for drop_last in (False, True):
            batches = list(DataLoader(range(n), batch_size=size, drop_last=drop_last))  # indices: no image loaded
            print(_("{n} {what}, batch_size={size}, drop_last={drop_last}: {count} batches, the last has {last}")
                  .format(n=n, what=what, size=size, drop_last=drop_last, count=len(batches),
                          last=len(batches[-1]) if batches else 0))


def time_num_workers(dataset, batch_size, steps):
    """The same batches loaded by the main process, then by 2 worker processes. Workers pay off over long
    epochs of slow loading (decoding JPEGs) on spare cores; for a few batches, starting them costs more."""
    for workers in (0, 2):
        loader = DataLoader(dataset, batch_size=batch_size, num_workers=workers)
        start = time.perf_counter()
        n = sum(1 for batch in zip(range(steps), loader))  # the first `steps` batches
        who = _("the main process") if workers == 0 else _("{n} worker processes, including their start-up")
        print(_("num_workers={workers}: {n} batches in {seconds:.2f} s ({who})").format(
            workers=workers, n=n, seconds=time.perf_counter() - start, who=who.format(n=workers)))


if __name__ == "__main__":
    console.run(main)
