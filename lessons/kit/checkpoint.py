"""Tudui checkpoints: written through a temp file and a rename; read (ours, method 1, 2) without running their code."""
import contextlib
import itertools
import os
import re
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

from kit.datasets import CIFAR10_CLASSES
from kit.errors import LessonError, first_line, shown, write_failure
from kit.i18n import N_, _
from model import Tudui

SAFE_GLOBALS = [(Tudui, f"{module}.Tudui") for module in ("__main__", "model", "model_save", "train")] + [
    nn.Sequential, nn.Conv2d, nn.MaxPool2d, nn.Flatten, nn.Linear]  # a whole Tudui, a course script's or ours: ours
PICKLED = (b"PK", b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")  # torch's zip file; a pickle (PROTO, version)


def save(path, model, *, classes, **meta):
    return atomic_save({"model": model.state_dict(), "classes": list(classes), **meta}, path)


def atomic_save(obj, path):
    """torch.save(obj, path) through a temp file and a rename: `path` is the old file or the new one, never half."""
    path, tmp = Path(path), None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a checkpoint is an ordinary file
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())  # on disk before the rename makes it visible
        os.replace(tmp, path)
    except BaseException as e:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        cause = write_failure(path, e.__context__ if isinstance(e.__context__, OSError) else e)  # why "unexpected pos"
        if cause is None:  # Ctrl-C, or a bug (an object that cannot be pickled): not the disk's fault
            raise
        kept = _(" (the previous file is unchanged)") if path.is_file() else ""
        raise _error(_("could not write {path}: {cause}") + kept, path, cause=cause) from None
    return path


@contextlib.contextmanager
def one_line_errors(path, allowed=N_("a Tudui layer"), into=None):
    """Around torch.load(path, ...) or into.load_state_dict(torch.load(path, ...)): a failure (or NaN) is one line."""
    try:
        with warnings.catch_warnings(record=True):  # torch.load's "Detected pickle protocol": our line says enough
            yield
    except Exception as e:  # a broken file can fail in many ways deep inside torch.load
        found, unpickler = re.search(r"GLOBAL (\S+)", str(e)), re.search(r"WeightsUnpickler error:\s*(.+)", str(e))
        if into is not None and "state_dict" in str(e):  # load_state_dict refused it: say what differs
            check_compatible(into, load(path)["model"], path)
        if not found and not (unpickler and Path(path).read_bytes()[:2] in PICKLED):  # a text file, say
            raise _error(_("{path} is not a readable PyTorch checkpoint (truncated, corrupt, or another kind of file)"),
                         path) from None
        why = (_("it asks for '{name}', which is neither a tensor nor {allowed} on the allow-list").format(
            name=found.group(1), allowed=_(allowed)) if found else  # weights_only refused a name: nothing has run
            _("it is a pickle that does more than store tensors ({what})").format(what=unpickler.group(1)))
        raise _error(_("refused to load {path}: {why} (nothing from the file was run)"), path, why=why) from None
    if into is not None:
        check_finite(into.state_dict(), path)


def load(path, map_location="cpu"):
    """Any of the three kinds of file as {"model": state_dict, "classes": list or None, ...}."""
    if not Path(path).is_file():
        raise _error(_("checkpoint {path} is not a file") if Path(path).exists() else
                     _("checkpoint {path} does not exist"), path)
    with torch.serialization.safe_globals(SAFE_GLOBALS), one_line_errors(path):
        obj = torch.load(path, map_location=map_location, weights_only=True)
    if isinstance(obj, nn.Module):  # the course's method 1: a whole model
        obj = {"model": whole_model_state(obj, path)}
    elif not (isinstance(obj, dict) and isinstance(obj.get("model"), dict)):  # not ours: method 2, a state_dict?
        obj = {"model": obj}
    state = obj["model"]
    odd = isinstance(state, dict) and [k for k, v in state.items() if not isinstance(k, str) or not torch.is_tensor(v)]
    if odd is False or odd or not state:  # a list, a dict of other things, an empty dict
        raise _error(_("{path} holds a {kind}, not a model or a state_dict{what}"), path, kind=type(state).__name__,
                     what=_(" ({key!r} is not a tensor)").format(key=odd[0]) if odd else "")
    return {**obj, "classes": obj.get("classes")}


def whole_model_state(model, path):
    """A whole model's state_dict; refused: hooks, another network named Tudui (fails when run), what breaks it."""
    try:
        hooked = next((f"{name + '.' if name else ''}{attr}" for name, m in model.named_modules()
                       for attr, hooks in vars(m).items() if attr.endswith("hooks") and hooks), None)
        like = Tudui(getattr([*model.modules()][-1], "out_features", 10)) if isinstance(model, Tudui) else model
        leaves = [[repr(m) for m in x.modules() if not next(m.children(), None)] for x in (model, like)]
        differ = next(((i, a, b) for i, (a, b) in enumerate(itertools.zip_longest(*leaves)) if a != b), None)
        if not hooked and not differ:
            return model.state_dict()
    except Exception as e:
        raise _error(_("{path} holds something that breaks while the model is rebuilt ({kind}: {why}): a damaged "
                       "or crafted file"), path, kind=type(e).__name__, why=first_line(e, 100)) from None
    if differ:
        raise _error(_("{path} holds another network under the name Tudui: its layer {i} is {have}, where a Tudui "
                       "has {want}; load it with the code that made it"), path, i=differ[0], have=differ[1],
                     want=differ[2])
    raise _error(_("refused {path}: it carries hooks ({hook}), which no saved model needs (a crafted file; nothing "
                   "was run)"), path, hook=hooked)


def check_finite(state_dict, path):
    """One line for weights holding NaN or inf: the training that wrote them diverged."""
    if bad := next((k for k, v in state_dict.items() if isinstance(v, torch.Tensor)
                    and (v.is_floating_point() or v.is_complex()) and not torch.isfinite(v).all()), None):
        raise _error(_("{path} holds NaN/inf weights (e.g. {key}): the training that wrote it diverged; retrain with "
                       "a lower --lr"), path, key=bad)


def load_tudui(path, device="cpu"):
    """A Tudui with the checkpoint's weights, in eval mode, on `device`, and its class names."""
    ckpt = load(path, map_location=device)
    state = {re.sub(r"^model1\.", "model.", k): v for k, v in ckpt["model"].items()}  # P22's name, P27's name
    last = state.get("model.8.weight")  # (n, 64): n outputs, one per class
    tudui = Tudui(n := last.shape[0] if last is not None and last.dim() == 2 else 10)
    check_compatible(tudui, state, path)
    check_finite(state, path)
    tudui.load_state_dict(state)
    classes = ckpt["classes"] if ckpt["classes"] is not None else CIFAR10_CLASSES if n == 10 else [  # none: method 1, 2
        f"class {i}" for i in range(n)]
    if not isinstance(classes, (list, tuple)) or not all(isinstance(c, str) for c in classes):
        raise _error(_("{path}: its class names are not a list of words ({kind})"), path, kind=type(classes).__name__)
    if len(classes) != n:
        raise _error(_("{path}: {names} class names for {n} outputs"), path, names=len(classes), n=n)
    return tudui.to(device).eval(), list(classes)


def newest(path, name="best.pth"):
    """path itself if it is a file; else the newest `name` under it (as P27-P34 write it), or how to make one."""
    found = [Path(path)] if Path(path).is_file() else sorted(Path(path).rglob(name), key=lambda p: p.stat().st_mtime)
    if not found:
        where = _("no checkpoint ({name}) in {path}") if Path(path).is_dir() else _("checkpoint {path} does not exist")
        raise _error(where + _(": train one first with `python lessons/p27_train.py --quick` (takes seconds), or pass "
                               "--checkpoint PATH"), path, name=name)
    return found[-1]


def check_compatible(model, state, path):
    """One line naming the keys or shapes that differ, instead of PyTorch's page of text."""
    want, name = model.state_dict(), type(model).__name__
    parts = [(_("missing {keys}"), [k for k in want if k not in state]),
             (_("unexpected {keys}"), [str(k) for k in state if k not in want]),
             (_("different shapes: {keys}"), [f"{k} {tuple(state[k].shape)} ({name} has {tuple(v.shape)})"
                                              for k, v in want.items() if k in state and state[k].shape != v.shape])]
    if said := [words.format(keys=", ".join(keys[:4]) + (f" (+{len(keys) - 4} more)" if len(keys) > 4 else ""))
                for words, keys in parts if keys]:
        raise _error(_("{path} does not hold a {name}: {what}"), path, name=name, what="; ".join(said))


def _error(message, path, **fields):  # the message, already through _(), with the file's name and other fields
    return LessonError(message.format(path=shown(path), **fields))
