"""Save and load Tudui checkpoints safely (P26 onwards).

    checkpoint.save(path, tudui, classes=data.classes, epoch=3)   # atomic: temp file, then rename
    ckpt = checkpoint.load(path)            # {"model": state_dict, "classes": [...] or None, ...}
    tudui, classes = checkpoint.load_tudui(path, device)
    checkpoint.atomic_save(obj, path)       # torch.save(obj, path) through a temp file and a rename

`load` never runs code from the file: `torch.load(..., weights_only=True)` only rebuilds tensors
and plain containers. Three kinds of file are accepted:
  - ours: {"model": state_dict, "classes": [...], ...metadata}
  - a bare state_dict (the course's method 2: torch.save(tudui.state_dict(), ...))
  - a whole pickled Tudui (the course's method 1: torch.save(tudui, ...)), made by a script that
    defined Tudui itself (__main__.Tudui) or imported it (model.Tudui). Those names go on an
    explicit allow-list that maps them to *our* Tudui class; nothing else is trusted.
"""
import os
import pickle
import re
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

from kit.common import LessonError
from kit.data import CIFAR10_CLASSES
from model import Tudui

# The names a course script pickles Tudui under, and the layers inside it.
TUDUI_NAMES = ["__main__.Tudui", "model.Tudui", "model_save.Tudui", "train.Tudui"]
SAFE_GLOBALS = [(Tudui, name) for name in TUDUI_NAMES] + [nn.Sequential, nn.Conv2d, nn.MaxPool2d, nn.Flatten,
                                                          nn.Linear]


def save(path, model, *, classes, **meta):
    """Write {"model": state_dict, "classes": [...], **meta} to a temp file, then rename it into place.

    A crash or a kill mid-write leaves the previous file at `path` untouched.
    """
    return atomic_save({"model": model.state_dict(), "classes": list(classes), **meta}, path)


def atomic_save(obj, path):
    """torch.save(obj, path), but through a temp file and a rename: `path` is either the old file or the new one.

    A failed write (disk full, no permission) is a LessonError; KeyboardInterrupt passes through.
    """
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
        os.chmod(tmp, 0o644)  # mkstemp makes it private (0600); a checkpoint is an ordinary file
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())  # on disk before the rename makes it visible
        os.replace(tmp, path)  # atomic on Windows, macOS and Linux
    except BaseException as e:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise LessonError(f"could not write {path}: {e.strerror or e}"
                              + (" (the previous file is unchanged)" if path.exists() else "")) from None
        raise
    return path


def load(path, map_location="cpu"):
    """Read any of the three kinds of file into {"model": state_dict, "classes": list or None, ...}."""
    path = Path(path)
    if not path.exists():
        raise LessonError(f"checkpoint {path} does not exist")
    if not path.is_file():
        raise LessonError(f"checkpoint {path} is not a file")
    try:
        with torch.serialization.safe_globals(SAFE_GLOBALS), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Detected pickle protocol")  # our error line says enough
            obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # a broken file can fail in many ways deep inside torch.load
        found = re.search(r"GLOBAL (\S+)", str(e)) if isinstance(e, pickle.UnpicklingError) else None
        if found:  # weights_only refused a name: nothing from the file has run
            raise LessonError(f"refused to load {path}: it asks for '{found.group(1)}', which is neither a tensor "
                              "nor a Tudui layer on the allow-list (nothing from the file was run)") from None
        if (isinstance(e, pickle.UnpicklingError) and "WeightsUnpickler error" in str(e)
                and looks_like_pickle(path)):  # e.g. 'Unsupported operand 149'; a text file trips it too
            what = re.search(r"WeightsUnpickler error:\s*(.+)", str(e))
            raise LessonError(f"refused to load {path}: it is a pickle that does more than store tensors "
                              f"({what.group(1).strip() if what else 'unsupported'}; "
                              "nothing from the file was run)") from None
        raise LessonError(f"{path} is not a readable PyTorch checkpoint (truncated, corrupt, "
                          f"or another kind of file)") from None
    if isinstance(obj, nn.Module):  # course method 1: a whole model
        ckpt = {"model": obj.state_dict(), "classes": None}
    elif isinstance(obj, dict) and isinstance(obj.get("model"), dict):  # ours
        ckpt = {**obj, "classes": obj.get("classes")}
    elif isinstance(obj, dict) and obj and all(isinstance(k, str) for k in obj):
        ckpt = {"model": obj, "classes": None}  # course method 2: a bare state_dict
    else:
        raise LessonError(f"{path} holds a {type(obj).__name__}, not a model or a state_dict")
    odd = [k for k, v in ckpt["model"].items() if not isinstance(v, torch.Tensor)]
    if odd or not ckpt["model"]:
        raise LessonError(f"{path} holds a dict that is not a state_dict"
                          + (f" ({odd[0]!r} is not a tensor)" if odd else " (it is empty)"))
    return ckpt


def looks_like_pickle(path):
    """A torch zip file (PK...) or a pickle (PROTO opcode 0x80, then the protocol number)."""
    with open(path, "rb") as f:
        head = f.read(2)
    return head == b"PK" or (len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5)


def load_tudui(path, device="cpu"):
    """A Tudui with the checkpoint's weights, in eval mode, and its class names."""
    ckpt = load(path, map_location=device)
    # the course's P22 names the Sequential `model1`, its P27 `model`: accept both
    state = {re.sub(r"^model1\.", "model.", k): v for k, v in ckpt["model"].items()}
    last = state.get("model.8.weight")
    num_classes = last.shape[0] if isinstance(last, torch.Tensor) and last.dim() == 2 else 10
    tudui = Tudui(num_classes)
    check_compatible(tudui, state, path)
    tudui.load_state_dict(state)
    classes = ckpt["classes"] or (CIFAR10_CLASSES if num_classes == 10 else [f"class {i}" for i in range(num_classes)])
    if len(classes) != num_classes:
        raise LessonError(f"{path}: {len(classes)} class names for {num_classes} outputs")
    return tudui.to(device).eval(), list(classes)


def check_compatible(model, state, path):
    """One clear line naming the keys or shapes that differ, instead of PyTorch's page of text."""
    want = model.state_dict()
    missing = [k for k in want if k not in state]
    extra = [k for k in state if k not in want]
    name = type(model).__name__
    shape = lambda t: tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__  # noqa: E731
    shapes = [f"{k} {shape(state[k])} ({name} has {tuple(v.shape)})"
              for k, v in want.items() if k in state and shape(state[k]) != tuple(v.shape)]
    if missing or extra or shapes:
        parts = [f"missing {first(missing, 4)}" if missing else "",
                 f"unexpected {first(extra, 4)}" if extra else "",
                 f"different shapes: {first(shapes, 3, sep='; ')}" if shapes else ""]
        raise LessonError(f"{path} does not hold a {name}: {'; '.join(p for p in parts if p)}")


def first(items, n, sep=", "):
    """'a, b, c (+5 more)'"""
    more = f" (+{len(items) - n} more)" if len(items) > n else ""
    return sep.join(items[:n]) + more
