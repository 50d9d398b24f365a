"""P15 DataLoader的使用 (Using DataLoader)

    python lessons/p15_dataloader.py            # --quick: 3 batches per epoch, 500 test images
    tensorboard --logdir logs/p15_dataloader

A DataLoader deals a Dataset's (img, target) pairs out in batches. Printed: the first image's shape
and class, then the note's parameters, each with its effect: batch_size (imgs (64, 3, 32, 32)),
shuffle (the two epochs start with different targets), drop_last (the note's 100 cards dealt 3 at a
time, then the test set: the short last batch kept or dropped), num_workers (0 and 2 worker
processes, timed; on Windows more than 0 needs the `if __name__ == "__main__":` guard).
TensorBoard, IMAGES: `Epoch: 0` and `Epoch: 1`, one step per batch; at one step the two epochs
show different pictures, because shuffle=True.
Differences from the course's dataloader.py: --steps batches per epoch (default 10; the course
logs all 156); the shuffle is seeded (--seed), so a run repeats.
"""
import time

from kit import common  # before torch: a Ctrl-C while torch loads is then one line
from kit.data import load_data, loader_options

import torch
from torch.utils.data import DataLoader, Subset

# --quick keeps 500 of its 512 test images: 512 is 8 batches of 64, with nothing for drop_last to drop
QUICK_IMAGES = 500


def main(argv=None):
    p = common.parser(__doc__)
    p.add_argument("--steps", type=common.positive_int, default=10, help="batches logged per epoch (default: 10)")
    args = p.parse_args(argv)
    steps = 3 if args.quick else args.steps
    common.seed_everything(args.seed)

    data = load_data(args)
    # the course uses the test set: smaller, and no training happens here
    test_data = Subset(data.test_set, range(min(QUICK_IMAGES, len(data.test_set)))) if args.quick else data.test_set

    test_loader = DataLoader(dataset=test_data, batch_size=args.batch_size, shuffle=True, drop_last=True,
                             generator=torch.Generator().manual_seed(args.seed),  # a repeatable shuffle
                             **loader_options(args.num_workers))  # workers, if any, kept for the second epoch

    # the first sample in the data set: one image and its class index
    img, target = test_data[0]
    print(img.shape)  # torch.Size([3, 32, 32]): channels, height, width
    print(f"target {target}: {data.classes[target]}")

    # drop_last, the note's example: 100 cards, 3 at a time; then the test set at the chosen batch size.
    # Batching the indices counts the batches without loading an image, so no worker processes either.
    for name, dataset, batch_size in (("cards", range(100), 3), ("images", range(len(test_data)), args.batch_size)):
        for drop_last in (False, True):
            batches = list(DataLoader(dataset, batch_size=batch_size, drop_last=drop_last))
            last = f", the last has {len(batches[-1])}" if batches else ""  # none: fewer images than a batch
            print(f"{len(dataset)} {name}, batch_size={batch_size}, drop_last={drop_last}: "
                  f"{len(batches)} batches{last}")

    # num_workers: the same batches loaded by the main process, then by 2 worker processes. Workers pay off
    # over long epochs of slow loading (decoding JPEGs) on spare cores; for a few batches, starting them
    # costs more than they save. One pass each, so not loader_options(): no second epoch to keep them for.
    for workers in (0, 2):
        loader = DataLoader(test_data, batch_size=args.batch_size, num_workers=workers)
        start = time.perf_counter()
        n = sum(1 for _ in zip(range(steps), loader))  # the first `steps` batches
        seconds = time.perf_counter() - start
        who = "the main process" if workers == 0 else f"{workers} worker processes, including their start-up"
        print(f"num_workers={workers}: {n} batches in {seconds:.2f} s ({who})")

    with common.writer("p15_dataloader", args, synthetic=data.synthetic) as writer:
        for epoch in range(2):  # two passes over the data; shuffle=True deals a new order each time
            for step, (imgs, targets) in enumerate(test_loader):
                if step == steps:
                    break
                if step == 0:  # batch_size at work: 64 samples stacked into one tensor
                    print(f"epoch {epoch}, step 0: imgs {tuple(imgs.shape)}, targets {tuple(targets.shape)}, "
                          f"first targets {targets[:8].tolist()}")
                writer.add_images(f"Epoch: {epoch}", imgs, step)  # (64, 3, 32, 32): a grid of 64 pictures
        common.tensorboard_hint(writer)


if __name__ == "__main__":
    common.run(main)
