import ast
import pickle
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from kit import checkpoint, locks
from kit.common import LessonError
from conftest import CHILD_ENV, REPO, tb_tags
from model import Tudui


@pytest.fixture
def script(monkeypatch, tmp_path, capsys):
    """script("p26_model_save", ARGS) -> (exit code, stdout, [run dirs]): `python lessons/p26_model_save.py ARGS`
    in this process, run as __main__ as a learner runs it, so a class it defines pickles as __main__.Tudui."""

    def run(name, *args):
        path = REPO / "lessons" / f"{name}.py"
        monkeypatch.setattr(sys, "argv", [str(path), "--logdir", str(tmp_path / "logs"), *map(str, args)])
        with pytest.raises(SystemExit) as e:
            runpy.run_path(str(path), run_name="__main__")
        runs = sorted(p for p in (tmp_path / "logs").glob(f"{name}/*") if p.is_dir())
        return e.value.code, capsys.readouterr().out, runs

    return run


@pytest.fixture
def saved(script, tmp_path):
    folder = tmp_path / "p26"
    code, out, runs = script("p26_model_save", "--checkpoint-dir", folder)
    assert code is None
    return folder, out, runs


def test_save_writes_both_methods_with_sizes(saved):
    folder, out, runs = saved
    sizes = {}
    for name in ("tudui_method1.pth", "tudui_method2.pth", "tudui_checkpoint.pth", "trap_tudui_method1.pth"):
        path = folder / name
        assert path.is_file()
        printed = re.search(rf"([\d.]+) KiB  {re.escape(str(path))}", out)
        assert printed and abs(float(printed.group(1)) * 1024 - path.stat().st_size) < 100
        sizes[name] = path.stat().st_size
    assert sizes["tudui_method1.pth"] > sizes["tudui_method2.pth"]  # method 1 adds the pickled structure
    assert "'model.Tudui'" in out and "'torch.nn.modules.conv.Conv2d'" in out
    assert "trap_tudui_method1.pth names these classes; loading needs each importable (and allow-listed): " \
           "['__main__.Tudui', 'torch.nn.modules.conv.Conv2d']" in out
    assert "files/text_summary" in tb_tags(runs[0])["tensors"]
    assert not list(folder.glob("*.tmp"))


def test_save_refuses_a_second_run_into_the_same_folder(script, tmp_path):
    folder = tmp_path / "p26"
    with locks.hold(folder, "checkpoint folder"):  # a run that is still writing
        code, _, _ = script("p26_model_save", "--checkpoint-dir", folder)
    assert re.fullmatch(r"error: .*p26 is in use by another run \(process \d+\).*", code)
    assert not list(folder.glob("*.pth"))


def test_load_shows_the_trap_the_fix_and_identical_outputs(saved, script):
    folder, _, _ = saved
    code, out, runs = script("p26_model_load", "--checkpoint-dir", folder)
    assert code is None
    assert "the tensors were saved on cpu; map_location='cpu'" in out
    assert "torch.load(tudui_method1.pth) -> UnpicklingError:" in out
    assert "Unsupported global: GLOBAL model.Tudui was not an allowed global" in out
    assert "safe_globals([Tudui, Sequential, Conv2d, MaxPool2d, Flatten, Linear]): loaded a Tudui" in out
    assert "weights_only=False" in out
    assert "method 1 and method 2 give identical outputs: True" in out
    assert "checkpoint.load_tudui('tudui_checkpoint.pth'): classes ['airplane', 'automobile', 'bird']..., " \
           "identical outputs: True" in out
    # the trap, on the course's one-layer Tudui: today's error for real, the video's in words, then the fix
    assert "torch.load(trap_tudui_method1.pth) -> UnpicklingError: " in out
    assert "Unsupported global: GLOBAL __main__.Tudui was not an allowed global" in out
    assert "AttributeError: Can't get attribute 'Tudui' on <module '__main__'" in out
    assert "with class Tudui defined in this script and torch.serialization.safe_globals([Tudui, Conv2d]):\n" \
           "Tudui(\n  (conv1): Conv2d(3, 64, kernel_size=(3, 3), stride=(1, 1))\n)" in out
    assert "loaded/text_summary" in tb_tags(runs[0])["tensors"]


def test_the_videos_error_is_what_older_pytorch_printed(saved, tmp_path):
    """What the lesson says the video showed, checked on our own file (safe to unpickle: we just made it)."""
    trap = saved[0] / "trap_tudui_method1.pth"
    with pytest.raises(pickle.UnpicklingError, match=r"GLOBAL __main__\.Tudui"):  # today's default
        torch.load(trap)
    # the course's model_load.py without the class, as PyTorch < 2.6 ran it (weights_only=False was the default)
    course = tmp_path / "model_load.py"
    course.write_text(f"import torch\nmodel = torch.load({str(trap)!r}, weights_only=False)\n")
    with pytest.raises(AttributeError, match=r"^Can't get attribute 'Tudui' on <module '__main__' from '.*model_load"):
        runpy.run_path(str(course), run_name="__main__")


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


def test_file_saved_on_a_gpu_loads_with_map_location(script, tmp_path, monkeypatch):
    """Save 'on a GPU' (tensors tagged cuda:0, as torch.save does there), load on this CPU."""
    registry = torch.serialization._package_registry
    fake = (0, lambda storage: "cuda:0" if storage.device.type == "cpu" else None, registry[0][2])
    monkeypatch.setattr(torch.serialization, "_package_registry", [fake, *registry])
    folder = tmp_path / "p26"
    script("p26_model_save", "--checkpoint-dir", folder)
    monkeypatch.undo()
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):  # what the course's torch.load does on a laptop
            torch.load(folder / "tudui_method2.pth", weights_only=True)
    code, out, _ = script("p26_model_load", "--checkpoint-dir", folder, "--device", "cpu")
    assert code is None
    assert "the tensors were saved on cuda:0; map_location='cpu' loads them onto cpu" in out
    assert "method 1 and method 2 give identical outputs: True" in out
    assert "Tudui(\n  (conv1): Conv2d(3, 64" in out  # the trap, from the GPU too


def test_missing_files_say_what_to_run(script, tmp_path):
    code, _, _ = script("p26_model_load", "--checkpoint-dir", tmp_path / "empty")
    assert re.fullmatch(r"error: .*tudui_method1\.pth does not exist: run python lessons/p26_model_save\.py "
                        r"--checkpoint-dir .* first", code)


class Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")  # unpickling it would create a file


def hooked_tudui():
    """A Tudui made only of allow-listed classes, with an allow-listed layer planted as a state_dict hook."""
    tudui = Tudui()
    tudui._state_dict_hooks[0] = torch.nn.Linear(1, 1)  # state_dict() would call it: a TypeError
    return tudui


def test_bad_method_files_are_one_clear_error(saved, script):
    folder, _, _ = saved
    method1, method2 = folder / "tudui_method1.pth", folder / "tudui_method2.pth"
    good1, good2 = method1.read_bytes(), method2.read_bytes()
    marker = folder / "payload_ran"
    bad = {  # what goes into which file -> the one line expected
        "payload": (method1, lambda p: torch.save(Payload(marker), p),
                    r"refused to load .*tudui_method1\.pth: it asks for 'io\.open', which is neither a tensor nor a "
                    r"Tudui layer on the allow-list \(nothing from the file was run\)"),
        "truncated": (method1, lambda p: p.write_bytes(good1[:1000]), "tudui_method1.pth is not a readable PyTorch"),
        "hooked": (method1, lambda p: torch.save(hooked_tudui(), p), r"refused .*tudui_method1\.pth: it carries hooks "
                                                                     r"\(_state_dict_hooks\)"),
        "five classes": (method2, lambda p: torch.save({**torch.load(p, weights_only=True),
                                                        "model.8.weight": torch.zeros(5, 64)}, p),
                         r"does not hold a Tudui: different shapes: model\.8\.weight \(5, 64\)"),
        "nan": (method2, lambda p: torch.save({**torch.load(p, weights_only=True),
                                               "model.0.bias": torch.full((32,), float("nan"))}, p),
                r"tudui_method2\.pth holds NaN/inf weights \(e\.g\. model\.0\.bias\): the training that wrote it "
                r"diverged; retrain with a lower --lr"),
    }
    for name, (path, make, message) in bad.items():
        make(path)
        code, _, _ = script("p26_model_load", "--checkpoint-dir", folder)
        assert isinstance(code, str) and "\n" not in code and re.search(message, code), (name, code)
        method1.write_bytes(good1)
        method2.write_bytes(good2)
    assert not marker.exists()


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


def test_malicious_file_named_on_the_command_line(script, tmp_path, monkeypatch):
    """The whole path a user sees: one line (common.run prints it on stderr, exit status 1), nothing run."""
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")  # a documented switch: must change nothing here
    marker = tmp_path / "payload_ran"
    evil = tmp_path / "evil.pth"
    evil.write_bytes(pickle.dumps(Payload(marker), protocol=2))
    code, _, _ = script("p26_model_load", "--checkpoint", evil)
    assert code == (f"error: refused to load {evil}: it asks for 'io.open', which is neither a tensor nor a Tudui "
                    "layer on the allow-list (nothing from the file was run)")
    assert not marker.exists()


def test_environment_cannot_switch_weights_only_off(saved, tmp_path):
    """TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 turns every torch.load without an explicit weights_only into a full
    unpickler (code execution); P26's, run as a learner runs it, pass it explicitly, so the payload never runs."""
    folder, _, _ = saved
    marker = tmp_path / "payload_ran"
    torch.save(Payload(marker), folder / "tudui_method1.pth")
    result = subprocess.run([sys.executable, str(REPO / "lessons" / "p26_model_load.py"), "--checkpoint-dir",
                             str(folder), "--logdir", str(tmp_path / "logs")], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120, env={**CHILD_ENV, "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"})
    assert not marker.exists()
    assert result.returncode == 1 and "Traceback" not in result.stderr + result.stdout
    assert result.stderr.strip().splitlines() == [
        f"error: refused to load {folder / 'tudui_method1.pth'}: it asks for 'io.open', which is neither a tensor "
        "nor a Tudui layer on the allow-list (nothing from the file was run)"]


MY_FILES = ["lessons/p26_model_save.py", "lessons/p26_model_load.py", "lessons/p32_test.py",
            "lessons/kit/checkpoint.py", "lessons/kit/images.py"]


def test_every_torch_load_says_weights_only_true():
    """Written out, weights_only=True holds whatever the environment says; the default does not."""
    calls = []
    project = [p.relative_to(REPO) for folder in ("lessons", "benchmarks", "tools") for p in (REPO / folder).rglob("*.py")]
    assert set(map(Path, MY_FILES)) <= set(project)
    for name in project:  # every file of the project, not only P26's
        tree = ast.parse((REPO / name).read_text(encoding="utf-8"))
        calls += [(name, node) for node in ast.walk(tree) if isinstance(node, ast.Call)
                  and ast.unparse(node.func) == "torch.load"]
    assert len(calls) >= 6  # P26's course lines and checkpoint.load
    for name, call in calls:
        flags = {k.arg: ast.unparse(k.value) for k in call.keywords}
        assert flags.get("weights_only") == "True", f"{name}:{call.lineno}: {ast.unparse(call)}"
