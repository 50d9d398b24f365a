"""The shared checkpoint helper: atomic saves, the three kinds of file, and every bad input refused in one line."""
import errno
import inspect
import os
import pickle
import signal
import subprocess
import sys

import pytest
import torch
from torch import nn

from kit import checkpoint
from kit.datasets import CIFAR10_CLASSES
from kit.errors import LessonError
from model import Tudui

X = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))
FILE_TOO_LARGE = "file too large (over the file system's or the process's size limit, ulimit -f)"


def outputs(model):
    with torch.no_grad():
        return model.eval()(X)


@pytest.fixture
def tudui():
    torch.manual_seed(1)
    return Tudui()


@pytest.mark.parametrize("failure, words", [
    (OSError(errno.ENOSPC, "No space left on device"), "disk full (No space left on device)"),
    (OSError(errno.EACCES, "Permission denied"), "permission denied"),
    (OSError(errno.EFBIG, "File too large"), FILE_TOO_LARGE),
    # torch.save's own words on a full disk
    (RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 11520 vs 11472"),
     "disk full (torch.save could not write all of it)"),
    (KeyboardInterrupt(), None),
    (pickle.PicklingError("Can't pickle <function <lambda>>"), None),  # a bug, not the disk: its own traceback
])
def test_failed_save_leaves_the_old_file(tmp_path, tudui, monkeypatch, failure, words):
    path = checkpoint.save(tmp_path / "ckpt.pth", tudui, classes=CIFAR10_CLASSES, epoch=1)
    before = path.read_bytes()

    def broken_save(obj, f):
        f.write(b"half a checkpoint")  # some bytes reach the temp file, then the disk is full
        raise failure

    monkeypatch.setattr(checkpoint.torch, "save", broken_save)
    with pytest.raises(LessonError if words else type(failure)) as err:
        checkpoint.save(path, Tudui(), classes=CIFAR10_CLASSES, epoch=2)
    if words:
        assert str(err.value) == f"could not write {path}: {words} (the previous file is unchanged)"
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["ckpt.pth"]  # no temp file
    assert checkpoint.load(path)["epoch"] == 1


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="no file size limits on this system")
def test_a_real_failed_write_names_its_cause(tmp_path, tudui):
    """torch.save on a file that cannot grow (a size limit stops it as a full disk does): its own error says only
    'unexpected pos'; the helper names the cause the system gave."""
    import resource
    path = checkpoint.save(tmp_path / "ckpt.pth", tudui, classes=CIFAR10_CLASSES, epoch=1)  # 570 KiB
    before, limits = path.read_bytes(), resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the process is killed at the limit
    try:
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, limits[1]))
        with pytest.raises(LessonError) as err:
            checkpoint.save(path, Tudui(), classes=CIFAR10_CLASSES, epoch=2)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        signal.signal(signal.SIGXFSZ, handler)
    assert str(err.value) == f"could not write {path}: {FILE_TOO_LARGE} (the previous file is unchanged)"
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["ckpt.pth"]


@pytest.mark.parametrize("under", ["a_file/ckpt.pth", "a_file/sub/ckpt.pth", "read_only/ckpt.pth"])
def test_save_where_it_cannot_be_written(tmp_path, tudui, under):
    (tmp_path / "a_file").write_text("a file where a folder should be")
    (tmp_path / "read_only").mkdir(mode=0o555)
    if under.startswith("read_only") and (os.name != "posix" or os.geteuid() == 0):
        pytest.skip("root may write anywhere")
    with pytest.raises(LessonError) as err:
        checkpoint.save(tmp_path / under, tudui, classes=CIFAR10_CLASSES)
    why = "permission denied" if under.startswith("read_only") else f"not a folder ({tmp_path / 'a_file'} is a file)"
    assert str(err.value) == f"could not write {tmp_path / under}: {why}"
    assert not list((tmp_path / "read_only").iterdir())


@pytest.mark.parametrize("kind", ["ours", "method 2", "method 1", "P22's model1 keys"])
def test_every_kind_of_file_loads_with_identical_outputs(tmp_path, tudui, kind):
    path, state = tmp_path / "new_folder" / "ckpt.pth", tudui.state_dict()
    if kind == "ours":  # checkpoint.save makes the folder
        checkpoint.save(path, tudui, classes=list("abcdefghij"), epoch=3)
    else:  # the course's two methods (method 1 pickles model.Tudui), and P22's name for the Sequential
        path.parent.mkdir()
        torch.save({"method 2": state, "method 1": tudui,
                    "P22's model1 keys": {k.replace("model.", "model1.", 1): v for k, v in state.items()}}[kind], path)
    loaded, names = checkpoint.load_tudui(path)
    assert torch.equal(outputs(loaded), outputs(tudui)) and not loaded.training
    assert names == (list("abcdefghij") if kind == "ours" else CIFAR10_CLASSES)  # none in the file: CIFAR-10's
    assert path.stat().st_mode & 0o044 == 0o044  # readable by others, as any file
    if kind == "ours":
        assert checkpoint.load(path)["epoch"] == 3
        checkpoint.check_finite({"steps": torch.tensor(3), "w": torch.ones(2)}, path)  # integer tensors pass too
        five = checkpoint.save(tmp_path / "five.pth", Tudui(num_classes=5), classes=list("abcde"))
        loaded, names = checkpoint.load_tudui(five)
        assert names == list("abcde") and outputs(loaded).shape == (4, 5)


def test_whole_model_pickled_from_a_main_script(tmp_path):
    """The course's train.py style: Tudui defined in the script itself, so pickled as __main__.Tudui."""
    (tmp_path / "train.py").write_text(f"import torch\nfrom torch import nn\n\n{inspect.getsource(Tudui)}" + """
tudui = Tudui()
torch.save(tudui, "tudui_0.pth")
x = torch.rand(4, 3, 32, 32)
with torch.no_grad():
    torch.save({"x": x, "y": tudui.eval()(x)}, "reference.pth")
""")
    subprocess.run([sys.executable, "train.py"], cwd=tmp_path, check=True, timeout=120,
                   env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})  # no lessons/ on the path
    path = tmp_path / "tudui_0.pth"
    assert "__main__.Tudui" in torch.serialization.get_unsafe_globals_in_checkpoint(path)
    ref, (loaded, classes) = torch.load(tmp_path / "reference.pth", weights_only=True), checkpoint.load_tudui(path)
    with torch.no_grad():
        assert torch.equal(loaded(ref["x"]), ref["y"]) and type(loaded) is Tudui and classes == CIFAR10_CLASSES


class Payload:
    """Unpickling this creates a file (with open, or os.system if shell): the stand-in for os.system('anything')."""

    def __init__(self, marker, shell=False):
        self.marker, self.shell = str(marker), shell

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",)) if self.shell else (open, (self.marker, "w"))


@pytest.mark.parametrize("kind", ["torch.save", "os.system", "inside a checkpoint dict", "plain pickle"])
def test_malicious_pickle_is_refused_and_never_runs(tmp_path, kind):
    marker, path = tmp_path / "payload_ran", tmp_path / "evil.pth"
    if kind == "plain pickle":
        path.write_bytes(pickle.dumps(Payload(marker)))
    else:  # os.system: a module torch blocks outright, with a message of its own
        torch.save({"torch.save": Payload(marker), "os.system": {"model": Payload(marker, shell=True)},
                    "inside a checkpoint dict": {"model": {"model.0.weight": Payload(marker)}}}[kind], path)
    with pytest.raises(LessonError, match=r"^refused to load .*evil\.pth: .*\(nothing from the file was run\)$"):
        checkpoint.load_tudui(path)
    assert not marker.exists()
    pickle.loads(pickle.dumps(Payload(marker))).close()  # the payload is real: a plain unpickler runs it
    assert marker.exists()


def write_bad_file(kind, path):
    """Write one kind of wrong file at path: bytes, a folder, nothing, or what torch.save makes of something."""
    tudui, state = Tudui(), Tudui().state_dict()
    if kind.endswith("hooks"):  # allow-listed layers planted as hooks: state_dict() or forward() would run them
        getattr(tudui.model[0], kind)[0] = nn.Linear(1, 1)
    elif kind == "another network":  # Tudui's name and weights, another layer: run, it fails (mat1 and mat2 ...)
        tudui.model[5] = nn.MaxPool2d(1)
    elif kind == "broken":
        tudui.__dict__["_modules"] = {"model": torch.zeros(2)}  # a tensor where a layer should be
    elif kind in ("nan", "inf"):
        state["model.7.weight"][3, 5] = float(kind)  # one weight of 65,536 makes every output NaN
    if kind == "truncated":
        data = checkpoint.save(path, tudui, classes=CIFAR10_CLASSES).read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind in ("text", "empty"):
        path.write_bytes(b"airplane,automobile,bird\n" if kind == "text" else b"")
    elif kind == "folder":
        path.mkdir()
    elif kind != "missing":  # the kinds not named here: the Tudui above, pickled whole
        torch.save({"other keys": nn.Sequential(nn.Conv2d(3, 8, 3), nn.Linear(8, 2)).state_dict(),
                    "other shapes": {**state, "model.7.weight": torch.zeros(128, 1024)},  # a wider hidden layer
                    "list": [1, 2, 3], "dict of numbers": {"epoch": 3}, "empty dict": {},
                    "class names": {"model": state, "classes": torch.arange(10)},
                    "nan": {"model": state, "classes": CIFAR10_CLASSES},
                    "inf": {"model": state, "classes": CIFAR10_CLASSES}}.get(kind, tudui), path)


UNREADABLE = "{} is not a readable PyTorch checkpoint (truncated, corrupt, or another kind of file)"
DIVERGED = ("{} holds NaN/inf weights (e.g. model.7.weight): the training that wrote it diverged; "
            "retrain with a lower --lr")
HOOKED = "refused {}: it carries hooks (model.0.{}), which no saved model needs (a crafted file; nothing was run)"
BAD_FILES = {  # kind: its one line, {} the file (and the hooks' name)
    "truncated": UNREADABLE, "text": UNREADABLE, "empty": UNREADABLE,
    "other keys": "{} does not hold a Tudui: missing model.0.weight, model.0.bias, model.2.weight, model.2.bias "
                  "(+6 more); unexpected 0.weight, 0.bias, 1.weight, 1.bias",
    "other shapes": "{} does not hold a Tudui: different shapes: model.7.weight (128, 1024) (Tudui has (64, 1024))",
    "list": "{} holds a list, not a model or a state_dict",
    "dict of numbers": "{} holds a dict, not a model or a state_dict ('epoch' is not a tensor)",
    "empty dict": "{} holds a dict, not a model or a state_dict",
    "class names": "{}: its class names are not a list of words (Tensor)",
    "nan": DIVERGED, "inf": DIVERGED, "_state_dict_hooks": HOOKED, "_forward_hooks": HOOKED,
    "another network": "{} holds another network under the name Tudui: its layer 5 is MaxPool2d(kernel_size=1, "
                       "stride=1, padding=0, dilation=1, ceil_mode=False), where a Tudui has MaxPool2d(kernel_size=2, "
                       "stride=2, padding=0, dilation=1, ceil_mode=False); load it with the code that made it",
    "broken": "{} holds something that breaks while the model is rebuilt (AttributeError: 'Tensor' object has no "
              "attribute 'named_modules'): a damaged or crafted file",
    "folder": "checkpoint {} is not a file", "missing": "checkpoint {} does not exist",
}


@pytest.mark.parametrize("kind", BAD_FILES)
def test_every_bad_file_is_one_line(tmp_path, kind):
    write_bad_file(kind, tmp_path / "bad.pth")
    with pytest.raises(LessonError) as err:
        checkpoint.load_tudui(tmp_path / "bad.pth")
    assert str(err.value) == BAD_FILES[kind].format(tmp_path / "bad.pth", kind)


def test_newest_is_the_file_itself_or_the_newest_best_pth(tmp_path):
    with pytest.raises(LessonError, match=r"no checkpoint \(best\.pth\) in .*python lessons/p27_train\.py --quick"):
        checkpoint.newest(tmp_path)
    old = checkpoint.save(tmp_path / "a" / "best.pth", Tudui(), classes=CIFAR10_CLASSES)
    new = checkpoint.save(tmp_path / "b" / "best.pth", Tudui(), classes=CIFAR10_CLASSES)
    os.utime(old, (1e9, 1e9))
    assert checkpoint.newest(tmp_path) == new and checkpoint.newest(old) == old
    with pytest.raises(LessonError, match=r"checkpoint .*nowhere\.pth does not exist: train one first"):
        checkpoint.newest(tmp_path / "nowhere.pth")
