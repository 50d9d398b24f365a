"""P26 网络模型的保存与读取 (Saving and loading models): saving

    python lessons/p26_model_save.py               # Tudui, a second; then run p26_model_load.py
    python lessons/p26_model_save.py --model vgg16 # the course's VGG16: two files of 528 MiB each
    tensorboard --logdir logs/p26_model_save       # TEXT: the files and their sizes

The course's model_save.py, two ways to save a model:
  方式1 (method 1), the whole model:  torch.save(tudui, "tudui_method1.pth")
      pickles the object: the weights plus *references* to its classes by name ("model.Tudui",
      "torch.nn.modules.conv.Conv2d", ...). The code of the classes is not in the file, so
      loading needs them importable, and torch >= 2.6 refuses it unless they are allow-listed.
  方式2 (method 2, recommended):      torch.save(tudui.state_dict(), "tudui_method2.pth")
      only the tensors, by name (model.0.weight, ...): the file loads anywhere, safely, into a
      freshly built Tudui().
Both have the same weights, so the sizes differ only by the pickled structure. The script also
writes our checkpoint format, which P27 onwards use: method 2 plus the class names
(checkpoint.save(path, tudui, classes=...)). Files go to checkpoints/p26/ (--checkpoint-dir).

Which model: the course saves VGG16 (with random weights) and then shows "the trap" with a small
Tudui. Each VGG16 file is 528 MiB, so by default this script saves the course's CIFAR-10 Tudui
(from model.py, 0.6 MiB) for both methods; --model vgg16 saves the course's VGG16 files instead.

The trap (陷阱) of method 1 is shown by p26_model_load.py; the files here are written with
checkpoint.atomic_save(obj, path), which is torch.save(obj, path) into a temporary file followed by
a rename, so a crash mid-write never leaves half a file where the old one was.

The tensors are saved where the model is (--device; a GPU by default when there is one): p26_model_load.py
loads them onto any device with map_location.
"""
from pathlib import Path

import torch
import torchvision

from kit import checkpoint, common
from kit.data import CIFAR10_CLASSES
from model import Tudui


def file_size(path):
    size = path.stat().st_size  # in binary units, as torchvision's docs and Windows Explorer count them
    return f"{size / 2**20:,.1f} MiB" if size >= 2**20 else f"{size / 2**10:,.1f} KiB"


def main(argv=None):
    p = common.parser(__doc__, data=False)
    p.add_argument("--model", default="tudui", choices=["tudui", "vgg16"],
                   help="tudui (default, 0.6 MiB files) or the course's vgg16 (528 MiB per file)")
    p.add_argument("--checkpoint-dir", type=Path, default=common.CHECKPOINT_DIR / "p26",
                   help="where the files go (default: checkpoints/p26 in the repo)")
    args = p.parse_args(argv)
    common.seed_everything(args.seed)
    device = common.get_device(args.device)
    folder = args.checkpoint_dir

    if args.model == "vgg16":
        model = torchvision.models.vgg16(weights=None)  # the course: pretrained=False
    else:
        model = Tudui()
    model = model.to(device)
    name = args.model  # "tudui" or "vgg16": tudui_method1.pth, vgg16_method1.pth, ...
    print(f"{name}: {sum(p.numel() for p in model.parameters()):,} parameters on {device}")

    # 保存方式1 (method 1): structure + parameters, the whole pickled object
    method1 = checkpoint.atomic_save(model, folder / f"{name}_method1.pth")     # = torch.save(model, method1)
    # 保存方式2 (method 2, recommended): the parameters only, a dict of tensors
    method2 = checkpoint.atomic_save(model.state_dict(), folder / f"{name}_method2.pth")  # = torch.save(model.state_dict(), ...)
    files = [(method1, "method 1: whole model (pickled classes + weights)"),
             (method2, "method 2: state_dict (weights only)")]
    if name == "tudui":
        # method 2 plus the class names: the format checkpoint.load_tudui() reads, from P27 on
        ours = checkpoint.save(folder / "tudui_checkpoint.pth", model, classes=CIFAR10_CLASSES)
        files.append((ours, "checkpoint.save: state_dict + class names"))

    for path, what in files:
        print(f"{file_size(path):>10}  {path}   {what}")
    needs = sorted(torch.serialization.get_unsafe_globals_in_checkpoint(method1))  # read without running anything
    print(f"method 1 refers to these classes by name; loading needs each importable (and allow-listed): {needs}")
    print("next: python lessons/p26_model_load.py" + ("" if name == "tudui" else " --model vgg16")
          + ("" if folder == common.CHECKPOINT_DIR / "p26" else f" --checkpoint-dir \"{folder}\""))

    with common.writer("p26_model_save", args) as writer:
        writer.add_text("files", "\n".join(f"    {file_size(path):>10}  {path.name}  {what}" for path, what in files))
        common.tensorboard_hint(writer)


if __name__ == "__main__":
    common.run(main)
