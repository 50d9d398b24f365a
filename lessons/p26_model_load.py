"""P26 网络模型的保存与读取 (Saving and loading models): loading

    python lessons/p26_model_save.py     # first: writes checkpoints/p26/
    python lessons/p26_model_load.py     # add --model vgg16 after `p26_model_save.py --model vgg16`
    python lessons/p26_model_load.py --checkpoint some_tudui.pth   # check any Tudui file, safely
    tensorboard --logdir logs/p26_model_load     # TEXT: what was loaded, and how

Printed: where the tensors were saved, method 1 and method 2 loaded (identical outputs), and the trap
(陷阱): the one-layer Tudui's file names __main__.Tudui, so it loads only where that class is defined.
Differences from the course's model_load.py:
  - PyTorch >= 2.6 loads with weights_only=True (written out here, so no environment variable can undo
    it): a whole model loads only with its classes allow-listed (safe_globals), and the course's bare
    torch.load of a whole model fails with UnpicklingError; the video's older PyTorch ran the pickle;
  - the trap's class is defined here, not imported with `from model_save import *` (which re-ran the save);
  - map_location: a file saved on a GPU loads on a CPU; a NaN or crafted file is one line, not a traceback.
"""
from pathlib import Path

from kit import checkpoint, common  # before torch: a Ctrl-C while torch loads is then one line

import torch
import torchvision
from torch import nn

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
    """The devices the file's tensors were saved on, e.g. {'cuda:0'}: map_location may be a function."""
    seen = set()
    with checkpoint.one_line_errors(path):
        torch.load(path, map_location=lambda storage, location: seen.add(location) or storage, weights_only=True)
    return sorted(seen)


def first_line(e):
    """The line of an error that says what went wrong (torch.load's messages are pages long)."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    return next((line for line in lines if "Unsupported global" in line), lines[0] if lines else type(e).__name__)


def main(argv=None):
    p = common.parser(__doc__, data=False)
    p.add_argument("--model", default="tudui", choices=["tudui", "vgg16"],
                   help="which files of p26_model_save.py to load (default: tudui)")
    p.add_argument("--checkpoint-dir", type=Path, default=common.CHECKPOINT_DIR / "p26",
                   help="where p26_model_save.py put them (default: checkpoints/p26 in the repo)")
    p.add_argument("--checkpoint", type=Path, help="instead: load this Tudui file (ours, a state_dict, or a "
                                                  "course whole-model file) with checkpoint.load_tudui")
    args = p.parse_args(argv)
    common.seed_everything(args.seed)
    device = common.get_device(args.device)
    if args.checkpoint:
        return check_file(args.checkpoint, device, args)

    name, folder = args.model, args.checkpoint_dir
    method1, method2 = folder / f"{name}_method1.pth", folder / f"{name}_method2.pth"
    trap = folder / "trap_tudui_method1.pth"
    for path in (method1, method2, trap):
        if not path.is_file():
            flags = ("" if name == "tudui" else " --model vgg16") + \
                    ("" if folder == common.CHECKPOINT_DIR / "p26" else f" --checkpoint-dir \"{folder}\"")
            raise common.LessonError(f"{path} does not exist: run python lessons/p26_model_save.py{flags} first")
    devices = saved_on(method2)
    print(f"the tensors were saved on {', '.join(devices)}; map_location={str(device)!r} loads them onto {device}")
    layers = "a VGG16 layer" if name == "vgg16" else "a Tudui layer"

    # 方式1 -> 保存方式1, 加载模型: the course's model = torch.load("vgg16_method1.pth"), run by PyTorch >= 2.6
    try:
        model = torch.load(method1, map_location=device, weights_only=True)
    except Exception as e:  # UnpicklingError: the file names classes, and only tensors are trusted by default
        print(f"torch.load({method1.name}) -> {type(e).__name__}: {first_line(e)}")
    # the fix: allow exactly the classes the file names (they must be importable here: from model import ...)
    with torch.serialization.safe_globals(ALLOWED[name]), checkpoint.one_line_errors(method1, layers):
        model = torch.load(method1, map_location=device, weights_only=True)
    checkpoint.check_finite(checkpoint.whole_model_state(model, method1), method1)  # NaN or crafted: one line
    print(f"with torch.serialization.safe_globals([{', '.join(c.__name__ for c in ALLOWED[name])}]): loaded a "
          f"{type(model).__name__}")
    print("weights_only=False would also load it, by running whatever the pickle names (os.system included): "
          "never on a file you did not make yourself")

    # 方式2, 加载模型: build the model, then fill in the weights; a state_dict is only tensors: no allow-list
    model2 = torchvision.models.vgg16(weights=None) if name == "vgg16" else CifarTudui()
    with checkpoint.one_line_errors(method2):
        state_dict = torch.load(method2, map_location=device, weights_only=True)
    if not isinstance(state_dict, dict):
        raise common.LessonError(f"{method2} holds a {type(state_dict).__name__}, not a state_dict")
    checkpoint.check_compatible(model2, state_dict, method2)  # one line naming the keys/shapes that differ
    checkpoint.check_finite(state_dict, method2)
    model2.load_state_dict(state_dict)
    model2.to(device)
    print(f"method 2: {type(model2).__name__}().load_state_dict(torch.load({method2.name!r})) - no allow-list needed")

    # the same weights, so the same outputs
    x = torch.rand(2, 3, 32, 32, device=device)  # (2, 3, 32, 32) -> (2, 10) for Tudui, (2, 1000) for VGG16
    with torch.no_grad():
        same = torch.equal(model.eval()(x), model2.eval()(x))
    print(f"method 1 and method 2 give identical outputs: {same}")
    results = [f"method 1 and method 2 identical: {same}"]

    # 陷阱1 (the trap): the course's model = torch.load('tudui_method1.pth'); today it fails, class defined or not
    try:
        model = torch.load(trap, map_location=device, weights_only=True)
    except Exception as e:
        print(f"torch.load({trap.name}) -> {type(e).__name__}: {first_line(e)}")
    print("(the video's model_load.py, without the class and on PyTorch < 2.6, which unpickled everything, failed "
          "with: AttributeError: Can't get attribute 'Tudui' on <module '__main__' from '...model_load.py'>)")
    # the fix: the class defined in this script (above), and allow-listed with its one layer
    with torch.serialization.safe_globals([Tudui, nn.Conv2d]), checkpoint.one_line_errors(trap):
        model = torch.load(trap, map_location=device, weights_only=True)
    checkpoint.check_finite(checkpoint.whole_model_state(model, trap), trap)
    print("with class Tudui defined in this script and torch.serialization.safe_globals([Tudui, Conv2d]):")
    print(model)
    print(f"the trap: the file holds the name '{type(model).__module__}.Tudui', not the code; better still, save "
          "tudui.state_dict() (method 2) and load it into a Tudui() you build: no class names in the file at all")
    results.append(f"the trap loaded with its class defined and allow-listed: {type(model).__name__}")

    ours = folder / "tudui_checkpoint.pth"
    if name == "tudui" and ours.is_file():
        tudui3, classes = checkpoint.load_tudui(ours, device)
        with torch.no_grad():
            same3 = torch.equal(tudui3(x), model2(x))
        print(f"checkpoint.load_tudui({ours.name!r}): classes {classes[:3]}..., identical outputs: {same3}")
        results.append(f"checkpoint.load_tudui identical: {same3}")

    with common.writer("p26_model_load", args) as writer:
        writer.add_text("loaded", "    " + "\n    ".join([f"saved on {devices}, loaded onto {device}", *results]))
        common.tensorboard_hint(writer)


def check_file(path, device, args):
    """--checkpoint FILE: any of the three kinds of Tudui file, read safely; a bad one is one clear line."""
    tudui, classes = checkpoint.load_tudui(path, device)
    x = torch.rand(1, 3, 32, 32, device=device)
    with torch.no_grad():
        output = tudui(x)  # (1, 3, 32, 32) -> (1, number of classes)
    print(f"{path}: a Tudui with {len(classes)} classes ({', '.join(classes)}); output {tuple(output.shape)}")
    with common.writer("p26_model_load", args) as writer:
        writer.add_text("loaded", f"    {path}: {len(classes)} classes")
        common.tensorboard_hint(writer)


if __name__ == "__main__":
    common.run(main)
