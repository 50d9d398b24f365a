"""P15 DataLoader的使用 (Using DataLoader)

    python lessons/p15_dataloader.py            # add --quick for a 3-batch smoke run
    tensorboard --logdir logs/p15_dataloader    # then open http://localhost:6006

A Dataset hands out one (image, target) pair at a time; a DataLoader deals them out in batches,
like cards from a deck. The note's four parameters, each with an effect you can see:
  batch_size   how many per batch: imgs (64, 3, 32, 32) and targets (64,)
  shuffle      a new order every epoch: epoch 0 and epoch 1 start with different targets
  num_workers  how many extra processes load batches; 0 = the main process does it. Workers pay
               off over long epochs of slow loading (decoding JPEGs) on spare cores; for a few
               batches, starting them costs more than they save: the script times both. On Windows,
               num_workers > 0 needs the `if __name__ == "__main__":` guard (else BrokenPipeError).
  drop_last    the note's 100 cards dealt 3 at a time: keep the last single card or drop it

TensorBoard, IMAGES tab:
  Epoch: 0, Epoch: 1   the batches of two epochs, one step per batch. Slide the step bar: at the
                       same step the two epochs show different pictures, because shuffle=True.

Differences from the course's dataloader.py:
  - the data comes from the shared helper (offline it falls back to synthetic data)
  - --steps limits the batches logged per epoch (the course logs all 156)
  - the shuffle is seeded (--seed), so a run can be repeated
  - added the note's 100-cards example and a num_workers timing, so every parameter shows an effect
"""
import time

import torch
from torch.utils.data import DataLoader

from kit import common
from kit.data import load_data


def main(argv=None):
    p = common.parser(__doc__)
    p.add_argument("--steps", type=common.positive_int, default=10, help="batches logged per epoch (default: 10)")
    args = p.parse_args(argv)
    steps = 3 if args.quick else args.steps
    common.seed_everything(args.seed)

    data = load_data(args)
    test_data = data.test_set  # the course uses the test set: smaller, and no training happens here

    # the first sample in the data set: one image and its class index
    img, target = test_data[0]
    print(img.shape)  # torch.Size([3, 32, 32]): channels, height, width
    print(f"target {target}: {data.classes[target]}")

    test_loader = DataLoader(dataset=test_data, batch_size=args.batch_size, shuffle=True,
                             num_workers=args.num_workers, drop_last=True,
                             generator=torch.Generator().manual_seed(args.seed))  # a repeatable shuffle

    # drop_last, the note's example: 100 cards, 3 at a time. range(100) is a fine data set too.
    for drop_last in (False, True):
        batches = list(DataLoader(range(100), batch_size=3, drop_last=drop_last))
        print(f"100 cards, batch_size=3, drop_last={drop_last}: "
              f"{len(batches)} batches, the last has {len(batches[-1])}")
    # the same on our test set; batching the indices counts it without loading every image
    for drop_last in (False, True):
        batches = list(DataLoader(range(len(test_data)), batch_size=args.batch_size, drop_last=drop_last))
        print(f"{len(test_data)} images, batch_size={args.batch_size}, drop_last={drop_last}: "
              f"{len(batches)} batches, the last has {len(batches[-1])}")

    # num_workers: the same batches loaded by the main process, then by 2 worker processes
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
