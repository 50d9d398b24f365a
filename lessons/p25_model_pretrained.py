"""P25 现有网络模型的使用及修改 (Using and modifying an existing model: VGG16)

    python lessons/p25_model_pretrained.py                      # downloads VGG16's ImageNet weights once, 528 MiB
    python lessons/p25_model_pretrained.py --finetune-steps 50  # beyond the course: transfer learning on CIFAR-10
    tensorboard --logdir logs/p25_model_pretrained

VGG16 (138,357,544 parameters) learned ImageNet's 1,000 classes. The course makes it a 10-class
model two ways: vgg16_true.classifier.add_module('add_linear', nn.Linear(1000, 10)) appends a layer;
vgg16_false.classifier[6] = nn.Linear(4096, 10) replaces the last one. Printed: VGG16 once, then
only what each way changes (the course prints the whole model four times).
--finetune-steps trains vgg16_true's classifier only (the features frozen), on inputs normalised with
ImageNet's mean and std as the weights give them (VGG16_Weights.DEFAULT.transforms()).
TensorBoard: TEXT vgg16_true, vgg16_false (structure, parameters); SCALARS train_loss (fine-tuning).
Differences from the course's model_pretrained.py: weights=None / VGG16_Weights.DEFAULT, not
pretrained=False/True (deprecated since torchvision 0.13, still accepted by 0.29 with a warning);
--weights none, --quick or no network: random weights; train_data is used, to fine-tune.
"""
import copy

from kit import board, console, datasets, errors, flags  # before torch: a Ctrl-C while torch loads is then one line
from kit.i18n import _
from kit.progress import Progress

import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter
from torchvision.models import VGG16_Weights


def vgg16_pretrained(weights, vgg16_false):
    """VGG16 with ImageNet's weights (`--weights default`), or random ones when they cannot be had."""
    if weights == "default":
        try:  # downloaded once into torch's cache, ~/.cache/torch/hub/checkpoints (TORCH_HOME moves it)
            with datasets.download_timeout():
                return torchvision.models.vgg16(weights=VGG16_Weights.DEFAULT), True
        except (OSError, RuntimeError, ValueError) as e:  # offline, firewall, disk full, a corrupt cached file
            print(_("warning: VGG16's pretrained weights could not be loaded ({why}); "
                    "vgg16_true continues with random weights").format(why=errors.first_line(e)), flush=True)
    else:
        print(_("--weights none: vgg16_true gets random weights too (nothing is downloaded)"))
    # random weights: a copy of vgg16_false's, as building VGG16 again would take seconds
    return copy.deepcopy(vgg16_false), False


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


def main(argv=None):
    p = flags.parser(__doc__, batch_size=32)
    p.add_argument("--weights", default=None, choices=["default", "none"],
                   help=_("default: VGG16_Weights.DEFAULT for vgg16_true (downloaded once, 528 MiB); "
                          "none: random weights, never downloads (default: default; none with --quick)"))
    p.add_argument("--finetune-steps", type=flags.non_negative_int, default=0,
                   help=_("batches of transfer learning on CIFAR-10, the features frozen (default: 0; "
                          "at most 2 with --quick, one epoch without)"))
    args = flags.parse(p, argv)
    if args.weights is None:  # a smoke run never starts a 528 MiB download
        args.weights = "none" if args.quick else "default"

    # train_data = torchvision.datasets.ImageNet(...): the course leaves it commented out, as torchvision cannot
    # download ImageNet (about 150 GB, fetched by hand after registering at image-net.org)
    vgg16_false = torchvision.models.vgg16(weights=None)                  # the course: pretrained=False
    vgg16_true, pretrained = vgg16_pretrained(args.weights, vgg16_false)  # the course: pretrained=True

    print(vgg16_true)
    print(_("VGG16: {n:,} parameters, {which}").format(
        n=count_parameters(vgg16_true), which=_("ImageNet weights") if pretrained else _("random weights")))

    # the course loads CIFAR-10 here and stops; fine-tuning (--finetune-steps, below) trains on it
    train_data = datasets.CIFAR10(args, train=True, transform=torchvision.transforms.ToTensor())

    # way 1: append a layer to the classifier, 1000 ImageNet scores -> 10 CIFAR-10 scores
    vgg16_true.classifier.add_module('add_linear', nn.Linear(1000, 10))
    print("vgg16_true.classifier:", vgg16_true.classifier)  # the course prints the whole model again
    print(_("vgg16_true with classifier.add_linear = Linear(1000, 10): {n:,} parameters").format(
        n=count_parameters(vgg16_true)))

    # way 2: replace the last layer, 4096 -> 1000 becomes 4096 -> 10
    print("vgg16_false.classifier[6]:", vgg16_false.classifier[6])  # the course prints all of vgg16_false
    vgg16_false.classifier[6] = nn.Linear(4096, 10)
    print("vgg16_false.classifier[6]:", vgg16_false.classifier[6])
    print(_("vgg16_false with classifier[6] = Linear(4096, 10): {n:,} parameters").format(
        n=count_parameters(vgg16_false)))

    with SummaryWriter(board.run_dir("p25_model_pretrained", args)) as writer:
        for name, model in (("vgg16_true", vgg16_true), ("vgg16_false", vgg16_false)):
            text = _("{n:,} parameters").format(n=count_parameters(model)) + f"\n\n{model}"
            writer.add_text(name, "    " + text.replace("\n", "\n    "))  # indented: shown as code
        if args.finetune_steps:
            finetune(vgg16_true, train_data, args, writer)
    board.tensorboard_hint(writer)


def imagenet_normalization(device):
    """ImageNet's per-channel mean and std, as VGG16's weights expect their input, shaped (1, 3, 1, 1)."""
    preset = VGG16_Weights.DEFAULT.transforms()  # resize 256, crop 224, normalize: only the last is used
    print(_("inputs normalised with ImageNet's mean {mean} and std {std} (VGG16_Weights.DEFAULT.transforms())").format(
        mean=preset.mean, std=preset.std))
    return (torch.tensor(preset.mean, device=device).view(1, 3, 1, 1),
            torch.tensor(preset.std, device=device).view(1, 3, 1, 1))


def finetune(vgg16_true, train_data, args, writer):
    """Beyond the course: train the new classifier on CIFAR-10 for --finetune-steps batches."""
    dataloader = DataLoader(train_data, batch_size=args.batch_size, shuffle=True,
                            **datasets.loader_options(args.num_workers))
    steps = min(args.finetune_steps, 2 if args.quick else len(dataloader))
    for param in vgg16_true.features.parameters():
        param.requires_grad_(False)  # frozen: backward() stops before the convolutions
    trainable = [p for p in vgg16_true.parameters() if p.requires_grad]
    print(_("fine-tuning the classifier: {n:,} of {total:,} parameters learn, {steps} steps on {device}").format(
        n=sum(p.numel() for p in trainable), total=count_parameters(vgg16_true), steps=steps,
        device=flags.device_name(args.device)))
    vgg16_true.to(args.device).train()  # train(): the classifier's Dropout layers are active
    loss_fn = nn.CrossEntropyLoss()
    optim = torch.optim.SGD(trainable, lr=0.01)
    mean, std = imagenet_normalization(args.device)
    progress = Progress(steps, 1)  # a bar on a terminal, one line in a file
    step = 0
    for data in dataloader:
        imgs, targets = data
        imgs, targets = imgs.to(args.device), targets.to(args.device)
        # 32x32 as they are: VGG16 learned on 224x224, but upsampling would cost 49 times more per step
        outputs = vgg16_true((imgs - mean) / std)  # (32, 3, 32, 32) -> features (32, 512, 1, 1) -> (32, 10)
        loss = loss_fn(outputs, targets)
        optim.zero_grad()
        loss.backward()
        optim.step()
        progress.update(len(imgs), loss)
        writer.add_scalar("train_loss", loss.item(), step)
        step = step + 1
        if step == steps:
            break
    progress.close()


if __name__ == "__main__":
    console.run(main)
