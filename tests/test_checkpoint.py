"""The shared checkpoint helper: atomic saves, the three kinds of file, and every bad input refused in one line."""
import os
import pickle
import subprocess
import sys
import textwrap

import pytest
import torch
from torch import nn

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


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_failed_save_leaves_the_old_file(tmp_path, tudui, monkeypatch, failure):
    path = tmp_path / "ckpt.pth"
    checkpoint.save(path, tudui, classes=CIFAR10_CLASSES, epoch=1)
    before = path.read_bytes()

    def broken_save(obj, f):
        f.write(b"half a checkpoint")  # some bytes reach the temp file, then the disk is full
        raise failure

    monkeypatch.setattr(checkpoint.torch, "save", broken_save)
    expected = LessonError if isinstance(failure, OSError) else KeyboardInterrupt
    with pytest.raises(expected) as err:
        checkpoint.save(path, Tudui(), classes=CIFAR10_CLASSES, epoch=2)
    if expected is LessonError:
        assert "could not write" in str(err.value) and "No space left" in str(err.value)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pth"]  # no temp file left behind
    monkeypatch.undo()
    assert checkpoint.load(path)["epoch"] == 1


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
