"""The shared checkpoint helper: atomic saves, the three kinds of file, and every bad input refused in one line."""
import errno
import os
import pickle
import signal
import subprocess
import sys
import textwrap

import pytest
import torch
from torch import nn

from kit import checkpoint
from kit.datasets import CIFAR10_CLASSES
from kit.errors import LessonError
from model import Tudui

X = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))


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
    (OSError(errno.EFBIG, "File too large"), "file too large (over the file system's or the process's size limit"),
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
        assert str(err.value).startswith(f"could not write {path}: {words}") and "\n" not in str(err.value)
        assert str(err.value).endswith(" (the previous file is unchanged)")
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["ckpt.pth"]  # no temp file
    monkeypatch.undo()
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
    assert str(err.value) == (f"could not write {path}: file too large (over the file system's or the process's "
                              "size limit, ulimit -f) (the previous file is unchanged)")
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
        five = checkpoint.save(tmp_path / "five.pth", Tudui(num_classes=5), classes=list("abcde"))
        loaded, names = checkpoint.load_tudui(five)
        assert names == list("abcde") and outputs(loaded).shape == (4, 5)


COURSE_SCRIPT = """
    # the course's train.py style: Tudui defined in the script itself, so pickled as __main__.Tudui
    import torch
    from torch import nn

    class Tudui(nn.Module):
        def __init__(self):
            super(Tudui, self).__init__()
            self.model = nn.Sequential(
                nn.Conv2d(3, 32, 5, 1, 2), nn.MaxPool2d(2), nn.Conv2d(32, 32, 5, 1, 2), nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 5, 1, 2), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 4 * 4, 64), nn.Linear(64, 10))

        def forward(self, x):
            return self.model(x)

    tudui = Tudui()
    torch.save(tudui, "tudui_0.pth")
    x = torch.rand(4, 3, 32, 32)
    with torch.no_grad():
        torch.save({"x": x, "y": tudui.eval()(x)}, "reference.pth")
"""


def test_whole_model_pickled_from_a_main_script(tmp_path):
    (tmp_path / "train.py").write_text(textwrap.dedent(COURSE_SCRIPT))
    subprocess.run([sys.executable, "train.py"], cwd=tmp_path, check=True, timeout=120,
                   env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})  # no lessons/ on the path
    path = tmp_path / "tudui_0.pth"
    assert "__main__.Tudui" in torch.serialization.get_unsafe_globals_in_checkpoint(path)
    ref = torch.load(tmp_path / "reference.pth", weights_only=True)
    loaded, classes = checkpoint.load_tudui(path)
    with torch.no_grad():
        assert torch.equal(loaded(ref["x"]), ref["y"])
    assert type(loaded) is Tudui and classes == CIFAR10_CLASSES


def test_file_saved_on_a_gpu_loads_on_the_cpu(tmp_path, tudui, monkeypatch):
    """A stand-in for a GPU-made file: its tensors are tagged 'cuda:0', as torch.save does on a GPU."""
    path = tmp_path / "from_gpu.pth"
    registry = torch.serialization._package_registry
    fake = (0, lambda storage: "cuda:0" if storage.device.type == "cpu" else None, registry[0][2])
    monkeypatch.setattr(torch.serialization, "_package_registry", [fake, *registry])
    checkpoint.save(path, tudui, classes=CIFAR10_CLASSES)
    monkeypatch.undo()
    if not torch.cuda.is_available():  # the trap that map_location avoids
        with pytest.raises(RuntimeError, match="CUDA"):
            torch.load(path, weights_only=True)
    assert torch.equal(outputs(checkpoint.load_tudui(path, "cpu")[0]), outputs(tudui))


class Payload:
    """Unpickling this creates a file: the stand-in for os.system('anything')."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


class ShellPayload(Payload):
    def __reduce__(self):
        return os.system, (f"touch '{self.marker}'",)


@pytest.mark.parametrize("kind", ["torch.save", "os.system", "inside a checkpoint dict", "plain pickle"])
def test_malicious_pickle_is_refused_and_never_runs(tmp_path, kind):
    marker, path = tmp_path / "payload_ran", tmp_path / "evil.pth"
    if kind == "plain pickle":
        path.write_bytes(pickle.dumps(Payload(marker)))
    else:  # os.system: a module torch blocks outright, with a message of its own
        torch.save({"torch.save": Payload(marker), "os.system": {"model": ShellPayload(marker)},
                    "inside a checkpoint dict": {"model": {"model.0.weight": Payload(marker)}}}[kind], path)
    with pytest.raises(LessonError, match=r"^refused to load .*evil\.pth: .*\(nothing from the file was run\)$"):
        checkpoint.load_tudui(path)
    assert not marker.exists()
    pickle.loads(pickle.dumps(Payload(marker))).close()  # the payload is real: a plain unpickler runs it
    assert marker.exists()


def bad_file(kind, path):
    """Write one kind of wrong file at path; return the one line expected for it."""
    state = Tudui().state_dict()
    if kind == "truncated":
        data = checkpoint.save(path, Tudui(), classes=CIFAR10_CLASSES).read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind in ("text", "empty"):
        path.write_bytes(b"airplane,automobile,bird\n" if kind == "text" else b"")
    elif kind == "other keys":
        torch.save(nn.Sequential(nn.Conv2d(3, 8, 3), nn.Linear(8, 2)).state_dict(), path)
        return f"{path} does not hold a Tudui: missing model.0.weight, model.0.bias, model.2.weight, " \
               "model.2.bias (+6 more); unexpected 0.weight, 0.bias, 1.weight, 1.bias"
    elif kind == "other shapes":
        torch.save({**state, "model.7.weight": torch.zeros(128, 1024)}, path)  # a wider hidden layer than 64
        return f"{path} does not hold a Tudui: different shapes: model.7.weight (128, 1024) (Tudui has (64, 1024))"
    elif kind in ("list", "dict of numbers", "empty dict"):
        torch.save({"list": [1, 2, 3], "dict of numbers": {"epoch": 3}, "empty dict": {}}[kind], path)
        return {"list": f"{path} holds a list, not a model or a state_dict",
                "dict of numbers": f"{path} holds a dict, not a model or a state_dict ('epoch' is not a tensor)",
                "empty dict": f"{path} holds a dict, not a model or a state_dict"}[kind]
    elif kind == "class names":
        torch.save({"model": state, "classes": torch.arange(10)}, path)
        return f"{path}: its class names are not a list of words (Tensor)"
    elif kind in ("nan", "inf"):
        state["model.7.weight"][3, 5] = float(kind)  # one weight of 65,536 makes every output NaN
        torch.save({"model": state, "classes": CIFAR10_CLASSES}, path)
        return f"{path} holds NaN/inf weights (e.g. model.7.weight): the training that wrote it diverged; " \
               "retrain with a lower --lr"
    elif kind.endswith("hooks"):  # allow-listed layers planted as hooks: state_dict() or forward() would run them
        tudui = Tudui()
        getattr(tudui.model[0], kind)[0] = nn.Linear(1, 1)
        torch.save(tudui, path)
        return f"refused {path}: it carries hooks (model.0.{kind}), which no saved model needs (a crafted file; " \
               "nothing was run)"
    elif kind == "another network":  # Tudui's name and weights, another layer: run, it fails (mat1 and mat2 ...)
        tudui = Tudui()
        tudui.model[5] = nn.MaxPool2d(1)
        torch.save(tudui, path)
        return f"{path} holds another network under the name Tudui: its layer 5 is MaxPool2d(kernel_size=1, " \
               "stride=1, padding=0, dilation=1, ceil_mode=False), where a Tudui has MaxPool2d(kernel_size=2, " \
               "stride=2, padding=0, dilation=1, ceil_mode=False); load it with the code that made it"
    elif kind == "broken":
        tudui = Tudui()
        tudui.__dict__["_modules"] = {"model": torch.zeros(2)}  # a tensor where a layer should be
        torch.save(tudui, path)
        return f"{path} holds something that breaks while the model is rebuilt (AttributeError: 'Tensor' object " \
               "has no attribute 'named_modules'): a damaged or crafted file"
    elif kind == "folder":
        path.mkdir()
        return f"checkpoint {path} is not a file"
    else:
        return f"checkpoint {path} does not exist"
    return f"{path} is not a readable PyTorch checkpoint (truncated, corrupt, or another kind of file)"


@pytest.mark.parametrize("kind", ["truncated", "text", "empty", "other keys", "other shapes", "list",
                                  "dict of numbers", "empty dict", "class names", "nan", "inf", "_state_dict_hooks",
                                  "_forward_hooks", "another network", "broken", "folder", "missing"])
def test_every_bad_file_is_one_line(tmp_path, kind):
    path = tmp_path / "bad.pth"
    expected = bad_file(kind, path)
    with pytest.raises(LessonError) as err:
        checkpoint.load_tudui(path)
    assert str(err.value) == expected


def test_check_finite_passes_finite_and_integer_tensors(tmp_path):
    checkpoint.check_finite({"steps": torch.tensor(3), "w": torch.ones(2)}, tmp_path)


def test_newest_is_the_file_itself_or_the_newest_best_pth(tmp_path):
    with pytest.raises(LessonError, match=r"no checkpoint \(best\.pth\) in .*python lessons/p27_train\.py --quick"):
        checkpoint.newest(tmp_path)
    old = checkpoint.save(tmp_path / "a" / "best.pth", Tudui(), classes=CIFAR10_CLASSES)
    new = checkpoint.save(tmp_path / "b" / "best.pth", Tudui(), classes=CIFAR10_CLASSES)
    os.utime(old, (1e9, 1e9))
    assert checkpoint.newest(tmp_path) == new and checkpoint.newest(old) == old
    with pytest.raises(LessonError, match=r"checkpoint .*nowhere\.pth does not exist: train one first"):
        checkpoint.newest(tmp_path / "nowhere.pth")
