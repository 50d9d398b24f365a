"""P26 网络模型的保存与读取 (Saving and loading models): loading, the course's model_load.py

    python lessons/p26_model_save.py     # first: writes checkpoints/p26/
    python lessons/p26_model_load.py     # add --model vgg16 after `p26_model_save.py --model vgg16`
    python lessons/p26_model_load.py --checkpoint some_tudui.pth   # check any Tudui file, safely
    tensorboard --logdir logs/p26_model_load     # TEXT: what was loaded, and how

Printed: where the tensors were saved; 方式1 refused, then loaded with its classes allow-listed; 方式2;
identical outputs; 陷阱1 (the trap): the one-layer Tudui's file names __main__.Tudui, so it loads only
where that class is defined (and allow-listed).
Differences from the course's model_load.py:
  - every torch.load says weights_only=True, so no environment variable can undo it (PyTorch >= 2.6's
    default; the video's older PyTorch ran the pickle): a whole model loads only with its classes allow-listed;
  - map_location: a file saved on a GPU loads on a CPU; a bad or crafted file is one line, not a traceback;
  - the trap's class is defined here, not imported with `from model_save import *` (which re-ran the save).
"""
from pathlib import Path

from kit import board, checkpoint, console, errors, flags  # before torch: a Ctrl-C while torch loads is then one line
from kit.errors import shown
from kit.i18n import _

import torch
import torchvision
from torch import nn
from torch.utils.tensorboard import SummaryWriter

from model import Tudui as CifarTudui  # P27's Tudui; the name Tudui is the course's trap, below

# exactly the classes a whole-model file of each may name; anything else in the file is refused
ALLOWED = {
    "tudui": [CifarTudui, nn.Sequential, nn.Conv2d, nn.MaxPool2d, nn.Flatten, nn.Linear],
    "vgg16": [torchvision.models.VGG, nn.Sequential, nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.AdaptiveAvgPool2d,
              nn.Linear, nn.Dropout],
}


# 陷阱1 (the trap): the class copied from p26_model_save.py, as in the course's commented-out block. Loading
# trap_tudui_method1.pth needs it, since the file holds only the name __main__.Tudui, not the code
class Tudui(nn.Module):
    def __init__(self):
        super(Tudui, self).__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=3)

    def forward(self, x):
        x = self.conv1(x)
        return x


def saved_on(path):
    """The devices the file's tensors were saved on, e.g. ['cuda:0']: map_location may be a function."""
    seen = set()
    with checkpoint.one_line_errors(path):
        torch.load(path, map_location=lambda storage, location: seen.add(location) or storage, weights_only=True)
    return sorted(seen)


def main(argv=None):
    p = flags.parser(__doc__, data=False, seed=False, quick=False)
    p.add_argument("--model", default="tudui", choices=["tudui", "vgg16"],
                   help=_("which files of p26_model_save.py to load (default: tudui)"))
    p.add_argument("--checkpoint-dir", type=Path, default=flags.CHECKPOINT_DIR / "p26",
                   help=_("where p26_model_save.py put them (default: checkpoints/p26 in the repo)"))
    p.add_argument("--checkpoint", type=Path, help=_("instead: load this Tudui file (ours, a state_dict, or a course "
                                                     "whole-model file) with checkpoint.load_tudui"))
    args = flags.parse(p, argv)
    device = args.device
    if args.checkpoint:
        return check_file(args.checkpoint, device, args)

    name, folder = args.model, args.checkpoint_dir
    method1, method2 = folder / f"{name}_method1.pth", folder / f"{name}_method2.pth"
    trap = folder / "trap_tudui_method1.pth"
    for path in (method1, method2, trap):
        if not path.is_file():
            options = ("" if name == "tudui" else " --model vgg16") + (
                "" if folder == flags.CHECKPOINT_DIR / "p26" else f' --checkpoint-dir "{shown(folder)}"')
            raise errors.LessonError(_("{path} does not exist: run python lessons/p26_model_save.py{options} first")
                                     .format(path=shown(path), options=options))
    devices = saved_on(method2)
    print(_("the tensors were saved on {saved}; map_location={device!r} loads them onto {device}").format(
        saved=", ".join(devices), device=str(device)))
    layers = _("a VGG16 layer") if name == "vgg16" else _("a Tudui layer")

    # 方式1-》保存方式1，加载模型
    # the course's model = torch.load("vgg16_method1.pth") ran the pickle; weights_only=True refuses what it names
    try:
        with checkpoint.one_line_errors(method1, layers):
            model = torch.load(method1, map_location=device, weights_only=True)
    except errors.LessonError as e:
        print(_("weights_only=True alone: {error}").format(error=e))
    # the fix: allow exactly the classes the file names (they must be importable here: from model import ...)
    with torch.serialization.safe_globals(ALLOWED[name]), checkpoint.one_line_errors(method1, layers):
        model = torch.load(method1, map_location=device, weights_only=True)
    checkpoint.check_finite(checkpoint.whole_model_state(model, method1), method1)  # hooks, NaN: one line
    print(_("with torch.serialization.safe_globals([{classes}]): loaded a {kind}").format(
        classes=", ".join(c.__name__ for c in ALLOWED[name]), kind=type(model).__name__))
    print(_("weights_only=False would also load it, by running whatever the pickle names (os.system included): "
            "never on a file you did not make yourself"))

    # 方式2，加载模型 (build the model, then fill in the weights: a state_dict is only tensors, no allow-list)
    vgg16 = torchvision.models.vgg16(weights=None) if name == "vgg16" else CifarTudui()  # the course: pretrained=False
    with checkpoint.one_line_errors(method2, into=vgg16):  # a file that does not fit: one line naming what differs
        vgg16.load_state_dict(torch.load(method2, map_location=device, weights_only=True))
    vgg16 = vgg16.to(device)
    print(_("method 2: {kind}().load_state_dict(torch.load({file!r}, ...)), no allow-list needed").format(
        kind=type(vgg16).__name__, file=shown(method2.name)))

    # the same weights, so the same outputs
    x = torch.rand(2, 3, 32, 32, device=device)  # (2, 3, 32, 32) -> (2, 10) for Tudui, (2, 1000) for VGG16
    with torch.no_grad():
        same = torch.equal(model.eval()(x), vgg16.eval()(x))
    print(_("method 1 and method 2 give identical outputs: {same}").format(same=same))
    results = [_("method 1 and method 2 identical: {same}").format(same=same)]

    # 陷阱1
    # the course's model = torch.load('tudui_method1.pth'), now with weights_only=True: it fails, class defined or not
    try:
        with checkpoint.one_line_errors(trap):
            model = torch.load(trap, map_location=device, weights_only=True)
    except errors.LessonError as e:
        print(_("weights_only=True alone: {error}").format(error=e))
    print(_("(the video's model_load.py, without the class and on PyTorch < 2.6, which unpickled everything, failed "
            "with: AttributeError: Can't get attribute 'Tudui' on <module '__main__' from '...model_load.py'>)"))
    # the fix: the class defined in this script (above), and allow-listed with its one layer
    with torch.serialization.safe_globals([Tudui, nn.Conv2d]), checkpoint.one_line_errors(trap):
        model = torch.load(trap, map_location=device, weights_only=True)
    checkpoint.check_finite(checkpoint.whole_model_state(model, trap), trap)
    print(_("with class Tudui defined in this script and torch.serialization.safe_globals([Tudui, Conv2d]):"))
    print(model)
    print(_("the trap: the file holds the name '{name}', not the code; better still, save tudui.state_dict() "
            "(method 2) and load it into a Tudui() you build: no class names in the file at all").format(
        name=f"{type(model).__module__}.Tudui"))
    results.append(_("the trap loaded with its class defined and allow-listed: {name}").format(
        name=type(model).__name__))

    ours = folder / "tudui_checkpoint.pth"
    if name == "tudui" and ours.is_file():  # what p26_model_save.py wrote with checkpoint.save
        tudui3, classes = checkpoint.load_tudui(ours, device)
        with torch.no_grad():
            same3 = torch.equal(tudui3(x), vgg16(x))
        print(_("checkpoint.load_tudui({file!r}): classes {classes}..., identical outputs: {same}").format(
            file=ours.name, classes=classes[:3], same=same3))
        results.append(_("checkpoint.load_tudui identical: {same}").format(same=same3))

    with SummaryWriter(board.run_dir("p26_model_load", args)) as writer:
        saved = _("saved on {saved}, loaded onto {device}").format(saved=devices, device=device)
        writer.add_text("loaded", "    " + "\n    ".join([saved, *results]))
    board.tensorboard_hint(writer)


def check_file(path, device, args):
    """--checkpoint FILE: any of the three kinds of Tudui file, read safely; a bad one is one clear line."""
    tudui, classes = checkpoint.load_tudui(path, device)
    x = torch.rand(1, 3, 32, 32, device=device)
    with torch.no_grad():
        output = tudui(x)  # (1, 3, 32, 32) -> (1, number of classes)
    print(_("{path}: a Tudui with {n} classes ({classes}); output {shape}").format(
        path=shown(path), n=len(classes), classes=", ".join(classes), shape=tuple(output.shape)))
    with SummaryWriter(board.run_dir("p26_model_load", args)) as writer:
        writer.add_text("loaded", "    " + _("{path}: {n} classes").format(path=shown(path), n=len(classes)))
    board.tensorboard_hint(writer)


if __name__ == "__main__":
    console.run(main)
