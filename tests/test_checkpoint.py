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

try:
    import resource
except ImportError:  # Windows
    resource = None

from kit import checkpoint
from kit.common import LessonError
from kit.data import CIFAR10_CLASSES
from model import Tudui

X = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))


def outputs(model):
    with torch.no_grad():
        return model.eval()(X)


@pytest.fixture
def tudui():
    torch.manual_seed(1)
    return Tudui()


FULL_DISK = RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 11520 vs 11472")


@pytest.mark.parametrize("failure, words", [
    (OSError(errno.ENOSPC, "No space left on device"), "disk full (No space left on device)"),
    (OSError(errno.EACCES, "Permission denied"), "permission denied"),
    (OSError(errno.EFBIG, "File too large"), "file too large (over the file system's or the process's size limit"),
    (FULL_DISK, "disk full (torch.save could not write all of it)"),  # torch.save's own words on a full disk
    (KeyboardInterrupt(), None),
    (pickle.PicklingError("Can't pickle <function <lambda>>"), None),  # a bug, not the disk: its own traceback
])
def test_failed_save_leaves_the_old_file(tmp_path, tudui, monkeypatch, failure, words):
    path = tmp_path / "ckpt.pth"
    checkpoint.save(path, tudui, classes=CIFAR10_CLASSES, epoch=1)
    before = path.read_bytes()

    def broken_save(obj, f):
        f.write(b"half a checkpoint")  # some bytes reach the temp file, then the disk is full
        raise failure

    monkeypatch.setattr(checkpoint.torch, "save", broken_save)
    with pytest.raises(LessonError if words else type(failure)) as err:
        checkpoint.save(path, Tudui(), classes=CIFAR10_CLASSES, epoch=2)
    if words:
        assert str(err.value) == f"could not write {path}: {words}" + str(err.value).partition(words)[2]
        assert str(err.value).endswith(" (the previous file is unchanged)") and "\n" not in str(err.value)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pth"]  # no temp file left behind
    monkeypatch.undo()
    assert checkpoint.load(path)["epoch"] == 1


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="no file size limits on this system")
def test_a_real_failed_write_names_its_cause(tmp_path, tudui):
    """torch.save itself, on a file that cannot grow (a size limit, as a full disk stops it): its own error says
    only 'unexpected pos'; the helper names the cause the system gave."""
    path = checkpoint.save(tmp_path / "ckpt.pth", tudui, classes=CIFAR10_CLASSES, epoch=1)  # 570 KiB
    before = path.read_bytes()
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
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


@pytest.mark.parametrize("under", ["a_file/ckpt.pth", "a_file/sub/ckpt.pth"])
def test_save_under_a_file_is_not_a_folder(tmp_path, tudui, under):
    (tmp_path / "a_file").write_text("a file where a folder should be")
    with pytest.raises(LessonError) as err:
        checkpoint.save(tmp_path / under, tudui, classes=CIFAR10_CLASSES)
    assert str(err.value) == f"could not write {tmp_path / under}: not a folder ({tmp_path / 'a_file'} is a file)"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_save_into_a_read_only_folder(tmp_path, tudui):
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(LessonError, match=r"could not write .*ckpt\.pth: permission denied$"):
            checkpoint.save(folder / "ckpt.pth", tudui, classes=CIFAR10_CLASSES)
    finally:
        folder.chmod(0o755)
    assert not list(folder.iterdir())


def test_round_trip_gives_identical_outputs(tmp_path, tudui):
    path = checkpoint.save(tmp_path / "sub" / "ckpt.pth", tudui, classes=CIFAR10_CLASSES, epoch=3)
    loaded, classes = checkpoint.load_tudui(path)
    assert torch.equal(outputs(loaded), outputs(tudui))
    assert classes == CIFAR10_CLASSES
    assert checkpoint.load(path)["epoch"] == 3
    assert not loaded.training  # ready for inference


def test_other_class_names_and_sizes(tmp_path):
    path = checkpoint.save(tmp_path / "five.pth", Tudui(num_classes=5), classes=list("abcde"))
    loaded, classes = checkpoint.load_tudui(path)
    assert classes == list("abcde") and outputs(loaded).shape == (4, 5)


def test_bare_state_dict(tmp_path, tudui):
    path = tmp_path / "tudui_method2.pth"
    torch.save(tudui.state_dict(), path)  # the course's method 2
    loaded, classes = checkpoint.load_tudui(path)
    assert torch.equal(outputs(loaded), outputs(tudui))
    assert classes == CIFAR10_CLASSES  # a bare state_dict has no names: CIFAR-10's are assumed


def test_whole_model_pickled_from_model_module(tmp_path, tudui):
    path = tmp_path / "tudui_method1.pth"
    torch.save(tudui, path)  # the course's method 1, with Tudui imported from model.py
    assert "model.Tudui" in torch.serialization.get_unsafe_globals_in_checkpoint(path)
    loaded, _ = checkpoint.load_tudui(path)
    assert torch.equal(outputs(loaded), outputs(tudui))


COURSE_SCRIPT = """
    # the course's train.py style: Tudui defined in the script itself, so pickled as __main__.Tudui
    import sys
    import torch
    from torch import nn

    class Tudui(nn.Module):
        def __init__(self):
            super(Tudui, self).__init__()
            self.model = nn.Sequential(
                nn.Conv2d(3, 32, 5, 1, 2), nn.MaxPool2d(2),
                nn.Conv2d(32, 32, 5, 1, 2), nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 5, 1, 2), nn.MaxPool2d(2),
                nn.Flatten(), nn.Linear(64 * 4 * 4, 64), nn.Linear(64, 10))

        def forward(self, x):
            return self.model(x)

    torch.manual_seed(0)
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
    loaded, _ = checkpoint.load_tudui(path, "cpu")
    assert torch.equal(outputs(loaded), outputs(tudui))


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
    marker = tmp_path / "payload_ran"
    path = tmp_path / "evil.pth"
    if kind == "torch.save":
        torch.save(Payload(marker), path)
    elif kind == "os.system":  # a module torch blocks outright, with a message of its own
        torch.save({"model": ShellPayload(marker)}, path)
    elif kind == "inside a checkpoint dict":
        torch.save({"model": {"model.0.weight": Payload(marker)}, "classes": CIFAR10_CLASSES}, path)
    else:
        path.write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(LessonError, match=r"refused to load .*nothing from the file was run"):
        checkpoint.load_tudui(path)
    assert not marker.exists()
    # the payload is real: a plain unpickler would have run it
    live = tmp_path / "payload_ran_with_plain_pickle"
    pickle.loads(pickle.dumps(Payload(live))).close()
    assert live.exists()


def test_truncated_file(tmp_path, tudui):
    path = checkpoint.save(tmp_path / "ckpt.pth", tudui, classes=CIFAR10_CLASSES)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(LessonError, match="not a readable PyTorch checkpoint"):
        checkpoint.load_tudui(path)


@pytest.mark.parametrize("content", [b"airplane,automobile,bird\n", b""])
def test_text_or_empty_file(tmp_path, content):
    path = tmp_path / "classes.txt"
    path.write_bytes(content)
    with pytest.raises(LessonError, match="not a readable PyTorch checkpoint"):
        checkpoint.load(path)


def test_another_architecture_names_keys(tmp_path):
    path = tmp_path / "other.pth"
    torch.save(nn.Sequential(nn.Conv2d(3, 8, 3), nn.Linear(8, 2)).state_dict(), path)
    with pytest.raises(LessonError) as err:
        checkpoint.load_tudui(path)
    message = str(err.value)
    assert "does not hold a Tudui" in message
    assert "missing model.0.weight" in message and "(+" in message  # 10 missing keys, 4 named
    assert "unexpected 0.weight" in message


def test_another_architecture_names_shapes(tmp_path, tudui):
    state = tudui.state_dict()
    state["model.7.weight"] = torch.zeros(128, 1024)  # a wider hidden layer than Tudui's 64
    path = tmp_path / "wider.pth"
    torch.save(state, path)
    with pytest.raises(LessonError, match=r"different shapes: model\.7\.weight \(128, 1024\) \(Tudui has \(64, 1024\)\)"):
        checkpoint.load_tudui(path)


@pytest.mark.parametrize("obj, why", [([1, 2, 3], "holds a list"), ({"epoch": 3}, "'epoch' is not a tensor"),
                                      ({}, "holds a dict")])
def test_not_a_state_dict(tmp_path, obj, why):
    path = tmp_path / "odd.pth"
    torch.save(obj, path)
    with pytest.raises(LessonError, match=why):
        checkpoint.load_tudui(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(LessonError, match="does not exist"):
        checkpoint.load_tudui(tmp_path / "nothing.pth")
    with pytest.raises(LessonError, match="is not a file"):
        checkpoint.load(tmp_path)


def test_course_p22_model1_keys_load(tmp_path):
    """The course's nn_seq.py calls the Sequential `model1`: such a state_dict loads too."""
    from model import Tudui

    tudui = Tudui()
    torch.save({k.replace("model.", "model1.", 1): v for k, v in tudui.state_dict().items()}, tmp_path / "m1.pth")
    loaded, classes = checkpoint.load_tudui(tmp_path / "m1.pth")
    x = torch.rand(2, 3, 32, 32)
    assert torch.equal(loaded(x), tudui.eval()(x)) and classes[0] == "airplane"


def test_saved_checkpoint_is_readable_by_others(tmp_path):
    from model import Tudui

    path = checkpoint.save(tmp_path / "c.pth", Tudui(), classes=list("abcdefghij"))
    assert path.stat().st_mode & 0o044 == 0o044


# ---------------------------------------------------------------- crafted and diverged files

def test_allow_listed_layers_planted_as_hooks_are_refused(tmp_path):
    """Made only of allow-listed classes, so weights_only reads it; state_dict() or forward() would call the hook."""
    for kind in ("_state_dict_hooks", "_forward_hooks"):
        tudui = Tudui()
        getattr(tudui.model[0], kind)[0] = nn.Linear(1, 1)
        path = tmp_path / f"{kind}.pth"
        torch.save(tudui, path)
        with pytest.raises(LessonError) as err:
            checkpoint.load_tudui(path)
        assert str(err.value) == (f"refused {path}: it carries hooks (model.0.{kind}), which no saved model needs "
                                  "(a crafted file; nothing was run)")


def test_any_failure_while_rebuilding_is_one_line(tmp_path):
    tudui = Tudui()
    tudui.__dict__["_modules"] = {"model": torch.zeros(2)}  # a tensor where a layer should be
    path = tmp_path / "broken.pth"
    torch.save(tudui, path)
    with pytest.raises(LessonError) as err:
        checkpoint.load(path)
    assert str(err.value) == (f"{path} holds something that breaks while the model is rebuilt (AttributeError: "
                              "'Tensor' object has no attribute 'named_modules'): a damaged or crafted file")


def test_class_names_that_are_not_words(tmp_path, tudui):
    path = tmp_path / "odd_classes.pth"
    torch.save({"model": tudui.state_dict(), "classes": torch.arange(10)}, path)
    with pytest.raises(LessonError, match=r"odd_classes\.pth: its class names are not a list of words \(Tensor\)"):
        checkpoint.load_tudui(path)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_nan_or_inf_weights_are_refused(tmp_path, tudui, bad):
    state = tudui.state_dict()
    state["model.7.weight"][3, 5] = bad  # one weight of 65,536 is enough to make every output NaN
    path = checkpoint.save(tmp_path / "diverged.pth", Tudui(), classes=CIFAR10_CLASSES)
    torch.save({"model": state, "classes": CIFAR10_CLASSES}, path)
    with pytest.raises(LessonError) as err:
        checkpoint.load_tudui(path)
    assert str(err.value) == (f"{path} holds NaN/inf weights (e.g. model.7.weight): the training that wrote it "
                              "diverged; retrain with a lower --lr")
    checkpoint.check_finite({"steps": torch.tensor(3), "w": torch.ones(2)}, path)  # finite, integers: no error
