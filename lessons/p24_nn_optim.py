"""P24 优化器（一） (Optimizers, part 1): SGD trains Tudui, and the loss goes down

    python lessons/p24_nn_optim.py            # the course's 20 epochs of its 10,000 test images: 2-3 min, 2 cores
    python lessons/p24_nn_optim.py --quick    # 3 epochs of 512 images in batches of 8: seconds
    tensorboard --logdir logs/p24_nn_optim

Each step: optim.zero_grad() clears the old gradients, result_loss.backward() makes new ones, and
optim.step() moves every weight against its gradient (SGD, lr 0.01: w -= lr * w.grad).
Printed per epoch: the course's running_loss, the sum of the batch losses, and epoch_loss, their
average, which does not depend on the number of batches. Both fall: Tudui learns.
TensorBoard, SCALARS: epoch_loss (a point per epoch), train_loss (every 100 steps), learning_rate.
Differences from the course's nn_optim.py:
  - batches of 64, shuffled (the course: batch_size=1, in order; --batch-size 1 is its run)
  - running_loss adds result_loss.item(), a float; the course adds the tensor, a growing autograd chain
  - --scheduler step: StepLR, which the course imports but never uses (lr * --gamma every --step-size epochs)
"""
import argparse
import time

from kit import board, console, datasets, flags  # before torch: a Ctrl-C while torch loads is then one line
from kit.i18n import _
from kit.progress import Progress

import torch
import torchvision
from torch import nn
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter

from model import Tudui

# --quick: batches of 8 cost a CPU about as much per image as batches of 64, but make 8 times as many
# SGD steps, so in 3 short epochs the loss clearly leaves ln(10) = 2.30. Three epochs are three
# epoch_loss points: TensorBoard draws lines without dots, so a single point shows as an empty chart.
QUICK_BATCH, QUICK_EPOCHS = 8, 3


def gamma(text):
    """StepLR's factor: more than 0, at most 1 (more would make the learning rate grow)."""
    value = flags.positive_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(_("must be at most 1, got {text}").format(text=text))
    return value


def main(argv=None):
    p = flags.parser(__doc__)
    p.set_defaults(batch_size=None)  # 64, or QUICK_BATCH with --quick
    p.add_argument("--epochs", type=flags.positive_int, default=20,
                   help=_("passes over the data (default: 20, the course's; 3 with --quick)"))
    p.add_argument("--lr", type=flags.positive_float, default=0.01,
                   help=_("SGD learning rate (default: 0.01, the course's)"))
    p.add_argument("--scheduler", default="none", choices=["none", "step"],
                   help=_("step: StepLR multiplies the learning rate by --gamma every --step-size epochs"))
    p.add_argument("--step-size", type=flags.positive_int, default=1,
                   help=_("StepLR: epochs per step (default: 1)"))
    p.add_argument("--gamma", type=gamma, default=0.5, help=_("StepLR: factor per step, at most 1 (default: 0.5)"))
    args = flags.parse(p, argv)
    if args.batch_size is None:
        args.batch_size = QUICK_BATCH if args.quick else 64
    if args.quick:
        args.epochs = min(args.epochs, QUICK_EPOCHS)

    dataset = datasets.CIFAR10(args, train=False, transform=torchvision.transforms.ToTensor())

    # The course: batch_size=1, 10,000 steps per epoch, about 4 min on 2 CPU cores; batches of 64, as P27's,
    # take about 7 s. shuffle=True: in the course's order, every epoch would end on the same images.
    dataloader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True,
                            generator=torch.Generator().manual_seed(args.seed),  # the same order every run
                            **datasets.loader_options(args.num_workers))

    loss = nn.CrossEntropyLoss()
    tudui = Tudui().to(args.device)
    optim = torch.optim.SGD(tudui.parameters(), lr=args.lr)
    scheduler = StepLR(optim, step_size=args.step_size, gamma=args.gamma) if args.scheduler == "step" else None
    print(_("{images} images ({dataset}), batch {batch}: {steps} steps per epoch; epochs: {epochs}; on {device}")
          .format(images=len(dataset), dataset=args.dataset, batch=args.batch_size, steps=len(dataloader),
                  epochs=args.epochs, device=flags.device_name(args.device)))
    if args.epochs == 1:
        print(_("(one epoch is one epoch_loss point, and TensorBoard draws no line through one point: "
                "use --epochs 2 or more to see the curve)"))

    with SummaryWriter(board.run_dir("p24_nn_optim", args)) as writer:
        step = 0
        for epoch in range(args.epochs):
            running_loss = 0.0
            learning_rate = optim.param_groups[0]["lr"]
            progress = Progress(len(dataloader), epoch + 1)  # a bar on a terminal, one line in a file
            start = time.perf_counter()
            for data in dataloader:
                imgs, targets = data
                imgs, targets = imgs.to(args.device), targets.to(args.device)
                outputs = tudui(imgs)  # (64, 3, 32, 32) -> (64, 10)
                result_loss = loss(outputs, targets)
                optim.zero_grad()
                result_loss.backward()
                optim.step()
                # .item(): a float. The course adds result_loss itself, a tensor: running_loss then carries an
                # autograd chain through every step of the epoch, and prints as tensor(..., grad_fn=<AddBackward0>)
                running_loss = running_loss + result_loss.item()
                progress.update(len(imgs), result_loss)
                if step % 100 == 0:
                    writer.add_scalar("train_loss", result_loss.item(), step)
                step = step + 1
            progress.close()
            epoch_loss = running_loss / len(dataloader)
            print(_("epoch {epoch}: running_loss {running:.4f}, epoch_loss (average per batch) {average:.4f}, "
                    "lr {lr:g}").format(epoch=epoch + 1, running=running_loss, average=epoch_loss, lr=learning_rate))
            if epoch == 0 and args.epochs > 1:  # how long the whole run takes, measured
                seconds = time.perf_counter() - start
                print(_("about {seconds:.1f} s per epoch: the {epochs} epochs take about {minutes:.1f} min").format(
                    seconds=seconds, epochs=args.epochs, minutes=seconds * args.epochs / 60))
            writer.add_scalar("epoch_loss", epoch_loss, epoch + 1)
            writer.add_scalar("learning_rate", learning_rate, epoch + 1)
            if scheduler:
                scheduler.step()  # once per epoch, after the optimizer's steps
    board.tensorboard_hint(writer)


if __name__ == "__main__":
    console.run(main)
