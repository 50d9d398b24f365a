"""P24 优化器（一） (Optimizers, part 1): SGD trains Tudui, and the loss goes down

    python lessons/p24_nn_optim.py            # 3 epochs of the 50,000 training images: minutes on a CPU
    python lessons/p24_nn_optim.py --quick    # 3 epochs of 2,048 images in batches of 8: seconds
    tensorboard --logdir logs/p24_nn_optim

Each step: optim.zero_grad() clears the old gradients, result_loss.backward() makes new ones, and
optim.step() moves every weight against its gradient (SGD, lr 0.01: w -= lr * w.grad).
Printed per epoch: the course's running_loss, the sum of the batch losses, and epoch_loss, their
average, which does not depend on the number of batches. Both fall: Tudui learns.
TensorBoard, SCALARS: epoch_loss (a point per epoch), train_loss (every 100 steps), learning_rate.
Differences from the course's nn_optim.py:
  - running_loss adds result_loss.item(), a float; the course adds the tensor, a growing autograd chain
  - batches of 64 of the 50,000 training images, shuffled; the course: 1 test image at a time, in order
    (its run: --split test --batch-size 1 --epochs 20, 200,000 steps)
  - --scheduler step: StepLR, which the course imports but never uses (lr * --gamma every --step-size epochs)
"""
import argparse
import time

from kit import common  # before torch: a Ctrl-C while torch loads is then one line
from kit.data import load_data, loader_options

import torch
from torch import nn
from torch.utils.data import DataLoader

from model import Tudui

# --quick: batches of 8 cost a CPU about as much per image as batches of 64, but make 8 times as many
# SGD steps, so in 3 short epochs the loss clearly leaves ln(10) = 2.30 (synthetic: 2.28, 1.97, 1.12;
# in batches of 64 it was 2.30, 2.30, 2.29). Three epochs are three epoch_loss points: TensorBoard
# draws lines without dots, so a single point (--epochs 1) shows as an empty chart.
QUICK_BATCH, QUICK_EPOCHS = 8, 3


def gamma(text):
    """StepLR's factor: more than 0, at most 1 (more would make the learning rate grow)."""
    value = common.positive_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"must be at most 1, got {text}")
    return value


def main(argv=None):
    p = common.parser(__doc__)
    p.set_defaults(batch_size=None)  # 64, or QUICK_BATCH with --quick
    p.add_argument("--epochs", type=common.positive_int, default=3, help="passes over the data (default: 3; "
                   f"the course: 20); --quick caps it at {QUICK_EPOCHS}")
    p.add_argument("--lr", type=common.positive_float, default=0.01,
                   help="SGD learning rate (default: 0.01, the course's)")
    p.add_argument("--split", default="train", choices=["train", "test"],
                   help="train (default): the training images; test: the course's 10,000 test images")
    p.add_argument("--scheduler", default="none", choices=["none", "step"],
                   help="step: StepLR multiplies the learning rate by --gamma every --step-size epochs")
    p.add_argument("--step-size", type=common.positive_int, default=1, help="StepLR: epochs per step (default: 1)")
    p.add_argument("--gamma", type=gamma, default=0.5, help="StepLR: factor per step, at most 1 (default: 0.5)")
    args = p.parse_args(argv)
    if args.batch_size is None:
        args.batch_size = QUICK_BATCH if args.quick else 64
    epochs = min(args.epochs, QUICK_EPOCHS) if args.quick else args.epochs
    common.seed_everything(args.seed)
    device = common.get_device(args.device)

    data = load_data(args)
    if args.split == "train":
        dataloader = data.train_loader  # shuffled; the test images are kept for testing, from P27 on
    else:  # the course's train=False, shuffled too: in order, every epoch would end on the same images
        dataloader = DataLoader(data.test_set, batch_size=args.batch_size, shuffle=True,
                                generator=torch.Generator().manual_seed(args.seed), **loader_options(args.num_workers))
    loss = nn.CrossEntropyLoss()
    tudui = Tudui().to(device)
    optim = torch.optim.SGD(tudui.parameters(), lr=args.lr)
    scheduler = (torch.optim.lr_scheduler.StepLR(optim, step_size=args.step_size, gamma=args.gamma)
                 if args.scheduler == "step" else None)
    print(f"{len(dataloader.dataset)} {args.split} images ({data.name}), batch {args.batch_size}, "
          f"{len(dataloader)} steps per epoch, {epochs} epoch{'s' if epochs > 1 else ''}, "
          f"on {common.device_name(device)}")
    if epochs == 1:
        print("(one epoch is one epoch_loss point, and TensorBoard draws no line through one point: "
              "use --epochs 2 or more to see the curve)")

    with common.writer("p24_nn_optim", args, synthetic=data.synthetic) as writer:
        step = 0
        for epoch in range(epochs):
            start = time.perf_counter()
            learning_rate = optim.param_groups[0]["lr"]
            running_loss = 0.0
            for imgs, targets in dataloader:
                imgs, targets = imgs.to(device), targets.to(device)
                outputs = tudui(imgs)                  # (64, 3, 32, 32) -> (64, 10)
                result_loss = loss(outputs, targets)
                optim.zero_grad()
                result_loss.backward()
                optim.step()
                running_loss = running_loss + result_loss.item()  # .item(): a float, not a tensor with a graph
                if step % 100 == 0:
                    writer.add_scalar("train_loss", result_loss.item(), step)
                step += 1
            epoch_loss = running_loss / len(dataloader)
            seconds = time.perf_counter() - start
            print(f"epoch {epoch + 1}: running_loss {running_loss:.4f}, epoch_loss (average per batch) "
                  f"{epoch_loss:.4f}, lr {learning_rate:g}, {seconds:.1f} s")
            writer.add_scalar("epoch_loss", epoch_loss, epoch + 1)
            writer.add_scalar("learning_rate", learning_rate, epoch + 1)
            if scheduler:
                scheduler.step()  # once per epoch, after the optimizer's steps
        common.tensorboard_hint(writer)


if __name__ == "__main__":
    common.run(main)
