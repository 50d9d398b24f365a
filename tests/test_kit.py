"""kit's errors, console, flags, board and i18n: every early end is one line and an exit code, as a learner sees it
in a shell (real processes running small lesson-like scripts), and TensorBoard logs that cannot be written."""
import argparse
import ast
import errno
import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from tensorboard.compat.tensorflow_stub.io import gfile
from torch.utils.tensorboard import SummaryWriter

from conftest import CHILD_ENV, REPO, one_line_error, popen
from kit import board, console, errors, flags, i18n
from cli.catalog import LESSONS

POSIX = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals, pipes and limits")
HUP_IGNORED = {"preexec_fn": lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN)}  # nohup, or `cmd &` in a script
TINY = """import sys, time
from kit import console
from kit.errors import LessonError
def main():
    if sys.argv[1] == "error":
        raise LessonError("no such file")
    if sys.argv[1] == "memory":  # a --batch-size too big for this machine
        bytearray(2**62)
    print("ready", flush=True)
    sys.stdin.readline() if sys.argv[1] == "pipe" else time.sleep(60)  # pipe: the reader is gone when it returns
    print("x\\n" * int(sys.argv[2]), end="")
console.run(main)
"""
LESSON = """import resource, signal, sys
import kit  # first, as in every lesson: then a Ctrl-C while torch loads is one line
print("importing torch", flush=True)
from kit import board, console, datasets, flags
from torch.utils.tensorboard import SummaryWriter
def main(argv=None):
    args = flags.parse(flags.parser(None), argv)
    dataset = datasets.CIFAR10(args, train=False)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead of killing us
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
    with SummaryWriter(board.run_dir("pX", args)) as writer:
        print("训练次数: 1")
        writer.add_text("notes", "x" * 10_000)  # more than the 4 KB a file may grow to
console.run(main)
"""


def python(script, *argv, until=None, sigs=(), leave=False, env=CHILD_ENV, **kw):
    """A real process running `script`: once it printed the line `until`, it gets `sigs`, or its reader leaves (as
    `| head -1` does) and a line on its stdin. Returns SimpleNamespace(code, out, err), as one_line_error reads it."""
    proc = popen([sys.executable, "-c", script, *argv], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                 stderr=subprocess.PIPE, env=env, **kw)
    assert until is None or proc.stdout.readline() == until
    for sig in sigs:
        proc.send_signal(sig)
    if leave:
        proc.stdout.close()
    out, err = proc.communicate(b"\n", timeout=300)
    return SimpleNamespace(code=proc.returncode, out=out, err=err.decode())


@POSIX
@pytest.mark.parametrize("script, arg, until, sigs, kw, code, line", [
    (TINY, "error", None, [], {}, 1, "error: no such file"),
    (TINY, "memory", None, [], {}, 1, "error: not enough memory for this run (MemoryError): try a smaller "
                                      "--batch-size"),
    (TINY, "wait", b"ready\n", [signal.SIGINT], {}, 130, "interrupted"),
    (TINY, "wait", b"ready\n", [signal.SIGTERM], {}, 143, "interrupted (SIGTERM)"),
    (TINY, "wait", b"ready\n", [signal.SIGHUP], {}, 129, "interrupted (SIGHUP)"),
    (TINY, "wait", b"ready\n", [signal.SIGHUP, signal.SIGTERM], HUP_IGNORED, 143, "interrupted (SIGTERM)"),
    (LESSON, "wait", b"importing torch\n", [signal.SIGINT], {}, 130, "interrupted")])  # torch takes seconds to load
def test_an_error_or_a_stop_signal_is_one_line_and_its_exit_code(script, arg, until, sigs, kw, code, line):
    """Also: a signal ignored at the start stays ignored (the lesson goes on, here until a SIGTERM)."""
    r = python(script, arg, "0", until=until, sigs=sigs, **kw)
    assert one_line_error(r, code=code) == line and r.out == b""


@POSIX
@pytest.mark.parametrize("lines", [1, 100_000])  # 1: in the buffer until main() returns; 100,000: more than a pipe
def test_a_closed_pipe_ends_quietly(lines):
    env = {k: v for k, v in CHILD_ENV.items() if k != "PYTHONUNBUFFERED"}  # a buffered stdout, as in a shell
    r = python(TINY, "pipe", str(lines), until=b"ready\n", leave=True, env=env)
    assert (r.code, r.err) == (1, "")


@POSIX
def test_a_full_disk_on_a_cp1252_console_is_one_line_with_question_marks(tmp_path):
    """English Windows, output redirected: '?' for Chinese, also in the one line of a write failing in
    TensorBoard's thread (over the file size limit); the run folder keeps its real name."""
    logdir = tmp_path / "日志"
    r = python(LESSON, "--quick", "--dataset", "synthetic", "--logdir", str(logdir),
               env=dict(CHILD_ENV, PYTHONIOENCODING="cp1252"))
    run = next((logdir / "pX").iterdir())
    assert one_line_error(r) == (f"error: cannot write TensorBoard logs in {tmp_path / '??' / 'pX' / run.name}: file "
                                 "too large (over the file system's or the process's size limit, ulimit -f) "
                                 "(choose another --logdir)")
    assert r.out.decode("cp1252").splitlines() == ["importing torch", "????: 1"] and run.name.endswith("-synthetic")


@pytest.mark.parametrize("end, code, err", [
    (errors.LessonError("no such file"), "error: no such file", ""),  # sys.exit(text): Python prints it, exit 1
    (console.Interrupted(signal.SIGTERM, detail="epoch 2 is saved"), 143, "interrupted (SIGTERM): epoch 2 is saved"),
    (MemoryError(), "error: not enough memory for this run (MemoryError): try a smaller --batch-size", ""),
    (RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"),
     "error: not enough memory for this run (CUDA out of memory. Tried to allocate 2.00 GiB): try a smaller "
     "--batch-size", ""),
    (SimpleNamespace(), None, ""), (3, 3, "")])  # what main() returns: an exit status, or nothing
def test_run_in_this_process(capsys, end, code, err):
    def main():
        if isinstance(end, BaseException):
            raise end
        return end

    with pytest.raises(SystemExit) as e:
        console.run(main)
    assert (e.value.code, capsys.readouterr().err.strip()) == (code, err)
    assert (console.width("训练 ab"), console.width("e\u0301")) == (7, 1)  # terminal columns: CJK 2, accents 0


def test_every_run_gets_a_new_folder_even_in_the_same_second_and_racing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(time, "strftime", lambda fmt: "20250101-120000")
    start = threading.Barrier(8)

    def run(dataset):
        start.wait()  # all at once: each mkdir makes its folder or finds it taken, never both
        return board.run_dir("pX", SimpleNamespace(logdir=tmp_path, dataset=dataset))

    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(run, ["synthetic"] * 8))
    assert sorted(Path(m).name for m in made) == ["20250101-120000-synthetic"] + sorted(
        f"20250101-120000-synthetic-{n}" for n in range(2, 9))
    assert all(Path(m).is_dir() and Path(m).parent == tmp_path / "pX" for m in made)
    lesson = [sys.executable, str(REPO / "lessons" / "p16_nn_module.py"), "--logdir", str(tmp_path)]
    runs = [popen(lesson, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=CHILD_ENV) for _ in range(4)]
    assert [(r.communicate(timeout=120)[1], r.returncode) for r in runs] == [(b"", 0)] * 4
    assert len(list((tmp_path / "p16_nn_module").iterdir())) == 4
    assert Path(board.run_dir("pX", SimpleNamespace(logdir=tmp_path, dataset="cifar10"))).name == "20250101-120000"
    board.tensorboard_hint(SimpleNamespace(log_dir=made[0]))
    assert capsys.readouterr().out.split('"')[1] == str(tmp_path / "pX")


def test_a_logdir_that_is_a_file_or_unwritable_is_one_line_naming_it(tmp_path):
    (tmp_path / "logs.txt").write_text("a file, not a folder")
    (tmp_path / "locked").mkdir(mode=0o500)
    root = hasattr(os, "geteuid") and os.geteuid() == 0  # root may write anywhere
    for logdir, cause in [(tmp_path / "logs.txt", f"not a folder ({tmp_path / 'logs.txt'} is a file)"),
                          (tmp_path / "logs.txt" / "deeper", f"not a folder ({tmp_path / 'logs.txt'} is a file)"),
                          *([] if root else [(tmp_path / "locked", "permission denied")])]:
        with pytest.raises(errors.LessonError) as e:
            board.run_dir("pX", SimpleNamespace(logdir=logdir))
        assert str(e.value) == f"cannot write TensorBoard logs in {logdir}: {cause} (choose another --logdir)"


@pytest.mark.parametrize("then, code, err", [("add", "full", ""), ("close", "full", ""),
                                             (KeyboardInterrupt(), 130, "interrupted\n"),
                                             (errors.LessonError("bad"), "error: bad", "")])
def test_a_full_disk_in_the_writer_thread_is_one_line_unless_the_lesson_failed_first(tmp_path, monkeypatch, capfd,
                                                                                        then, code, err):
    def disk_full(*args, **kw):  # every event file write, in the writer's thread
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(gfile.LocalFileSystem, "append", disk_full)
    console.install()  # its thread hook, over pytest's

    def main():
        with SummaryWriter(board.run_dir("pX", SimpleNamespace(logdir=tmp_path))) as writer:
            writer.add_scalar("loss", 1.0, 1)
            if then == "add":
                writer.flush()  # waits for the thread, which has failed by then
                writer.add_scalar("loss", 0.5, 2)
            elif then != "close":
                raise then  # Ctrl-C or bad input: its line, not the log's

    with pytest.raises(SystemExit) as e:
        console.run(main)
    full = f"error: cannot write TensorBoard logs in {next((tmp_path / 'pX').iterdir())}: disk full (No space left " \
           "on device) (choose another --logdir)"
    assert (e.value.code, capfd.readouterr().err) == (full if code == "full" else code, err)  # the thread: quiet


@pytest.mark.parametrize("argv", [["--num-workers", "-1"], ["--batch-size", "0"], ["--batch-size", "2.5"],
                                  ["--batch-size", "1000000000000"], ["--seed", "-1"], ["--seed", "4294967296"],
                                  ["--steps", "x"], ["--dataset", "imagenet"], ["--device", "tpu"]])
def test_a_bad_flag_is_one_argparse_line_and_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as e:
        flags.parser(None, steps=(10, 3)).parse_args(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and "Traceback" not in err
    assert err.splitlines()[-1].split(": error: ")[1].startswith(f"argument {argv[0]}: ") and argv[1] in err


def test_number_types_and_parse_quick_seed_device_and_only_the_flags_asked_for():
    assert [flags.positive_float("1e-3"), flags.non_negative_float("0"), flags.positive_int("2147483648"),
            flags.non_negative_int("0"), flags.seed_number("4294967295")] == [0.001, 0.0, 2**31, 0, 2**32 - 1]
    for kind, text in [(flags.positive_float, "0"), (flags.positive_float, "nan"), (flags.positive_float, "x"),
                       (flags.non_negative_float, "-0.1"), (flags.non_negative_float, "inf")]:
        with pytest.raises(argparse.ArgumentTypeError, match=rf"(got {re.escape(text)}|'{text}' is not a number)$"):
            kind(text)
    p = flags.parser(None, steps=(10, 3))
    assert [flags.parse(p, argv).steps for argv in ([], ["--quick"], ["--quick", "--steps", "2"])] == [10, 3, 2]
    args, drawn = flags.parse(p, ["--seed", "5", "--device", "cpu"]), torch.rand(3)
    torch.manual_seed(5)
    assert torch.equal(drawn, torch.rand(3)) and args.device == torch.device("cpu")
    assert isinstance(flags.parse(p, []).device, torch.device)  # auto: CUDA, MPS or the CPU
    assert (args.logdir, args.data_root) == (REPO / "logs", REPO / "data")  # wherever the lesson runs from
    bare = flags.parser(None, data=False, device=False, seed=False, quick=False)
    assert set(vars(flags.parse(bare, []))) == {"logdir", "lang"}
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit) as e:
            console.run(lambda: flags.parse(p, ["--device", "cuda"]))
        assert e.value.code.startswith("error: --device cuda was asked for, but this machine has none")


@pytest.mark.parametrize("argv, env, lang", [
    (["--lang", "zh"], {}, "zh"), (["--lang=en"], {"LESSONS_LANG": "zh"}, "en"), (["--lang", "fr"], {}, "en"),
    ([], {"LESSONS_LANG": "zh", "LANG": "en_US.UTF-8"}, "zh"), ([], {"LANGUAGE": "zh_CN:en"}, "zh"),
    ([], {"LC_ALL": "zh_TW.UTF-8"}, "zh"), ([], {"LC_MESSAGES": "zh_CN"}, "zh"), ([], {"LANG": "zh_CN.UTF-8"}, "zh"),
    ([], {"LANGUAGE": "", "LANG": "zh_CN"}, "zh"), ([], {"LANGUAGE": "en", "LANG": "zh_CN"}, "en"),
    ([], {"LANG": "fr_FR.UTF-8"}, "en"), ([], {}, "en")])
def test_the_language_from_lang_then_lessons_lang_then_the_system(argv, env, lang):
    assert i18n.choose(argv, env) == lang


def test_lang_is_passed_on_to_the_processes_a_lesson_starts(monkeypatch):
    for name in ("LESSONS_LANG", "LANGUAGE"):
        monkeypatch.setenv(name, "")  # restored after the test
    flags.parse(flags.parser(None, data=False, device=False, seed=False), ["--lang", "zh"])
    env = {name: os.environ[name] for name in ("LESSONS_LANG", "LANGUAGE")}
    assert env == {"LESSONS_LANG": "zh", "LANGUAGE": "zh_CN"}
    r = python("from kit import i18n; print(i18n.choose(), i18n.current())", env=dict(CHILD_ENV, **env))
    assert r.out.split() == [b"zh", b"zh"]


def test_every_lesson_imports_kit_before_torch_and_ends_in_console_run():
    files = sorted((REPO / "lessons").glob("p[0-9]*.py"))
    assert {x.script for x in LESSONS} <= {f.name for f in files}
    for path in files:
        body = ast.parse(path.read_text(encoding="utf-8")).body
        guards = [ast.unparse(n) for n in body if isinstance(n, ast.If) and "__main__" in ast.unparse(n.test)]
        assert guards == ["if __name__ == '__main__':\n    console.run(main)"], f"{path.name}: {guards}"
        modules = [n.module or "" if isinstance(n, ast.ImportFrom) else a.name for n in body
                   if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names]
        first = [m.split(".")[0] for m in modules if m.split(".")[0] in ("kit", "torch", "torchvision")]
        assert "kit" not in first or first[0] == "kit", f"{path.name}: import kit before torch"
