"""P26: saving (methods 1 and 2, the trap) and loading them safely, as a learner runs the two scripts."""
import ast
import os
import pickle
import re
import runpy
from pathlib import Path

import pytest
import torch

from conftest import CHILD_ENV, REPO, events, one_line_error
from kit import checkpoint, locks
from kit.errors import LessonError
from model import Tudui
from test_checkpoint import Payload

REFUSED = "refused to load {}: it asks for '{}', which is neither a tensor nor a Tudui layer on the allow-list " \
          "(nothing from the file was run)"


@pytest.mark.parametrize("saved_on", ["cpu", "cuda:0"])
def test_save_then_load_as_a_learner_runs_them(run_lesson, tmp_path, saved_on):
    """cuda:0: saved 'on a GPU' (every tensor tagged cuda:0, as torch.save does there), loaded on this CPU."""
    folder, env, device = tmp_path / "p26", None, []
    if saved_on != "cpu":  # in the saving process only, before the lesson starts; loaded with --device cpu
        (tmp_path / "sitecustomize.py").write_text("import torch\ntorch.serialization.register_package(0, lambda s: "
                                                   "'cuda:0' if s.device.type == 'cpu' else None, lambda s, l: None)\n")
        env, device = {"PYTHONPATH": f"{tmp_path}{os.pathsep}{CHILD_ENV['PYTHONPATH']}"}, ["--device", "cpu"]
    save = run_lesson.process("p26_model_save", "--checkpoint-dir", str(folder), env=env)
    assert save.code == 0, save.err
    for name in ("tudui_method1.pth", "tudui_method2.pth", "tudui_checkpoint.pth", "trap_tudui_method1.pth"):
        printed = re.search(rf"([\d.]+) KiB  {re.escape(str(folder / name))}", save.out)
        assert printed and abs(float(printed.group(1)) * 1024 - (folder / name).stat().st_size) < 100, name
    # method 1 adds the pickled structure
    assert (folder / "tudui_method1.pth").stat().st_size > (folder / "tudui_method2.pth").stat().st_size
    needs = {line.split()[0]: line.split(": ", 1)[1] for line in save.out.splitlines() if "names these" in line}
    assert all(c in needs["tudui_method1.pth"] for c in ("'model.Tudui'", "'torch.nn.modules.conv.Conv2d'"))
    assert needs["trap_tudui_method1.pth"] == "['__main__.Tudui', 'torch.nn.modules.conv.Conv2d']"
    assert "files/text_summary" in events(save.runs[-1]).tags("tensors") and not list(folder.glob("*.tmp"))
    if saved_on != "cpu" and not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):  # what the course's torch.load does on a laptop
            torch.load(folder / "tudui_method2.pth", weights_only=True)

    load = run_lesson.process("p26_model_load", "--checkpoint-dir", str(folder), *device)
    assert load.code == 0, load.err
    assert f"the tensors were saved on {saved_on}; map_location='cpu' loads them onto cpu" in load.out
    assert REFUSED.format(folder / "tudui_method1.pth", "model.Tudui") in load.out  # the course's line, made safe
    assert "safe_globals([Tudui, Sequential, Conv2d, MaxPool2d, Flatten, Linear]): loaded a Tudui" in load.out
    assert load.lines("method 1 and method 2 give identical outputs: ") == [
        "method 1 and method 2 give identical outputs: True"]
    assert "classes ['airplane', 'automobile', 'bird']..., identical outputs: True" in load.out  # checkpoint.load_tudui
    # the trap: today's error for real, the video's in words, then the fix
    assert REFUSED.format(folder / "trap_tudui_method1.pth", "__main__.Tudui") in load.out
    assert "AttributeError: Can't get attribute 'Tudui' on <module '__main__'" in load.out
    assert "Tudui(\n  (conv1): Conv2d(3, 64, kernel_size=(3, 3), stride=(1, 1))\n)" in load.out
    assert "loaded/text_summary" in events(load.runs[-1]).tags("tensors")

    torch.manual_seed(0)  # the save script's --seed 0: the same random weights
    original, x = Tudui().eval(), torch.rand(3, 3, 32, 32)
    with torch.no_grad():
        for name in ("tudui_method1.pth", "tudui_method2.pth", "tudui_checkpoint.pth"):
            assert torch.equal(checkpoint.load_tudui(folder / name)[0](x), original(x))

    # what the lesson says the video showed, checked on our own file (safe to unpickle: we just made it): the course's
    # model_load.py without the class, as PyTorch < 2.6 ran it (weights_only=False was the default)
    course = tmp_path / "model_load.py"
    course.write_text(f"import torch\nmodel = torch.load({str(folder / 'trap_tudui_method1.pth')!r}, "
                      "weights_only=False)\n")
    with pytest.raises(AttributeError, match=r"^Can't get attribute 'Tudui' on <module '__main__' from '.*model_load"):
        runpy.run_path(str(course), run_name="__main__")


def test_an_empty_folder_says_what_to_run_and_a_busy_one_is_refused(run_lesson, tmp_path):
    folder = tmp_path / "p26"
    with pytest.raises(LessonError, match=r"tudui_method1\.pth does not exist: run python lessons/p26_model_save\.py "
                                          r"--checkpoint-dir .* first"):
        run_lesson("p26_model_load", "--checkpoint-dir", str(folder), dataset=None, quick=False)
    with locks.hold(folder, "checkpoint folder"), pytest.raises(LessonError, match=r"p26 is in use by another run "
                                                                                   r"\(process \d+\)"):
        run_lesson("p26_model_save", "--checkpoint-dir", str(folder), dataset=None, quick=False)
    assert not list(folder.glob("*.pth"))


def test_load_shows_the_course_lines_and_every_torch_load_says_weights_only_true():
    """P26's load has the course's lines, made safe, and does not import the save script. Written out,
    weights_only=True holds whatever the environment says; the default does not."""
    source = (REPO / "lessons" / "p26_model_load.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "p26_model_save" not in imported and "model" in imported
    assert "model = torch.load(method1, map_location=device, weights_only=True)" in source  # 方式1, made safe
    assert "vgg16.load_state_dict(torch.load(method2, map_location=device, weights_only=True))" in source  # 方式2
    mine = {Path(f"lessons/{name}.py") for name in ("p26_model_save", "p26_model_load", "p32_test", "kit/checkpoint",
                                                   "kit/photos")}
    project = [p.relative_to(REPO) for d in ("lessons", "benchmarks", "tools") for p in (REPO / d).rglob("*.py")]
    assert mine <= set(project)
    calls = [(file, node) for file in project for node in ast.walk(ast.parse((REPO / file).read_text(encoding="utf-8")))
             if isinstance(node, ast.Call) and ast.unparse(node.func) == "torch.load"]
    assert len(calls) >= 6  # P26's course lines and checkpoint.load
    for name, call in calls:
        assert {k.arg: ast.unparse(k.value) for k in call.keywords}.get("weights_only") == "True", \
            f"{name}:{call.lineno}: {ast.unparse(call)}"


def test_bad_files_are_one_clear_line_whatever_the_environment(run_lesson, tmp_path, monkeypatch):
    """TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 turns every torch.load without an explicit weights_only into a full
    unpickler (code execution); P26's pass it explicitly, so no payload ever runs."""
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    folder, marker = tmp_path / "p26", tmp_path / "payload_ran"
    run_lesson("p26_model_save", "--checkpoint-dir", str(folder), dataset=None, quick=False)
    method1, method2 = folder / "tudui_method1.pth", folder / "tudui_method2.pth"
    good1, good2 = method1.read_bytes(), method2.read_bytes()
    hooked, other = Tudui(), Tudui()
    hooked._state_dict_hooks[0] = torch.nn.Linear(1, 1)  # allow-listed, planted as a hook: state_dict() would call it
    other.model[5] = torch.nn.MaxPool2d(1)  # another network saved as a Tudui: run, "mat1 and mat2 shapes cannot ..."
    bad = {  # what goes into which file -> the one line expected
        "payload": (method1, Payload(marker), re.escape(REFUSED.format(method1, "io.open"))),
        "truncated": (method1, good1[:1000], r"tudui_method1\.pth is not a readable PyTorch checkpoint"),
        "hooked": (method1, hooked, r"refused .*tudui_method1\.pth: it carries hooks \(_state_dict_hooks\)"),
        "another network": (method1, other, r"tudui_method1\.pth holds another network under the name "
                            r"Tudui: its layer 5 is MaxPool2d\(kernel_size=1, .*; load it with the code that made it$"),
        "five classes": (method2, {**torch.load(method2, weights_only=True), "model.8.weight": torch.zeros(5, 64)},
                         r"tudui_method2\.pth does not hold a Tudui: different shapes: model\.8\.weight \(5, 64\)"),
        "nan": (method2, {**torch.load(method2, weights_only=True), "model.0.bias": torch.full((32,), float("nan"))},
                r"tudui_method2\.pth holds NaN/inf weights \(e\.g\. model\.0\.bias\): the training that wrote it "
                r"diverged; retrain with a lower --lr"),
    }
    for name, (path, content, message) in bad.items():
        method1.write_bytes(good1)
        method2.write_bytes(good2)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            torch.save(content, path)
        if name == "another network":  # as a learner meets it: a real process, exit 1
            line = one_line_error(run_lesson.process("p26_model_load", "--checkpoint-dir", str(folder),
                                                     env={"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"}))
            assert re.search(message, line), line
            continue
        with pytest.raises(LessonError) as e:
            run_lesson("p26_model_load", "--checkpoint-dir", str(folder), dataset=None, quick=False)
        assert re.search(message, str(e.value)) and "\n" not in str(e.value), (name, str(e.value))
    evil = tmp_path / "evil.pth"  # a plain pickle, named on the command line
    evil.write_bytes(pickle.dumps(Payload(marker), protocol=2))
    with pytest.raises(LessonError) as e:
        run_lesson("p26_model_load", "--checkpoint", str(evil), dataset=None, quick=False)
    assert str(e.value) == REFUSED.format(evil, "io.open") and not marker.exists()


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "does not exist"),
    (lambda p: p.write_text("not a checkpoint\n"), "not a readable PyTorch checkpoint"),
    (lambda p: torch.save(torch.nn.Linear(3, 2).state_dict(), p), "does not hold a Tudui: missing model.0.weight"),
    (lambda p: torch.save(Tudui(), p), None),  # the course's train.py: torch.save(tudui, "tudui_{}.pth")
])
def test_checkpoint_flag_reads_any_tudui_file(run_lesson, tmp_path, make, message):
    path = tmp_path / "tudui_9.pth"
    make(path)
    if message:
        with pytest.raises(LessonError, match=message):
            run_lesson("p26_model_load", "--checkpoint", str(path), dataset=None, quick=False)
    else:
        out = run_lesson("p26_model_load", "--checkpoint", str(path), dataset=None, quick=False).out
        assert f"{path}: a Tudui with 10 classes (airplane, automobile," in out and "output (1, 10)" in out
