"""What the learner's console shows: a console that cannot print Chinese, and Ctrl-C at any moment."""
import ast
import io
import os
import signal
import subprocess
import sys

import pytest

from conftest import CHILD_ENV, REPO
from kit import common
from kit.catalog import LESSONS

LESSON_FILES = sorted((REPO / "lessons").glob("p[0-9]*.py"))


def test_every_lessons_main_guard_goes_through_common_run():
    """common.run is where the console is made safe and errors become one line: no lesson may bypass it."""
    assert {x.script for x in LESSONS} <= {f.name for f in LESSON_FILES}
    for path in LESSON_FILES:
        guards = [node for node in ast.parse(path.read_text(encoding="utf-8")).body
                  if isinstance(node, ast.If) and ast.unparse(node.test) == "__name__ == '__main__'"]
        assert len(guards) == 1, f"{path.name}: no `if __name__ == '__main__':` guard"
        body = [ast.unparse(stmt) for stmt in guards[0].body]
        assert body == ["common.run(main)"], f"{path.name}: the guard runs {body}, not common.run(main)"


def test_common_run_replaces_what_the_console_cannot_show(monkeypatch):
    raw = io.BytesIO()
    console = io.TextIOWrapper(raw, encoding="cp1252")  # errors="strict", as Python opens a redirected cp1252 stdout
    monkeypatch.setattr(sys, "stdout", console)

    def main():
        print("训练次数: 100, Loss: 2.3")

    with pytest.raises(SystemExit) as e:
        common.run(main)
    console.flush()
    assert e.value.code is None  # exit status 0
    assert raw.getvalue().decode("cp1252") == "????: 100, Loss: 2.3\n"


def test_a_lesson_on_a_cp1252_console_runs_and_replaces_chinese(tmp_path):
    """An English Windows console with the output redirected: a real lesson prints a Chinese path."""
    logdir = tmp_path / "日志"
    r = subprocess.run([sys.executable, str(REPO / "lessons" / "p16_nn_module.py"), "--quick", "--logdir", str(logdir)],
                       capture_output=True, env=dict(CHILD_ENV, PYTHONIOENCODING="cp1252"), timeout=300)
    out, err = r.stdout.decode("cp1252"), r.stderr.decode("cp1252")
    assert r.returncode == 0, err
    assert "UnicodeEncodeError" not in err
    hint = [line for line in out.splitlines() if line.startswith("TensorBoard: tensorboard --logdir")]
    assert len(hint) == 1 and str(tmp_path / "??" / "p16_nn_module") in hint[0]
    assert any((logdir / "p16_nn_module").iterdir())  # the real folder has its real name


INTERRUPTED_IMPORT = """
import kit  # first, as in every lesson: then a Ctrl-C while torch loads is one line
print("importing torch", flush=True)
import torch
print("imported torch", flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_ctrl_c_while_torch_imports_is_one_line_and_exit_130():
    proc = subprocess.Popen([sys.executable, "-c", INTERRUPTED_IMPORT], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=CHILD_ENV)
    assert proc.stdout.readline() == "importing torch\n"
    proc.send_signal(signal.SIGINT)  # torch takes seconds to import: we are in the middle of it
    out, err = proc.communicate(timeout=120)
    assert "imported torch" not in out  # it was the import that was interrupted
    assert err == "interrupted\n"
    assert proc.returncode == 130


def imports(path):
    """The top-level modules a lesson imports, in order."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module.split(".")[0])
    return names


def test_every_lesson_imports_kit_before_torch():
    """kit/__init__.py makes a Ctrl-C during the imports after it one line: torch's must come after it."""
    late = [path.name for path in LESSON_FILES
            if {"torch", "torchvision"} & set(imports(path)) and "kit" in imports(path)
            and imports(path).index("kit") > min(imports(path).index(m) for m in ("torch", "torchvision")
                                                 if m in imports(path))]
    assert not late, f"import kit before torch in: {', '.join(late)}"


def test_an_uncaught_ctrl_c_in_this_process_would_exit_130():
    """The hook kit installs (checked in-process: os._exit is replaced, so pytest lives on)."""
    codes = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(os, "_exit", codes.append)
        sys.excepthook(KeyboardInterrupt, KeyboardInterrupt(), None)
    assert codes == [130]
