"""P30-31 利用GPU训练 (GPU training, way 2: torch.device and .to(device); the course's train_gpu_2.py)

    python lessons/p31_train_gpu_2.py             # 10 epochs of CIFAR-10 on CUDA, Apple MPS or the CPU
    python lessons/p31_train_gpu_2.py --quick     # 2 epochs on 2,048 images
    python lessons/p31_train_gpu_2.py --device cpu   # force one device (cpu, cuda, mps)
    tensorboard --logdir logs/p31_train_gpu_2

Way 2: name the device once, `device = torch.device(...)`, then `.to(device)` the model, the loss
function and every batch. The course writes `device = torch.device("cuda")`, which crashes on a
machine without an NVIDIA GPU; here it is chosen: CUDA if present, else Apple's MPS (Macs with
M1/M2/...), else the CPU, so the same script runs everywhere. Changing one line changes the device.

Model vs tensor: `tudui.to(device)` moves the model in place (the course's `tudui = tudui.to(device)`
is fine too), but `imgs.to(device)` returns a NEW tensor: `imgs = imgs.to(device)` is required.
Inputs and targets must be on the model's device, or the loss fails with "Expected all tensors to be
on the same device".

map_location: a checkpoint written during GPU training holds CUDA tensors. Loading it on a machine
without CUDA fails ("Attempting to deserialize object on a CUDA device...") unless torch.load is told
where to put them: torch.load(path, map_location="cpu", weights_only=True), or map_location=device.
checkpoint.load does this (CPU by default; checkpoint.load_tudui(path, device) moves it to `device`),
so P32 reads a best.pth trained on a GPU on any laptop.

The training loop is P27's (lessons/training.py), with the same printing, TensorBoard scalars
(train_loss, test_loss, test_accuracy, ...), images and checkpoints (checkpoints/p31_train_gpu_2/,
--resume, Ctrl-C); see p27_train.py's docstring.

Differences from the course's train_gpu_2.py: those of P27, and the device fallback.
"""
import torch
from torch import nn

from kit import common, training
from kit.data import load_data
from model import Tudui


def main(argv=None):
    p = common.parser(__doc__)
    training.add_flags(p, "p31_train_gpu_2")
    args = training.parse_args(p, argv)
    common.seed_everything(args.seed)

    # the course: device = torch.device("cuda"); here whatever this machine has
    if args.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available()
                              else "mps" if torch.backends.mps.is_available() else "cpu")
    else:
        device = common.get_device(args.device)  # the one asked for, or one clear line if it is absent
    print(f"device = {device}" + ("  (no CUDA or MPS here: the CPU)" if device.type == "cpu" else ""))

    data = load_data(args, train_transform=training.AUGMENT if args.augment else None)

    tudui = Tudui(num_classes=len(data.classes))
    tudui = tudui.to(device)
    loss_fn = nn.CrossEntropyLoss()
    loss_fn = loss_fn.to(device)
    learning_rate = args.lr
    optimizer = torch.optim.SGD(tudui.parameters(), lr=learning_rate, momentum=args.momentum)

    def to_device(imgs, targets):  # every batch, in training and in testing
        imgs = imgs.to(device)
        targets = targets.to(device)
        return imgs, targets

    return training.fit("p31_train_gpu_2", args, data, tudui, loss_fn, optimizer, to_device)


if __name__ == "__main__":
    common.run(main)
