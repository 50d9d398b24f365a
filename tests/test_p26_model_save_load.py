import ast
import pickle
import re
import subprocess
import sys

import pytest
import torch

from kit import checkpoint
from kit.common import LessonError
from conftest import REPO, tb_tags
from model import Tudui


@pytest.fixture
def saved(run_lesson, tmp_path):
    folder = tmp_path / "p26"
    out, runs = run_lesson("p26_model_save", "--checkpoint-dir", str(folder), dataset=None)
    return folder, out, runs


def test_save_writes_both_methods_with_sizes(saved):
    folder, out, runs = saved
    sizes = {}
    for name in ("tudui_method1.pth", "tudui_method2.pth", "tudui_checkpoint.pth"):
        path = folder / name
        assert path.is_file()
        printed = re.search(rf"([\d.]+) KiB  {re.escape(str(path))}", out)
        assert printed and abs(float(printed.group(1)) * 1024 - path.stat().st_size) < 100
        sizes[name] = path.stat().st_size
    assert sizes["tudui_method1.pth"] > sizes["tudui_method2.pth"]  # method 1 adds the pickled structure
    assert "'model.Tudui'" in out and "'torch.nn.modules.conv.Conv2d'" in out
    assert "files/text_summary" in tb_tags(runs[0])["tensors"]
    assert not list(folder.glob("*.tmp"))


def test_load_shows_the_trap_the_fix_and_identical_outputs(saved, run_lesson):
    folder, _, _ = saved
    out, runs = run_lesson("p26_model_load", "--checkpoint-dir", str(folder), dataset=None)
    assert "the tensors were saved on cpu; map_location='cpu'" in out
    assert "torch.load(tudui_method1.pth) -> UnpicklingError:" in out
    assert "Unsupported global: GLOBAL model.Tudui was not an allowed global" in out
    assert "safe_globals([Tudui, Sequential, Conv2d, MaxPool2d, Flatten, Linear]): loaded a Tudui" in out
    assert "weights_only=False" in out
    assert "method 1 and method 2 give identical outputs: True" in out
    assert "checkpoint.load_tudui('tudui_checkpoint.pth'): classes ['airplane', 'automobile', 'bird']..., " \
           "identical outputs: True" in out
    assert "loaded/text_summary" in tb_tags(runs[0])["tensors"]


def test_round_trip_outputs_identical_to_the_saved_model(saved):
    folder, _, _ = saved
    torch.manual_seed(0)  # the save script's --seed 0: the same random weights
    original = Tudui().eval()
    x = torch.rand(3, 3, 32, 32)
    method2 = Tudui().eval()
    method2.load_state_dict(torch.load(folder / "tudui_method2.pth", weights_only=True))
    with torch.no_grad():
        expected = original(x)
        assert torch.equal(method2(x), expected)
        for name in ("tudui_method1.pth", "tudui_checkpoint.pth"):
            assert torch.equal(checkpoint.load_tudui(folder / name)[0](x), expected)


def test_load_does_not_import_the_save_script():
    tree = ast.parse((REPO / "lessons" / "p26_model_load.py").read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "p26_model_save" not in imported and "model" in imported


def test_file_saved_on_a_gpu_loads_with_map_location(run_lesson, tmp_path, monkeypatch):
    """Save 'on a GPU' (tensors tagged cuda:0, as torch.save does there), load on this CPU."""
    registry = torch.serialization._package_registry
    fake = (0, lambda storage: "cuda:0" if storage.device.type == "cpu" else None, registry[0][2])
    monkeypatch.setattr(torch.serialization, "_package_registry", [fake, *registry])
    folder = tmp_path / "p26"
    run_lesson("p26_model_save", "--checkpoint-dir", str(folder), dataset=None)
    monkeypatch.undo()
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):  # what the course's torch.load does on a laptop
            torch.load(folder / "tudui_method2.pth", weights_only=True)
    out, _ = run_lesson("p26_model_load", "--checkpoint-dir", str(folder), "--device", "cpu", dataset=None)
    assert "the tensors were saved on cuda:0; map_location='cpu' loads them onto cpu" in out
    assert "method 1 and method 2 give identical outputs: True" in out


def test_missing_files_say_what_to_run(run_lesson, tmp_path):
    with pytest.raises(LessonError, match=r"tudui_method1\.pth does not exist: run python lessons/p26_model_save\.py"):
        run_lesson("p26_model_load", "--checkpoint-dir", str(tmp_path / "empty"), dataset=None)


class Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")  # unpickling it would create a file


def test_bad_method_files_are_one_clear_error(saved, run_lesson):
    folder, _, _ = saved
    method1, method2 = folder / "tudui_method1.pth", folder / "tudui_method2.pth"
    good1, good2 = method1.read_bytes(), method2.read_bytes()
    marker = folder / "payload_ran"

    torch.save(Payload(marker), method1)
    with pytest.raises(LessonError, match=r"refused to load .*GLOBAL io\.open"):
        run_lesson("p26_model_load", "--checkpoint-dir", str(folder), dataset=None)
    assert not marker.exists()

    method1.write_bytes(good1[:1000])  # truncated
    with pytest.raises(LessonError, match="tudui_method1.pth is not a readable PyTorch file"):
        run_lesson("p26_model_load", "--checkpoint-dir", str(folder), dataset=None)

    method1.write_bytes(good1)
    state = torch.load(method2, weights_only=True)
    state["model.8.weight"] = torch.zeros(5, 64)  # another head: 5 classes
    torch.save(state, method2)
    with pytest.raises(LessonError, match=r"does not hold a Tudui: different shapes: model\.8\.weight \(5, 64\)"):
        run_lesson("p26_model_load", "--checkpoint-dir", str(folder), dataset=None)
    method2.write_bytes(good2)


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "does not exist"),
    (lambda p: p.write_text("not a checkpoint\n"), "not a readable PyTorch checkpoint"),
    (lambda p: torch.save(torch.nn.Linear(3, 2).state_dict(), p), "does not hold a Tudui: missing model.0.weight"),
])
def test_checkpoint_flag_bad_input(run_lesson, tmp_path, make, message):
    path = tmp_path / "file.pth"
    make(path)
    with pytest.raises(LessonError, match=message):
        run_lesson("p26_model_load", "--checkpoint", str(path), dataset=None)


def test_checkpoint_flag_accepts_a_course_file(run_lesson, tmp_path):
    path = tmp_path / "tudui_9.pth"
    torch.save(Tudui(), path)  # the course's train.py: torch.save(tudui, "tudui_{}.pth")
    out, _ = run_lesson("p26_model_load", "--checkpoint", str(path), dataset=None)
    assert f"{path}: a Tudui with 10 classes (airplane, automobile," in out and "output (1, 10)" in out


def test_malicious_file_from_the_command_line(tmp_path):
    """The whole path a user sees: one line on stderr, exit code 1, no traceback, and the payload never ran."""
    marker = tmp_path / "payload_ran"
    evil = tmp_path / "evil.pth"
    evil.write_bytes(pickle.dumps(Payload(marker), protocol=2))
    result = subprocess.run([sys.executable, str(REPO / "lessons" / "p26_model_load.py"), "--checkpoint", str(evil),
                             "--logdir", str(tmp_path / "logs")], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: refused to load {evil}: it asks for 'io.open', which is neither a tensor nor a Tudui layer on the "
        "allow-list (nothing from the file was run)"]
    assert "Traceback" not in result.stderr + result.stdout
    assert not marker.exists()
