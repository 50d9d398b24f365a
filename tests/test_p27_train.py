"""P27 and the training helpers (kit.runs, kit.progress, kit.reports): a quick run, Ctrl-C + --resume, a kill
during a save, image folders, one run per checkpoint folder, divergence, class names in any script."""
import contextlib
import importlib
import io
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from PIL import Image

from conftest import CHILD_ENV, REPO, tb_scalars, tb_tags

from kit import checkpoint, common, locks, reports
from kit.data import SyntheticCIFAR10
from kit.progress import Progress


def train(name, tmp, *args, dataset=("--dataset", "synthetic")):
    """Run a lesson's main() quickly with logs and checkpoints under tmp: (exit code, stdout, run folders)."""
    module = importlib.import_module(name)
    out = io.StringIO()  # not a terminal: the progress bar prints plain lines
    with contextlib.redirect_stdout(out):
        try:
            rc = module.main(["--quick", *dataset, "--logdir", str(tmp / "logs"),
                              "--checkpoint-dir", str(tmp / "ck"), *args])
        except SystemExit as e:  # Ctrl-C: the finished epochs are saved, exit code 130
            rc = e.code
    return rc, out.getvalue(), sorted(p for p in (tmp / "logs" / name).glob("*") if p.is_dir())


def event_tags(run_dir):
    """Every summary tag in a run's event files, hparams' plugin tags included."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    return {v.tag for f in run_dir.glob("events.out.tfevents.*") for e in EventFileLoader(str(f)).Load()
            for v in e.summary.value}


@pytest.fixture(scope="module")
def p27_run(tmp_path_factory):
    """The reference: an uninterrupted quick run (2 epochs, seed 0)."""
    tmp = tmp_path_factory.mktemp("p27")
    rc, out, runs = train("p27_train", tmp)
    return tmp, rc, out, runs


def test_quick_run_prints_the_course_lines_and_learns(p27_run):
    tmp, rc, out, runs = p27_run
    assert rc == 0
    assert "训练数据集的长度为：2048" in out and "测试数据集的长度为：512" in out
    # P28's example: two images, two classes
    assert "argmax(1): tensor([1, 1]), argmax(0): tensor([0, 1]), (outputs.argmax(1) == targets).sum(): tensor(1)" in out
    assert out.count("轮训练开始") == 2
    assert "训练次数：10, Loss: " in out and "训练次数：60, Loss: " in out  # --quick logs every 10 steps
    lines = [line for line in out.splitlines() if line.startswith("整体测试集上的正确率")]
    printed = [float(line.split(":")[1].split()[0]) for line in lines]
    assert len(printed) == 2 and printed[-1] > 0.2  # chance is 0.1
    # not a terminal: one plain progress line per epoch, no carriage returns
    assert out.count("32/32 steps") == 2 and "images/s" in out and "\r" not in out
    assert "per-class test accuracy:" in out and "checkerboard" in out
    assert "s per epoch) on CPU" in out


def test_tensorboard_scalars_images_and_hparams(p27_run):
    tmp, rc, out, runs = p27_run
    assert len(runs) == 1 and runs[0].name.endswith("-synthetic")
    tags = tb_tags(runs[0])
    assert {"train_loss", "test_loss", "test_accuracy", "learning_rate",
            "per_class_accuracy/horizontal_stripes", "hparam/best_accuracy"} <= set(tags["scalars"])
    assert {"confusion_matrix", "test_predictions"} <= set(tags["images"])
    assert {"_hparams_/experiment", "_hparams_/session_start_info"} <= event_tags(runs[0])
    assert [s for s, _ in tb_scalars(runs[0], "train_loss")] == [10, 20, 30, 40, 50, 60]
    accuracy = tb_scalars(runs[0], "test_accuracy")
    assert [s for s, _ in accuracy] == [1, 2]  # step = epoch, from 1
    assert all(0 <= a <= 1 for _, a in accuracy) and accuracy[-1][1] > 0.2
    test_loss = tb_scalars(runs[0], "test_loss")
    assert test_loss[-1][1] < test_loss[0][1] < 2.4  # a mean per image (a sum over 8 batches would be ~18)


def test_checkpoints_load_with_classes_and_training_state(p27_run):
    tmp, rc, out, runs = p27_run
    ck = tmp / "ck"
    assert sorted(p.name for p in ck.iterdir()) == [".lock", "best.pth", "epoch_1.pth", "epoch_2.pth"]  # .lock: empty
    tudui, classes = checkpoint.load_tudui(ck / "best.pth")
    assert classes == SyntheticCIFAR10.classes and not tudui.training
    last = checkpoint.load(ck / "epoch_2.pth")
    accuracy = [a for _, a in tb_scalars(runs[0], "test_accuracy")]
    assert last["epoch"] == 2 and last["total_train_step"] == 64
    assert last["best_accuracy"] == pytest.approx(max(accuracy))
    assert last["optimizer"]["param_groups"][0]["lr"] == 1e-2 and last["log_dir"] == str(runs[0].resolve())
    best = checkpoint.load(ck / "best.pth")
    assert best["test_accuracy"] == pytest.approx(max(accuracy))


def test_ctrl_c_then_resume_equals_the_uninterrupted_run(p27_run, tmp_path, monkeypatch, capsys):
    ref_tmp, _, _, ref_runs = p27_run
    calls = 0
    real_update = Progress.update

    def update(self, n, loss):  # Ctrl-C in the 45th training step: epoch 2, after train_loss at step 40
        nonlocal calls
        real_update(self, n, loss)
        calls += 1
        if calls == 45:
            raise KeyboardInterrupt

    monkeypatch.setattr(Progress, "update", update)
    rc, out, runs = train("p27_train", tmp_path)
    assert rc == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "interrupted in epoch 2: epoch 1 is saved as" in err and "--resume" in err
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == [".lock", "best.pth", "epoch_1.pth"]
    assert tb_scalars(runs[0], "train_loss")[-1][0] == 40  # logged by the interrupted run

    monkeypatch.undo()
    rc, out, runs_after = train("p27_train", tmp_path, "--resume")
    assert rc == 0 and "resuming after epoch 1" in out and "第 1 轮" not in out
    assert runs_after == runs  # the same TensorBoard run folder
    resumed = checkpoint.load(tmp_path / "ck" / "epoch_2.pth")["model"]
    reference = checkpoint.load(ref_tmp / "ck" / "epoch_2.pth")["model"]
    assert all(torch.equal(resumed[k], reference[k]) for k in reference)
    for tag in ("train_loss", "test_loss", "test_accuracy"):  # step 40 of the interrupted run is purged
        got, want = tb_scalars(runs[0], tag), tb_scalars(ref_runs[0], tag)
        assert [s for s, _ in got] == [s for s, _ in want]
        assert [v for _, v in got] == pytest.approx([v for _, v in want], abs=1e-6)


CHILD = """
import io, sys, time
import torch
real_save, calls = torch.save, 0

def slow_save(obj, f, *args, **kwargs):  # from the 3rd save on: write half the file, then hang until killed
    global calls
    calls += 1
    if calls < 3:
        return real_save(obj, f, *args, **kwargs)
    buffer = io.BytesIO()
    real_save(obj, buffer, *args, **kwargs)
    f.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    f.flush()
    open({marker!r}, "w").close()
    time.sleep(600)

torch.save = slow_save
import p27_train
p27_train.main(sys.argv[1:])
"""


@pytest.fixture(scope="module")
def fruit(tmp_path_factory):
    """root/{train,test}/{apple,banana,cherry}/*.png: flat colours, a few of each (an epoch takes milliseconds)."""
    root = tmp_path_factory.mktemp("fruit")
    colours = {"apple": (200, 30, 30), "banana": (230, 220, 40), "cherry": (120, 0, 60)}
    for split, n in (("train", 4), ("test", 2)):
        for name, rgb in colours.items():
            (root / split / name).mkdir(parents=True)
            for i in range(n):
                Image.new("RGB", (40 + i, 36), rgb).save(root / split / name / f"{i}.png")
    return ("--dataset", "folder", "--data-root", str(root))


def test_a_kill_during_a_save_leaves_the_previous_checkpoints_intact(fruit, tmp_path):
    ck, marker = tmp_path / "ck", tmp_path / "saving"
    child = CHILD.format(marker=str(marker))
    args = ["--quick", *fruit, "--epochs", "2", "--logdir", str(tmp_path / "logs"), "--checkpoint-dir", str(ck)]
    proc = subprocess.Popen([sys.executable, "-c", child, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=CHILD_ENV)
    deadline = time.monotonic() + 180
    while not marker.exists():  # epoch 1 saved best.pth and epoch_1.pth; epoch 2's first save hangs half-written
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the child never reached its third save"
        time.sleep(0.05)
    proc.kill()  # SIGKILL: no clean-up code runs
    proc.wait()
    proc.stderr.close()
    assert list(ck.glob("*.pth.*.tmp")), "the kill should have hit a half-written temp file"
    assert sorted(p.name for p in ck.glob("*.pth")) == ["best.pth", "epoch_1.pth"]
    tudui, classes = checkpoint.load_tudui(ck / "best.pth")
    assert classes == ["apple", "banana", "cherry"]
    assert checkpoint.load(ck / "best.pth")["epoch"] == checkpoint.load(ck / "epoch_1.pth")["epoch"] == 1

    rc, out, _ = train("p27_train", tmp_path, "--resume", "--epochs", "2", dataset=fruit)  # carry on
    assert rc == 0 and "resuming after epoch 1" in out
    assert f"took over the lock of process {proc.pid}" in out  # the killed run's lock file
    assert not list(ck.glob("*.tmp")) and checkpoint.load(ck / "epoch_2.pth")["epoch"] == 2


def test_image_folders_set_the_number_of_classes(fruit, tmp_path):
    rc, out, runs = train("p27_train", tmp_path, "--epochs", "1", dataset=fruit)
    assert rc == 0 and "训练数据集的长度为：12" in out and "测试数据集的长度为：6" in out
    tudui, classes = checkpoint.load_tudui(tmp_path / "ck" / "best.pth")
    assert classes == ["apple", "banana", "cherry"] and tudui.model[8].out_features == 3
    assert "per_class_accuracy/banana" in tb_tags(runs[0])["scalars"]

    # a new run sets the earlier one aside instead of mixing with it
    rc, out, _ = train("p27_train", tmp_path, "--epochs", "1", dataset=fruit)
    assert "moved the 2 checkpoints of an earlier run" in out
    assert sorted(p.name for p in (tmp_path / "ck" / "previous").iterdir()) == ["best.pth", "epoch_1.pth"]

    # resuming on other data is refused in one line
    with pytest.raises(common.LessonError, match="trained on the classes"):
        train("p27_train", tmp_path, "--resume")


def test_resume_without_checkpoints_is_one_clear_error(tmp_path):
    with pytest.raises(common.LessonError, match="no epoch_N.pth"):
        train("p27_train", tmp_path, "--resume")


def test_progress_bar_redraws_in_place_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    progress = Progress(3, 1, stream=screen)
    for _ in range(3):
        progress.update(64, torch.tensor(2.0))
    progress.write("训练次数：100, Loss: 2.0000")
    progress.close()
    text = screen.getvalue()
    assert "\r" in text and "3/3 steps, loss 2.0000" in text and "images/s" in text
    assert "\r训练次数：100" in text and text.endswith("\n")


def test_bad_flags_exit_cleanly():
    import p27_train

    with pytest.raises(SystemExit) as e, contextlib.redirect_stderr(io.StringIO()):
        p27_train.main(["--lr", "-1"])
    assert e.value.code == 2


# ---------------------------------------------------------------- the lesson itself

COURSE_STEPS = ["# 准备数据集", "# length 长度", "# 利用 DataLoader 来加载数据集", "# 创建网络模型", "# 损失函数",
                "# 优化器", "# 设置训练网络的一些参数", "# 添加tensorboard", "# 训练步骤开始", "# 优化器优化模型",
                "# 测试步骤开始", "# 保存模型"]
COURSE_LINES = ["train_data_size = len(train_data)", "test_data_size = len(test_data)",
                "train_dataloader = DataLoader(train_data", "test_dataloader = DataLoader(test_data",
                "loss_fn = nn.CrossEntropyLoss()", "total_train_step = 0", "total_test_step = 0",
                "for data in train_dataloader:", "imgs, targets = data", "outputs = tudui(imgs)",
                "loss = loss_fn(outputs, targets)", "optimizer.zero_grad()", "loss.backward()", "optimizer.step()",
                "total_train_step = total_train_step + 1", "if total_train_step % args.log_every == 0:",
                'writer.add_scalar("train_loss", loss.item(), total_train_step)', "tudui.eval()",
                "with torch.no_grad():", "for data in test_dataloader:",
                "accuracy = (outputs.argmax(1) == targets).sum()", "total_accuracy = total_accuracy + accuracy",
                'print("整体测试集上的正确率: {}".format(total_accuracy / test_data_size))',
                "total_test_step = total_test_step + 1",  # before logging here: the step is the epoch, from 1
                'writer.add_scalar("test_accuracy", total_accuracy / test_data_size, total_test_step)']


def test_p27_holds_the_course_steps_and_lines_in_order():
    text = (REPO / "lessons" / "p27_train.py").read_text(encoding="utf-8")
    positions = [text.find(step) for step in COURSE_STEPS]
    assert -1 not in positions and positions == sorted(positions), dict(zip(COURSE_STEPS, positions))
    positions = [text.find(line) for line in COURSE_LINES]
    assert -1 not in positions and positions == sorted(positions), dict(zip(COURSE_LINES, positions))


def code_lines(name):
    """A lesson's code without its docstring: [(kind of line, text)]."""
    text = (REPO / "lessons" / f"{name}.py").read_text(encoding="utf-8")
    return text[text.index('"""\n', 10) + 4:].splitlines()


# What P30 and P31 may add to P27 (the lesson's own lines), and what they may take from it (P27's name and
# its CPU-only guard, and the loaders' options, which gain pin_memory).
SPLIT = r"|DataLoader\(test_data, batch_size=args.batch_size,$"  # P27's line, split where it grew too long
ADDED = {"p30_train_gpu_1": r"p30_train_gpu_1|cuda|CUDA|GPU|time|mps|get_device|pin_memory|^\s*(else:)?$" + SPLIT,
         "p31_train_gpu_2": r"p31_train_gpu_2|device|^\s*$" + SPLIT}
REMOVED = r"p27_train|P27 trains on the CPU|p30_train_gpu_1.py or p31_train_gpu_2.py|args.device not in|loader_options|" \
          r"run.finish\(writer, torch.device\(\"cpu\"\)\)"


@pytest.mark.parametrize("name", list(ADDED))
def test_gpu_lessons_are_p27_plus_the_lessons_lines(name):
    """The course copies train.py into train_gpu_1.py and train_gpu_2.py; so do we, and they must not drift."""
    import difflib

    diff = [line for line in difflib.unified_diff(code_lines("p27_train"), code_lines(name), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    stray = [line for line in diff if not re.search(ADDED[name] if line[0] == "+" else REMOVED, line[1:])]
    assert not stray, f"{name}.py differs from p27_train.py beyond the lesson's lines:\n" + "\n".join(stray)
    assert sum(line[0] == "+" and "cuda" in line.lower() or "device)" in line for line in diff) >= 4


def test_a_second_run_into_the_same_folder_is_refused(tmp_path):
    with locks.hold(tmp_path / "ck", "checkpoint folder"):  # a run that is still training
        with pytest.raises(common.LessonError, match=r"in use by another run \(process \d+\)"):
            train("p27_train", tmp_path)
    assert not list((tmp_path / "ck").glob("*.pth")) and not (tmp_path / "logs").exists()  # nothing touched


def test_a_diverging_run_stops_in_one_line_and_saves_nothing(tmp_path):
    with pytest.raises(common.LessonError, match=r"the loss became (nan|inf) at step \d+: .* lower --lr"):
        train("p27_train", tmp_path, "--lr", "1e6")
    assert not list((tmp_path / "ck").glob("*.pth"))


def test_class_names_in_any_script_keep_their_tags_and_get_a_legend(tmp_path, monkeypatch):
    root = tmp_path / "pets"
    for split, n in (("train", 6), ("test", 2)):
        for name, rgb in {"猫": (200, 120, 40), "狗": (40, 40, 40)}.items():
            (root / split / name).mkdir(parents=True)
            for i in range(n):
                Image.new("RGB", (32, 32), rgb).save(root / split / name / f"{i}.png")
    monkeypatch.setattr(reports, "CJK_FONTS", [])  # as on a machine without a CJK font
    rc, out, runs = train("p27_train", tmp_path, "--epochs", "1", dataset=("--dataset", "folder", "--data-root", str(root)))
    assert rc == 0 and re.search(r"^  猫  \d\.\d{4}$", out, flags=re.M)  # aligned: 猫 takes two columns
    tags = tb_tags(runs[0])
    assert {"per_class_accuracy/猫", "per_class_accuracy/狗"} <= set(tags["scalars"])
    assert "class_legend/text_summary" in tags["tensors"]  # TEXT tab: which class number is which name


def test_a_font_with_the_glyphs_is_used_when_there_is_one():
    font, labels = reports.label_font(["猫", "狗"], candidates=["/no/such/font.ttc"])
    assert labels == ["class 0", "class 1"]
    dejavu = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"  # not CJK, but it shows the search works
    if Path(dejavu).is_file():
        font, labels = reports.label_font(["猫", "狗"], candidates=["/no/such/font.ttc", dejavu])
        assert labels == ["猫", "狗"] and font.path == dejavu
    assert reports.label_font(["cat", "dog"])[1] == ["cat", "dog"]
