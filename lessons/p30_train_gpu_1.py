"""P30-31 利用GPU训练 (GPU training, way 1: .cuda(); the course's train_gpu_1.py)

    python lessons/p30_train_gpu_1.py             # 10 epochs of CIFAR-10 on the GPU, or the CPU without one
    python lessons/p30_train_gpu_1.py --quick     # 2 epochs on 2,048 images
    python lessons/p30_train_gpu_1.py --device cpu   # the same on the CPU, to compare the times
    tensorboard --logdir logs/p30_train_gpu_1

Way 1: call .cuda() on three things, each behind `if torch.cuda.is_available():`
  1. the model (its parameters move to the GPU),
  2. the loss function,
  3. the data: imgs and targets of every batch, in training and in testing.
The optimizer is made after tudui.cuda(), so it holds the GPU parameters. Without a CUDA GPU the
guards skip every .cuda() and the same code trains on the CPU (one line says so).

As the course, it prints the time since the start every 100 steps (time.time()): run it with and
without --device cpu to see the GPU's speed-up. GPU work is asynchronous; the loss.item() on the
same line waits for it, so the times are honest.

The training loop is P27's (lessons/training.py), with the same printing, TensorBoard scalars
(train_loss, test_loss, test_accuracy, ...), images and checkpoints (checkpoints/p30_train_gpu_1/,
--resume, Ctrl-C); see p27_train.py's docstring.

Differences from the course's train_gpu_1.py: those of P27, and `--device cpu` to turn the GPU off.
"""
import time

import torch
from torch import nn

from kit import common, training
from kit.data import load_data
from model import Tudui


def main(argv=None):
    p = common.parser(__doc__)
    training.add_flags(p, "p30_train_gpu_1")
    args = training.parse_args(p, argv)
    if args.device == "mps":
        raise common.LessonError("P30 is the .cuda() lesson; for Apple MPS run p31_train_gpu_2.py")
    common.get_device(args.device)  # --device cuda without a GPU: one clear line
    common.seed_everything(args.seed)
    use_cuda = torch.cuda.is_available() and args.device != "cpu"  # the course: torch.cuda.is_available()
    if use_cuda:
        print(f"CUDA is available: training on {torch.cuda.get_device_name()}")
    else:
        print("no CUDA GPU in use (torch.cuda.is_available() is False, or --device cpu): "
              "the guards skip every .cuda(), so this trains on the CPU")

    data = load_data(args, train_transform=training.AUGMENT if args.augment else None)

    # 1. the model
    tudui = Tudui(num_classes=len(data.classes))
    if use_cuda:
        tudui = tudui.cuda()

    # 2. the loss function (CrossEntropyLoss has no weights; the course moves it anyway, which is harmless)
    loss_fn = nn.CrossEntropyLoss()
    if use_cuda:
        loss_fn = loss_fn.cuda()

    learning_rate = args.lr
    optimizer = torch.optim.SGD(tudui.parameters(), lr=learning_rate, momentum=args.momentum)

    # 3. the data: every batch, in training and in testing
    def to_gpu(imgs, targets):
        if use_cuda:
            imgs = imgs.cuda()
            targets = targets.cuda()
        return imgs, targets

    # the course's timing: start_time before training, end_time - start_time every 100 steps
    start_time = time.time()

    def time_so_far(total_train_step):
        end_time = time.time()
        return f"  ({end_time - start_time:.2f} s since the start, {'GPU' if use_cuda else 'CPU'})"

    return training.fit("p30_train_gpu_1", args, data, tudui, loss_fn, optimizer, to_gpu,
                        every_100_steps=time_so_far)


if __name__ == "__main__":
    common.run(main)
