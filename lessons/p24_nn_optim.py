"""P24 优化器（一） (Optimizers, part 1): SGD trains Tudui, and the loss goes down

    python lessons/p24_nn_optim.py                 # 3 epochs of CIFAR-10, a few minutes on a laptop CPU
    python lessons/p24_nn_optim.py --quick         # 2 epochs on 2,048 images, seconds
    python lessons/p24_nn_optim.py --scheduler step          # halve the learning rate every epoch
    python lessons/p24_nn_optim.py --split test --batch-size 1 --epochs 20   # the course's run, 200,000 steps
    tensorboard --logdir logs/p24_nn_optim         # then open http://localhost:6006

The course's nn_optim.py: loss + backward() (P23) + an optimizer. Each step is
    optim.zero_grad()         # clear the old gradients (backward() adds to .grad)
    result_loss.backward()    # new gradients
    optim.step()              # every weight moves a little against its gradient: w -= lr * w.grad
with torch.optim.SGD(tudui.parameters(), lr=0.01). After each epoch (one pass over the data) the
script prints the course's `running_loss` (the sum of the batch losses) and its average per batch,
which does not depend on the number of batches. Both go down: Tudui is learning.

TensorBoard, SCALARS:
  epoch_loss      the average batch loss of each epoch; it goes down
  train_loss      the loss every 100 steps, for the shape within an epoch
  learning_rate   0.01 throughout, or StepLR's steps with --scheduler step

Differences from the course's nn_optim.py:
  - running_loss adds `result_loss.item()` (a plain float), not the tensor `result_loss`: the course's
    sum keeps every batch's autograd graph alive and its printout is a tensor with grad_fn.
  - batch_size 64 and 3 epochs by default instead of 1 and 20, so a CPU finishes in minutes
    (150,000 images, about 2,300 steps); `--batch-size 1` makes the course's one-image SGD steps.
  - the 50,000 training images, shuffled. The course trains on the 10,000 test images (train=False),
    in order; `--split test` uses them (still shuffled: in order, each epoch would end on the same
    images). Test images are for testing, from P27 on, so they are not the default.
  So `--split test --batch-size 1 --epochs 20` is the course's run: 200,000 steps, about an hour
  on a laptop CPU.
"""
import time

import torch
from torch import nn
from torch.utils.data import DataLoader

from kit import common
from kit.data import load_data
from model import Tudui


def main(argv=None):
    p = common.parser(__doc__)
    p.add_argument("--epochs", type=common.positive_int, default=3, help="passes over the data (default: 3; "
                   "the course: 20); --quick caps it at 2")
    p.add_argument("--lr", type=float, default=0.01, help="SGD learning rate (default: 0.01, the course's)")
    p.add_argument("--split", default="train", choices=["train", "test"],
                   help="train (default): the training images; test: the course's 10,000 test images")
    p.add_argument("--scheduler", default="none", choices=["none", "step"],
                   help="step: StepLR multiplies the learning rate by --gamma every --step-size epochs")
    p.add_argument("--step-size", type=common.positive_int, default=1, help="StepLR: epochs per step (default: 1)")
    p.add_argument("--gamma", type=float, default=0.5, help="StepLR: factor per step (default: 0.5)")
    args = p.parse_args(argv)
    if not args.lr > 0:
        raise common.LessonError(f"--lr must be positive, got {args.lr}")
    if not 0 < args.gamma <= 1:
        raise common.LessonError(f"--gamma must be in (0, 1], got {args.gamma}")
    epochs = min(args.epochs, 2) if args.quick else args.epochs
    common.seed_everything(args.seed)
    device = common.get_device(args.device)

    data = load_data(args)
    if args.split == "train":
        dataloader = data.train_loader  # shuffled
    else:  # the course's train=False, shuffled too
        dataloader = DataLoader(data.test_set, batch_size=args.batch_size, shuffle=True,
                                num_workers=args.num_workers, generator=torch.Generator().manual_seed(args.seed))
    loss = nn.CrossEntropyLoss()
    tudui = Tudui().to(device)
    optim = torch.optim.SGD(tudui.parameters(), lr=args.lr)
    scheduler = (torch.optim.lr_scheduler.StepLR(optim, step_size=args.step_size, gamma=args.gamma)
                 if args.scheduler == "step" else None)
    print(f"{len(dataloader.dataset)} {args.split} images ({data.name}), batch {args.batch_size}, "
          f"{len(dataloader)} steps per epoch, {epochs} epoch{'s' if epochs > 1 else ''}, on {common.device_name(device)}")

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
