"""P27 and its helpers (kit.runs, kit.progress, kit.reports): the quick run, Ctrl-C, SIGTERM, SIGHUP, a kill and
--resume, tampered checkpoints, image folders, earlier runs kept, divergence, class names, the copy rule."""
import difflib
import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest
import torch
from PIL import Image

from conftest import CHILD_ENV, REPO, events, one_line_error, popen
from kit import checkpoint, console, errors, locks, reports, synthetic
from kit.progress import Progress

FRUIT = {"apple": (200, 30, 30), "banana": (230, 220, 40), "cherry": (120, 0, 60)}


def image_folder(root, colours, n_train=4, n_test=2):
    """root/{train,test}/<class>/*.png in flat colours, for --dataset folder: an epoch takes milliseconds."""
    for split, n in (("train", n_train), ("test", n_test)):
        for name, rgb in colours.items():
            (root / split / name).mkdir(parents=True)
            for i in range(n):
                Image.new("RGB", (40 + i, 36), rgb).save(root / split / name / f"{i}.png")
    return ["--dataset", "folder", "--data-root", str(root), "--batch-size", "4", "--log-every", "1"]


def train(run_lesson, *flags, ck="ck", name="p27_train", **kw):
    """The lesson's main() with its checkpoints in tmp/<ck> (synthetic data unless the flags say --dataset)."""
    kw.setdefault("dataset", None if "--dataset" in flags else "synthetic")
    return run_lesson(name, "--checkpoint-dir", str(run_lesson.tmp / ck), *flags, **kw)


@pytest.fixture
def fruit(tmp_path):
    return image_folder(tmp_path / "fruit", FRUIT)


def test_the_quick_run_prints_the_course_lines_learns_and_saves_its_state_and_board(run_lesson):
    """The learner's `--quick` run: 2 epochs of 32 steps on the synthetic shapes, seed 0."""
    r = train(run_lesson)
    assert r.lines("tensor(") == ["tensor([1, 1])", "tensor(1)"]  # P28: argmax(1), and the right ones counted
    assert (r.number("训练数据集的长度为"), r.number("测试数据集的长度为")) == (2048, 512)
    assert r.numbers("-------第") == [1, 2] and r.out.count("模型已保存") == 2
    assert r.numbers("训练次数") == [10, 20, 30, 40, 50, 60]  # --quick logs every 10 steps
    accuracy = r.numbers("整体测试集上的正确率")
    assert len(accuracy) == 2 and accuracy[-1] > 0.2  # chance is 0.1
    assert re.findall(r"(\d+)/(\d+) steps", r.out) == [("32", "32")] * 2 and "\r" not in r.out  # a file: plain lines
    assert 0 <= r.number("checkerboard") <= 1  # the per-class report
    assert float(re.search(r"([\d.]+) s per epoch on CPU", r.out)[1]) > 0
    assert r.number("整体测试集上的Loss") < 2.4  # a mean per image (a sum over 8 batches would be ~18)
    assert len(r.runs) == 1 and r.runs[0].name.endswith("-synthetic")
    board = events(r.runs[0])  # TensorBoard: the printed values and the hparams
    assert {"learning_rate", "per_class_accuracy/horizontal_stripes", "hparam/best_accuracy"} <= set(
        board.tags("scalars")) and {"confusion_matrix", "test_predictions"} <= set(board.tags("images"))
    assert {"_hparams_/experiment", "_hparams_/session_start_info"} <= board.summary_tags()
    assert [s for s, _ in board.scalars("train_loss")] == r.numbers("训练次数")
    for tag, label in (("test_accuracy", "整体测试集上的正确率"), ("test_loss", "整体测试集上的Loss")):
        assert board.scalars(tag) == [(i, pytest.approx(v)) for i, v in enumerate(r.numbers(label), 1)]  # epoch
    ck = run_lesson.tmp / "ck"  # the checkpoints: the classes and the training state
    assert sorted(p.name for p in ck.iterdir()) == [".lock", "best.pth", "epoch_1.pth", "epoch_2.pth"]
    tudui, classes = checkpoint.load_tudui(ck / "best.pth")
    assert classes == synthetic.NAMES and not tudui.training
    last, best = checkpoint.load(ck / "epoch_2.pth"), checkpoint.load(ck / "best.pth")
    assert (last["epoch"], last["total_train_step"], last["log_dir"]) == (2, 64, str(r.runs[0].resolve()))
    assert last["best_accuracy"] == best["test_accuracy"] == max(accuracy)
    assert last["optimizer"]["param_groups"][0]["lr"] == 1e-2


def test_ctrl_c_then_resume_equals_an_uninterrupted_run(run_lesson, fruit, monkeypatch):
    flags = [*fruit, "--augment", "--epochs", "3"]  # 3 steps per epoch; train_loss at every step
    whole = train(run_lesson, *flags, ck="whole").runs[0]
    update, calls = Progress.update, iter(range(1, 100))

    def interrupted(self, n, loss):  # Ctrl-C in step 5 (epoch 2), after train_loss at step 4
        update(self, n, loss)
        if next(calls) == 5:
            raise console.Interrupted()

    monkeypatch.setattr(Progress, "update", interrupted)
    with pytest.raises(KeyboardInterrupt) as stop:
        train(run_lesson, *flags)
    ck = run_lesson.tmp / "ck"
    assert console.interrupted_line(stop.value) == (f"interrupted: after epoch 1 of 3: {ck / 'epoch_1.pth'} is saved; "
                                                    "continue with --resume") and console.exit_code(stop.value) == 130
    assert sorted(p.name for p in ck.glob("*.pth")) == ["best.pth", "epoch_1.pth"]
    [part] = [p for p in run_lesson.runs("p27_train") if p != whole]
    assert events(part).scalars("train_loss")[-1][0] == 4

    monkeypatch.undo()
    r = train(run_lesson, *flags, "--resume")
    assert r.number("resuming after epoch") == 1 and r.numbers("-------第") == [2, 3]
    assert set(r.runs) == {whole, part}  # the interrupted run's folder, continued
    resumed, reference = (checkpoint.load(d / "epoch_3.pth")["model"] for d in (ck, run_lesson.tmp / "whole"))
    assert all(torch.equal(resumed[k], reference[k]) for k in reference)  # bit for bit
    got, want = events(part), events(whole)  # train_loss at step 4 of the interrupted run was dropped and drawn anew
    assert got.tags("scalars") == want.tags("scalars")
    assert [got.scalars(tag) for tag in got.tags("scalars")] == [want.scalars(tag) for tag in want.tags("scalars")]


@pytest.mark.parametrize("where, said", [((Progress, "update"), "in epoch 1 of 3: no epoch was complete"),
                                         ((reports, "final_report"), "after all 3 epochs: ")])  # not "in epoch 4"
def test_ctrl_c_says_truly_what_is_saved(run_lesson, fruit, monkeypatch, where, said):
    monkeypatch.setattr(*where, mock.Mock(side_effect=KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt) as e:
        train(run_lesson, *fruit, "--epochs", "3")
    assert console.interrupted_line(e.value).startswith("interrupted: " + said)


def child(run_lesson, patch, *flags, sig=None, **options):
    """`python lessons/p27_train.py FLAGS --checkpoint-dir tmp/ck` as a process of its own, `patch` run first, sent
    `sig` once the patch has touched the file named by $MARKER; returns how it ended (for one_line_error)."""
    marker, lesson = run_lesson.tmp / "marker", REPO / "lessons" / "p27_train.py"
    code = f"import os, runpy, time\n{patch}\nrunpy.run_path({str(lesson)!r}, run_name='__main__')"
    proc = popen([sys.executable, "-c", code, *flags, "--checkpoint-dir", str(run_lesson.tmp / "ck"), "--logdir",
                  str(run_lesson.logdir)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                 env=dict(CHILD_ENV, MARKER=str(marker)), text=True, encoding="utf-8", errors="replace", **options)
    deadline = time.monotonic() + 180
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "the child never reached its marker"
        time.sleep(0.05)
    if sig:
        proc.send_signal(sig)
    return SimpleNamespace(code=proc.wait(timeout=120), err=proc.communicate()[1], out="", pid=proc.pid)


HALF_A_SAVE = """
import io, torch
real_save, calls = torch.save, []
def half_save(obj, f, *args, **kwargs):  # the 3rd save (epoch 2's first): half the file, then hang until killed
    calls.append(obj)
    if len(calls) < 3:
        return real_save(obj, f, *args, **kwargs)
    buffer = io.BytesIO()
    real_save(obj, buffer, *args, **kwargs)
    f.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    f.flush()
    open(os.environ["MARKER"], "w").close()
    time.sleep(600)
torch.save = half_save
"""


def test_a_kill_during_a_save_leaves_the_previous_checkpoints_whole(run_lesson, fruit):
    ck = run_lesson.tmp / "ck"  # SIGKILL, after epoch 2's test scalars were written: no clean-up code runs
    killed = child(run_lesson, HALF_A_SAVE, "--quick", *fruit, "--epochs", "2", sig=signal.SIGKILL)
    assert list(ck.glob("*.pth.*.tmp")) and sorted(p.name for p in ck.glob("*.pth")) == ["best.pth", "epoch_1.pth"]
    assert checkpoint.load_tudui(ck / "best.pth")[1] == list(FRUIT)
    assert checkpoint.load(ck / "best.pth")["epoch"] == checkpoint.load(ck / "epoch_1.pth")["epoch"] == 1

    r = train(run_lesson, *fruit, "--resume", "--epochs", "2")  # carry on
    assert r.number("resuming after epoch") == 1 and r.number("took over the lock of process") == killed.pid
    assert not list(ck.glob("*.tmp")) and checkpoint.load(ck / "epoch_2.pth")["epoch"] == 2
    board = events(r.runs[-1])  # epoch 2 ran twice, bit for bit; its points are there once (test_*'s step: the epoch)
    steps = {tag: [s for s, _ in board.scalars(tag)] for tag in board.tags("scalars")}
    assert all(s == sorted(set(s)) for s in steps.values()) and steps["train_loss"] == [1, 2, 3, 4, 5, 6]
    assert steps["test_loss"] == steps["per_class_accuracy/apple"] == [1, 2]


AFTER_CALL = """
import kit.progress, multiprocessing.process, signal
real, calls = {0}, []
def patched(self, *args):  # as call {1} returns: touch $MARKER, then {2}
    real(self, *args)
    calls.append(self)
    if len(calls) == {1}:
        open(os.environ["MARKER"], "w").close()
        {2}
{0} = patched
"""
# in step 5, in epoch 2 (3 steps an epoch): say so, then wait for the signal
SIGNAL_IN_STEP_5 = AFTER_CALL.format("kit.progress.Progress.update", 5, "time.sleep(60)")
# as the 2nd DataLoader worker starts: Ctrl-C, which the whole process group gets
CTRL_C_AS_THE_WORKERS_START = AFTER_CALL.format("multiprocessing.process.BaseProcess.start", 2,
                                                "os.killpg(os.getpgrp(), signal.SIGINT)")


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP", "SIGINT"])  # `kill PID`; a closed terminal; Ctrl-C
def test_stop_signals_to_a_real_run_are_one_line_and_resume_goes_on(run_lesson, fruit, name):
    """Ctrl-C as the workers start was, by chance, lost, "worker exited unexpectedly" or an AttributeError."""
    ck, sig, workers = run_lesson.tmp / "ck", getattr(signal, name), name == "SIGINT"
    ended = child(run_lesson, CTRL_C_AS_THE_WORKERS_START if workers else SIGNAL_IN_STEP_5, *fruit, "--epochs", "3",
                  "--num-workers", str(2 * workers), sig=None if workers else sig, start_new_session=True)
    assert one_line_error(ended, code=128 + sig) == (
        "interrupted: in epoch 1 of 3: no epoch was complete, nothing is saved" if workers else
        f"interrupted ({name}): after epoch 1 of 3: {ck / 'epoch_1.pth'} is saved; continue with --resume")
    if not workers:
        r = train(run_lesson, *fruit, "--epochs", "3", "--resume", quick=False)
        assert r.number("resuming after epoch") == 1 and r.numbers("-------第") == [2, 3]


def test_resume_checks_the_whole_training_state_first(run_lesson, fruit):
    """A tampered or foreign epoch_N.pth: one line naming it, before the run's TensorBoard folder is touched."""
    train(run_lesson, *fruit, "--epochs", "1")
    path, logged = run_lesson.tmp / "ck" / "epoch_1.pth", sorted(run_lesson.logdir.rglob("events.*"))
    good = path.read_bytes()
    broken = {  # what is changed -> what the line says
        "momentum": (lambda c: c["optimizer"]["state"][0].update(momentum_buffer=torch.zeros(3)),
                     "cannot be resumed: the optimizer's state does not fit (the momentum of model.0.weight is (3,), "
                     "not (32, 3, 5, 5)), a changed or foreign file; move it out of the folder"),
        "epoch": (lambda c: c.update(epoch="1"), "cannot be resumed: its epoch is '1', a changed or foreign file"),
        "rng": (lambda c: c["rng"].update(torch=c["rng"]["torch"][:100]), "cannot be resumed: the random state does "
                "not fit (Expected a CPUGeneratorImplState of size"),
        "nan": (lambda c: c["model"]["model.0.bias"].fill_(float("nan")), "holds NaN/inf weights (e.g. model.0.bias)"),
        "shapes": (lambda c: c["model"].update({"model.7.weight": torch.zeros(128, 1024)}),
                   "does not hold a Tudui: different shapes: model.7.weight (128, 1024) (Tudui has (64, 1024))"),
    }
    for name, (change, words) in broken.items():
        ckpt = torch.load(io.BytesIO(good), weights_only=True)
        change(ckpt)
        torch.save(ckpt, path)
        if name == "epoch":  # as a learner meets it: a real process, exit 1
            r = run_lesson.process("p27_train", "--checkpoint-dir", str(path.parent), *fruit, "--epochs", "2",
                                   "--resume")
            assert one_line_error(r).startswith(f"error: {path} {words}")
            continue
        with pytest.raises(errors.LessonError) as e:
            train(run_lesson, *fruit, "--epochs", "2", "--resume")
        assert str(e.value).startswith(f"{path} {words}"), name
    assert sorted(run_lesson.logdir.rglob("events.*")) == logged


def test_image_folders_set_the_classes_and_no_run_loses_another_runs_weights(run_lesson, fruit):
    """Also: a folder with train/ and val/ as the real hymenoptera data; a folder another run still trains into."""
    ck, root = run_lesson.tmp / "ck", Path(fruit[fruit.index("--data-root") + 1])
    with locks.hold(ck, "checkpoint folder"):  # a run that is still training
        with pytest.raises(errors.LessonError, match=r"in use by another run \(process \d+\)"):
            train(run_lesson, *fruit)
    assert not list(ck.glob("*.pth")) and not run_lesson.logdir.exists()  # nothing touched
    with pytest.raises(errors.LessonError, match="no epoch_N.pth"):
        train(run_lesson, *fruit, "--resume")
    (root / "test").rename(root / "val")  # hymenoptera_data: train/ and val/
    for seed in ("1", "2"):  # three fresh runs into one folder (the last a real process): the earlier ones move
        train(run_lesson, *fruit, "--epochs", "1", "--seed", seed)  # to previous-<time>/
    r = run_lesson.process("p27_train", "--checkpoint-dir", str(ck), *fruit, "--epochs", "1", "--seed", "3")
    assert r.lines("test set: ") == [f"test set: {root / 'val'} (there is no test/ folder)"]
    assert (r.number("训练数据集的长度为"), r.number("测试数据集的长度为")) == (12, 6)
    tudui, classes = checkpoint.load_tudui(ck / "best.pth")
    assert classes == list(FRUIT) and tudui.model[8].out_features == 3
    assert "per_class_accuracy/banana" in events(r.runs[-1]).tags("scalars")
    assert sorted(checkpoint.load(p)["hparams"]["seed"] for p in ck.rglob("epoch_1.pth")) == [1, 2, 3]
    moved = Path(re.search(r"moved the earlier run's checkpoints to (\S+) ", r.out)[1])
    assert moved.parent == ck and moved.name.startswith("previous-") and (moved / "best.pth").is_file()

    saved = sorted(ck.rglob("*.pth"))
    with pytest.raises(errors.LessonError, match=r"the loss became (nan|inf) at step \d+: .* lower --lr"):
        train(run_lesson, *fruit, "--lr", "1e6", "--epochs", "2")
    assert sorted(ck.rglob("*.pth")) == saved  # it diverged before an epoch was done: nothing moved, nothing saved
    with pytest.raises(errors.LessonError, match="trained on the classes"):  # other data: refused in one line
        train(run_lesson, "--resume")
    train(run_lesson, "--lr", "-1", expect=2)  # a bad flag: argparse's one line


def test_class_names_in_any_script_keep_their_tags_and_get_a_legend(run_lesson, monkeypatch):
    """The legend's font: one with the glyphs where there is one, else "class 0", "class 1"."""
    assert reports.label_font(["猫", "狗"], candidates=["/no/such/font.ttc"])[1] == ["class 0", "class 1"]
    dejavu = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"  # not CJK, but it shows the search works
    if Path(dejavu).is_file():
        font, labels = reports.label_font(["猫", "狗"], candidates=["/no/such/font.ttc", dejavu])
        assert labels == ["猫", "狗"] and font.path == dejavu
    assert reports.label_font(["cat", "dog"])[1] == ["cat", "dog"]
    pets = image_folder(run_lesson.tmp / "pets", {"猫": (200, 120, 40), "狗": (40, 40, 40)})
    monkeypatch.setattr(reports, "CJK_FONTS", [])  # as on a machine without a CJK font
    r = train(run_lesson, *pets, "--epochs", "1")
    assert re.search(r"^  猫  \d\.\d{4}$", r.out, flags=re.M)  # aligned: 猫 takes two columns
    board = events(r.runs[0])
    assert {"per_class_accuracy/猫", "per_class_accuracy/狗"} <= set(board.tags("scalars"))
    assert board.texts("class_legend/text_summary")[0][1].split("\n") == ["0. 狗", "1. 猫"]


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "file"])
def test_progress_estimates_the_epoch_and_a_file_gets_a_line_every_30_s(terminal, monkeypatch):
    now, out = [0.0], io.StringIO()
    out.isatty = lambda: terminal
    monkeypatch.setattr(time, "perf_counter", lambda: now[0])
    progress = Progress(100, 1, stream=out)
    for step in range(1, 101):
        now[0] = float(step)  # a step a second
        progress.update(64, torch.tensor(2.0))
        if step == 50:
            progress.write("训练次数：50, Loss: 2.0")
    progress.close()
    text = out.getvalue()
    assert [float(s) for s in re.findall(r"about (\d+) s", text)] == [100]  # said after 3 s
    assert "\n训练次数：50, Loss: 2.0\n" in text.replace("\r", "\n") and text.endswith("\n")
    if terminal:  # redrawn in place
        assert text.count("\r") > 100 and "100/100 steps, loss 2.0000, 64 images/s" in text
    else:  # a line at least every 30 s since the last one, and one at the end
        assert [int(s) for s in re.findall(r"(\d+)/100 steps", text)] == [33, 80, 100]


# What P30 and P31 may add to P27 (the lesson's own lines), and what they may take from it (P27's name and
# its parser without --device, and the loaders' options, which gain pin_memory).
SPLIT = r"|DataLoader\(test_data, batch_size=args.batch_size,$"  # P27's line, split where it grew too long
ADDED = {"p30_train_gpu_1": r"p30_train_gpu_1|cuda|CUDA|GPU|time|since the start|flags.parser\(__doc__\)|pin_memory"
                            r"|^\s*(else:)?$|available=|^from kit.i18n import _$" + SPLIT,
         "p31_train_gpu_2": r"p31_train_gpu_2|device|定义训练的设备|flags.parser\(__doc__\)|^\s*$|^from kit.i18n import _$"
                            + SPLIT}
REMOVED = r"p27_train|device=False|loader_options\(args.num_workers\)\)$|torch.device\(\"cpu\"\)"


def code_lines(name):
    text = (REPO / "lessons" / f"{name}.py").read_text(encoding="utf-8")
    return text[text.index('"""\n', 10) + 4:].splitlines()  # without the docstring


@pytest.mark.parametrize("name", list(ADDED))
def test_gpu_lessons_are_p27_plus_the_lessons_lines(name):
    """The course copies train.py into train_gpu_1.py and train_gpu_2.py; so do we, and they must not drift."""
    diff = [line for line in difflib.unified_diff(code_lines("p27_train"), code_lines(name), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    stray = [line for line in diff if not re.search(ADDED[name] if line[0] == "+" else REMOVED, line[1:])]
    assert not stray, f"{name}.py differs from p27_train.py beyond the lesson's lines:\n" + "\n".join(stray)
    assert sum(line[0] == "+" and (".cuda(" in line or ".to(device" in line) for line in diff) >= 6  # model, loss, batches


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="these file systems store names as text, not bytes")
def test_a_class_folder_named_in_latin1_bytes_is_trained_and_shown_with_replacement_characters(run_lesson, tmp_path):
    flags = image_folder(tmp_path / "goats", {os.fsdecode(b"ch\xe8vre"): (200, 200, 200), "cat": (20, 20, 20)})
    r = train(run_lesson, *flags, "--epochs", "1")
    assert re.search(r"ch\W?vre\s+\d\.\d{4}", r.out)  # the per-class report names it
    assert "per_class_accuracy/ch_vre" in events(r.runs[-1]).tags("scalars")  # TensorBoard's tags keep [\w./-]
