"""P25 现有网络模型的使用及修改 (Using and modifying an existing model: VGG16)

    python lessons/p25_model_pretrained.py                      # downloads VGG16's ImageNet weights once, 528 MiB
    python lessons/p25_model_pretrained.py --finetune-steps 50  # beyond the course: transfer learning on CIFAR-10
    tensorboard --logdir logs/p25_model_pretrained

VGG16 (138,357,544 parameters) learned ImageNet's 1,000 classes. The course makes it a 10-class
model two ways: vgg16_true.classifier.add_module('add_linear', nn.Linear(1000, 10)) appends a layer;
vgg16_false.classifier[6] = nn.Linear(4096, 10) replaces the last one. Printed: both, before and after.
--finetune-steps trains vgg16_true's classifier only (the features frozen), on inputs normalised with
ImageNet's mean and std as the weights give them (VGG16_Weights.DEFAULT.transforms()).
TensorBoard: TEXT vgg16_true, vgg16_false (structure, parameters); SCALARS train_loss (fine-tuning).
Differences from the course's model_pretrained.py:
  - weights=None / VGG16_Weights.DEFAULT, not pretrained=False/True (deprecated since torchvision 0.13,
    still accepted by 0.29 with a warning); --weights none, --quick or no network: random weights
  - CIFAR-10 is loaded only to fine-tune; ImageNet itself (the commented-out line) is not used
"""
import copy
import time

from kit import common  # before torch: a Ctrl-C while torch loads is then one line
from kit.data import load_data, short

import torch
import torchvision
from torch import nn
from torchvision.models import VGG16_Weights


def vgg16_pretrained(weights, vgg16_false):
    """VGG16 with ImageNet's weights (`--weights default`), or random ones when they cannot be had."""
    if weights == "default":
        try:  # downloaded once into torch's cache, ~/.cache/torch/hub/checkpoints (TORCH_HOME moves it)
            with common.download_timeout():
                return torchvision.models.vgg16(weights=VGG16_Weights.DEFAULT), True
        except (OSError, RuntimeError, ValueError) as e:  # offline, firewall, disk full, a corrupt cached file
            print(f"warning: VGG16's pretrained weights could not be loaded ({short(e)}); "
                  "vgg16_true continues with random weights", flush=True)
    else:
        print("--weights none: vgg16_true gets random weights too (nothing is downloaded)")
    # random weights: a copy of vgg16_false's, as building VGG16 again would take seconds
    return copy.deepcopy(vgg16_false), False


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


def main(argv=None):
    p = common.parser(__doc__, batch_size=32)
    p.add_argument("--weights", default=None, choices=["default", "none"],
                   help="default: VGG16_Weights.DEFAULT for vgg16_true (downloaded once, 528 MiB); "
                        "none: random weights, never downloads (default: default; none with --quick)")
    p.add_argument("--finetune-steps", type=common.non_negative_int, default=0,
                   help="steps of transfer learning on CIFAR-10 with the features frozen (default: 0); "
                        "--quick caps it at 2")
    args = p.parse_args(argv)
    finetune_steps = min(args.finetune_steps, 2) if args.quick else args.finetune_steps
    if args.weights is None:  # a smoke run never starts a 528 MiB download
        args.weights = "none" if args.quick else "default"
    common.seed_everything(args.seed)
    device = common.get_device(args.device)

    # The course's commented-out ImageNet line stays out: torchvision cannot download ImageNet, whose
    # ILSVRC-2012 archives (about 150 GB) are fetched by hand after registering at image-net.org.
    print("ImageNet itself is not downloaded (about 150 GB, by hand after registering at image-net.org); "
          "VGG16's ImageNet weights are one 528 MiB file")
    vgg16_false = torchvision.models.vgg16(weights=None)                  # the course: pretrained=False
    vgg16_true, pretrained = vgg16_pretrained(args.weights, vgg16_false)  # the course: pretrained=True
    print(vgg16_true)
    print(f"VGG16: {count_parameters(vgg16_true):,} parameters, "
          f"{'ImageNet weights' if pretrained else 'random weights'}")

    # way 1: append a layer to the classifier, 1000 ImageNet scores -> 10 CIFAR-10 scores
    vgg16_true.classifier.add_module("add_linear", nn.Linear(1000, 10))
    print(vgg16_true)
    print(f"vgg16_true with classifier.add_linear = Linear(1000, 10): {count_parameters(vgg16_true):,} parameters")

    # way 2: replace the last layer, 4096 -> 1000 becomes 4096 -> 10
    print(vgg16_false)
    vgg16_false.classifier[6] = nn.Linear(4096, 10)
    print(vgg16_false)
    print(f"vgg16_false with classifier[6] = Linear(4096, 10): {count_parameters(vgg16_false):,} parameters")

    with common.writer("p25_model_pretrained", args) as writer:
        for name, model in (("vgg16_true", vgg16_true), ("vgg16_false", vgg16_false)):
            text = f"{count_parameters(model):,} parameters\n\n{model}"
            writer.add_text(name, "    " + text.replace("\n", "\n    "))  # indented: shown as code
        if finetune_steps:
            finetune(vgg16_true, finetune_steps, args, device, writer)
        common.tensorboard_hint(writer)


def imagenet_normalization(device):
    """ImageNet's per-channel mean and std, as VGG16's weights expect their input, shaped (1, 3, 1, 1)."""
    preset = VGG16_Weights.DEFAULT.transforms()  # resize 256, crop 224, normalize: only the last is used
    print(f"inputs normalised with ImageNet's mean {preset.mean} and std {preset.std} "
          "(VGG16_Weights.DEFAULT.transforms())")
    return (torch.tensor(preset.mean, device=device).view(1, 3, 1, 1),
            torch.tensor(preset.std, device=device).view(1, 3, 1, 1))


def finetune(vgg16_true, steps, args, device, writer):
    data = load_data(args)
    for param in vgg16_true.features.parameters():
        param.requires_grad_(False)  # frozen: backward() stops before the convolutions
    trainable = [p for p in vgg16_true.parameters() if p.requires_grad]
    print(f"fine-tuning the classifier: {sum(p.numel() for p in trainable):,} of "
          f"{count_parameters(vgg16_true):,} parameters learn, on {common.device_name(device)}")
    vgg16_true.to(device).train()  # train(): the classifier's Dropout layers are active
    loss_fn = nn.CrossEntropyLoss()
    optim = torch.optim.SGD(trainable, lr=0.01)
    mean, std = imagenet_normalization(device)
    step, start = 0, time.perf_counter()
    while step < steps:
        for imgs, targets in data.train_loader:
            imgs, targets = imgs.to(device), targets.to(device)
            # 32x32 as they are: VGG16 learned on 224x224, but upsampling would cost 49 times more per step
            outputs = vgg16_true((imgs - mean) / std)  # (32, 3, 32, 32) -> features (32, 512, 1, 1) -> (32, 10)
            loss = loss_fn(outputs, targets)
            optim.zero_grad()
            loss.backward()
            optim.step()
            writer.add_scalar("train_loss", loss.item(), step)
            print(f"finetune step {step + 1}/{steps}: loss {loss.item():.4f}")
            step += 1
            if step == steps:
                break
    seconds = time.perf_counter() - start
    print(f"{steps} steps in {seconds:.1f} s ({seconds / steps:.2f} s per step of {args.batch_size} images)")


if __name__ == "__main__":
    common.run(main)
