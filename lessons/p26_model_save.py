"""P26 网络模型的保存与读取 (Saving and loading models): saving, the course's model_save.py

    python lessons/p26_model_save.py               # a second; then run p26_model_load.py
    python lessons/p26_model_save.py --model vgg16 # the course's VGG16: two files of 528 MiB each
    tensorboard --logdir logs/p26_model_save       # TEXT: the files and their sizes

Printed: each file's size and what it holds, and the classes a whole-model file names.
  保存方式1 (method 1) torch.save(vgg16): the whole object pickled, weights plus the *names* of its classes;
  保存方式2 (method 2, recommended) torch.save(vgg16.state_dict()): only the tensors;
  陷阱 (the trap): the course's one-layer Tudui, defined here, saved whole; p26_model_load.py opens it.
Differences from the course's model_save.py (files in checkpoints/p26/, or --checkpoint-dir):
  - `vgg16` is P27's Tudui (0.6 MiB files), not the 528 MiB VGG16, unless --model vgg16; weights=None, not
    pretrained=False; the trap's file is trap_tudui_method1.pth (tudui_method1.pth is method 1's);
  - tudui_checkpoint.pth adds the class names to method 2 (checkpoint.save: the format P27 onwards use);
  - each file is written to a temporary file, then renamed: a crash never leaves half a file.
"""
from pathlib import Path

from kit import board, checkpoint, console, flags, locks  # before torch: a Ctrl-C while torch loads is then one line
from kit.datasets import CIFAR10_CLASSES
from kit.errors import shown
from kit.i18n import _

import torch
import torchvision
from torch import nn
from torch.utils.tensorboard import SummaryWriter

from model import Tudui as CifarTudui  # P27's Tudui; the name Tudui is the course's trap, below


# 陷阱 (the trap), saved at the end of main(): defined in this script, as in the course's model_save.py,
# so pickle records it as __main__.Tudui, a class that exists only while this script runs
class Tudui(nn.Module):
    def __init__(self):
        super(Tudui, self).__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=3)

    def forward(self, x):
        x = self.conv1(x)
        return x


def file_size(path):
    size = path.stat().st_size  # in binary units, as torchvision's docs and Windows Explorer count them
    return f"{size / 2**20:,.1f} MiB" if size >= 2**20 else f"{size / 2**10:,.1f} KiB"


def main(argv=None):
    p = flags.parser(__doc__, data=False, quick=False)
    p.add_argument("--model", default="tudui", choices=["tudui", "vgg16"],
                   help=_("tudui (default, 0.6 MiB files) or the course's vgg16 (528 MiB per file)"))
    p.add_argument("--checkpoint-dir", type=Path, default=flags.CHECKPOINT_DIR / "p26",
                   help=_("where the files go (default: checkpoints/p26 in the repo)"))
    args = flags.parse(p, argv)
    name, folder = args.model, args.checkpoint_dir  # name: tudui_method1.pth, or vgg16_method1.pth as the course

    # the course: vgg16 = torchvision.models.vgg16(pretrained=False); here P27's Tudui stands in unless --model vgg16
    vgg16 = torchvision.models.vgg16(weights=None) if name == "vgg16" else CifarTudui()
    vgg16 = vgg16.to(args.device)  # the tensors are saved where the model is: p26_model_load.py shows map_location
    print(_("{name}: {n:,} parameters on {device}").format(name=name, n=sum(p.numel() for p in vgg16.parameters()),
                                                          device=args.device))

    with locks.hold(folder):  # a second run into the same folder is refused
        # 保存方式1,模型结构+模型参数 (the whole pickled object; atomic_save = torch.save, via a temporary file)
        method1 = checkpoint.atomic_save(vgg16, folder / f"{name}_method1.pth")

        # 保存方式2，模型参数（官方推荐） (the parameters only, a dict of tensors)
        method2 = checkpoint.atomic_save(vgg16.state_dict(), folder / f"{name}_method2.pth")
        files = [(method1, _("method 1: whole model (pickled classes + weights)")),
                 (method2, _("method 2: state_dict (weights only)"))]
        if name == "tudui":  # method 2 plus the class names: what checkpoint.load_tudui() reads, from P27 on
            ours = checkpoint.save(folder / "tudui_checkpoint.pth", vgg16, classes=CIFAR10_CLASSES)
            files.append((ours, _("checkpoint.save: state_dict + class names")))

        # 陷阱
        tudui = Tudui()
        trap = checkpoint.atomic_save(tudui, folder / "trap_tudui_method1.pth")  # the course: "tudui_method1.pth"
        files.append((trap, _("the trap: the course's one-layer Tudui, method 1")))

    for path, what in files:
        print(f"{file_size(path):>10}  {shown(path)}   {what}")
    for path in (method1, trap):  # read without running anything
        needs = sorted(torch.serialization.get_unsafe_globals_in_checkpoint(path))
        print(_("{file} names these classes; loading needs each importable (and allow-listed): {needs}").format(
            file=shown(path.name), needs=needs))
    options = ("" if name == "tudui" else " --model vgg16") + (
        "" if folder == flags.CHECKPOINT_DIR / "p26" else f' --checkpoint-dir "{shown(folder)}"')
    print(_("next: {command}").format(command="python lessons/p26_model_load.py" + options))

    with SummaryWriter(board.run_dir("p26_model_save", args)) as writer:
        table = [f"    {file_size(path):>10}  {shown(path.name)}  {what}" for path, what in files]  # monospace
        writer.add_text("files", "\n".join(table))
    board.tensorboard_hint(writer)


if __name__ == "__main__":
    console.run(main)
