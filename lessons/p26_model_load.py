"""P26 网络模型的保存与读取 (Saving and loading models): loading

    python lessons/p26_model_save.py     # first: writes checkpoints/p26/tudui_method{1,2}.pth
    python lessons/p26_model_load.py     # add --model vgg16 after `p26_model_save.py --model vgg16`
    python lessons/p26_model_load.py --checkpoint some_tudui.pth   # check any Tudui file, safely
    tensorboard --logdir logs/p26_model_load     # TEXT: what was loaded, and how

The course's model_load.py, updated for PyTorch >= 2.6:
  方式1 (method 1), the whole model: the course's `model = torch.load("vgg16_method1.pth")` now
      fails with `UnpicklingError: Weights only load failed ... Unsupported global: GLOBAL
      model.Tudui`: since 2.6, torch.load defaults to weights_only=True, which rebuilds only
      tensors and plain containers. The script shows that error, then the safe fix: allow-list
      exactly the classes the file needs, `with torch.serialization.safe_globals([Tudui, nn.Conv2d,
      ...]): torch.load(...)`.
      The trap (陷阱): the file holds the *name* "model.Tudui", not the class's code, so the class
      must be importable where you load (here: `from model import Tudui`). The course hit this as
      `AttributeError: Can't get attribute 'Tudui' on <module '__main__'>` and fixed it with
      `from model_save import *`, which re-runs model_save.py (saving everything again) as a side
      effect of the import. This script imports nothing from p26_model_save.py.
      Why not just weights_only=False, as the error message offers? A pickle may name any function
      (os.system, ...) and torch.load calls it while reading: loading a file is running a program.
      Only ever do that with a file you made yourself.
  方式2 (method 2, recommended): `tudui.load_state_dict(torch.load("tudui_method2.pth"))` needs no
      allow-list: a state_dict is only tensors.
  map_location: a file saved on a GPU holds CUDA tensors, and torch.load puts them back on the GPU,
      which fails on a machine without one. `map_location=device` (here: --device, CPU when there
      is no GPU) puts them where you want them. The script prints where the tensors were saved.
Both methods give identical outputs; so does our checkpoint (checkpoint.load_tudui), which reads any
of the three kinds of file safely and names what is wrong with a bad one (--checkpoint FILE).

Differences from the course's model_load.py: no `from model_save import *`; weights_only loading
with an allow-list; map_location; Tudui by default (--model vgg16 for the course's 528 MiB files).
"""
import pickle
from pathlib import Path

import torch
import torchvision
from torch import nn

from kit import checkpoint, common
from model import Tudui

# exactly the classes a whole-model file of each may name; anything else in the file is refused
ALLOWED = {
    "tudui": [Tudui, nn.Sequential, nn.Conv2d, nn.MaxPool2d, nn.Flatten, nn.Linear],
    "vgg16": [torchvision.models.VGG, nn.Sequential, nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.AdaptiveAvgPool2d,
              nn.Linear, nn.Dropout],
}


def saved_on(path):
    """The devices the file's tensors were saved on, e.g. {'cuda:0'}: map_location may be a function."""
    seen = set()
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
    for path in (method1, method2):
        if not path.is_file():
            flags = ("" if name == "tudui" else " --model vgg16") + \
                    ("" if folder == common.CHECKPOINT_DIR / "p26" else f" --checkpoint-dir \"{folder}\"")
            raise common.LessonError(f"{path} does not exist: run python lessons/p26_model_save.py{flags} first")
    try:
        devices = saved_on(method2)
    except Exception as e:
        raise common.LessonError(f"{method2} is not a readable state_dict file ({first_line(e)})") from None
    print(f"the tensors were saved on {', '.join(devices)}; map_location={str(device)!r} loads them onto {device}")

    # 方式1 -> 保存方式1, 加载模型: the course's line, with PyTorch >= 2.6's default weights_only=True
    try:
        model = torch.load(method1, map_location=device)
        print("torch.load(method 1) worked without an allow-list (PyTorch older than 2.6?)")
    except pickle.UnpicklingError as e:
        print(f"torch.load({method1.name}) -> UnpicklingError: {first_line(e)}")
    except Exception as e:
        raise common.LessonError(f"{method1} is not a readable PyTorch file ({first_line(e)})") from None
    # the safe fix: allow exactly these classes (Tudui must be importable to be named here: the trap)
    try:
        with torch.serialization.safe_globals(ALLOWED[name]):
            model = torch.load(method1, map_location=device, weights_only=True)
    except Exception as e:  # nothing from the file has run: the unpickler refused before calling anything
        raise common.LessonError(f"refused to load {method1}: {first_line(e)}") from None
    if not isinstance(model, nn.Module):
        raise common.LessonError(f"{method1} holds a {type(model).__name__}, not a whole model")
    print(f"with torch.serialization.safe_globals([{', '.join(c.__name__ for c in ALLOWED[name])}]): loaded a "
          f"{type(model).__name__}")
    print(model)
    cls = f"{type(model).__module__}.{type(model).__name__}"
    print(f"the trap: the file holds only the name '{cls}', not its code: it loads where that class can be "
          "imported (the course's fix, `from model_save import *`, re-ran the whole save script)")
    print("weights_only=False would also load it, by running whatever the pickle names (os.system included): "
          "never on a file you did not make yourself")

    # 方式2 -> 加载模型: build the model, then fill in the weights
    tudui = torchvision.models.vgg16(weights=None) if name == "vgg16" else Tudui()
    try:
        state_dict = torch.load(method2, map_location=device)  # weights_only=True: only tensors, always safe
    except Exception as e:
        raise common.LessonError(f"{method2} is not a readable state_dict file ({first_line(e)})") from None
    if not isinstance(state_dict, dict):
        raise common.LessonError(f"{method2} holds a {type(state_dict).__name__}, not a state_dict")
    checkpoint.check_compatible(tudui, state_dict, method2)  # one line naming the keys/shapes that differ
    tudui.load_state_dict(state_dict)
    tudui.to(device)
    print(f"method 2: {type(tudui).__name__}().load_state_dict(torch.load({method2.name!r})) - no allow-list needed")

    # the same weights, so the same outputs
    x = torch.rand(2, 3, 32, 32, device=device)  # (2, 3, 32, 32) -> (2, 10) for Tudui, (2, 1000) for VGG16
    with torch.no_grad():
        out1, out2 = model.eval()(x), tudui.eval()(x)
    same = torch.equal(out1, out2)
    print(f"method 1 and method 2 give identical outputs: {same}")
    results = [f"method 1 and method 2 identical: {same}"]

    ours = folder / "tudui_checkpoint.pth"
    if name == "tudui" and ours.is_file():
        tudui3, classes = checkpoint.load_tudui(ours, device)
        with torch.no_grad():
            same3 = torch.equal(tudui3(x), out2)
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
