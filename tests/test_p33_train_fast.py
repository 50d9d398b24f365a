import errno
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image
from torch import nn

from conftest import CHILD_ENV, REPO, tb_scalars, tb_tags

COURSE_KEYS = ["model.0.weight", "model.0.bias", "model.2.weight", "model.2.bias", "model.4.weight",
               "model.4.bias", "model.7.weight", "model.7.bias", "model.8.weight", "model.8.bias"]


def synthetic_accuracy(tudui):
    """What p32_test.py does: plain ToTensor() images ([0, 1], no normalisation) into the loaded model."""
    from kit.data import SyntheticCIFAR10

    test = SyntheticCIFAR10(512, seed=1)
    with torch.no_grad():
        return (tudui(test.data.float() / 255).argmax(1) == torch.tensor(test.targets)).float().mean().item()


def test_quick_synthetic_learns_and_checkpoint_loads(run_lesson, tmp_path):
    from kit import checkpoint
    from kit.data import SyntheticCIFAR10
    from model import Tudui

    ck = tmp_path / "ck"
    out, runs = run_lesson("p33_train_fast", "--epochs", "1", "--no-bf16", "--checkpoint-dir", str(ck),
                           "--cache-dir", str(tmp_path / "cache"))
    assert "batch 128, lr 0.06, bf16 autocast off, torch.compile off" in out
    assert "epoch 1/1: test_loss" in out and "img/s" in out
    assert len(runs) == 1 and runs[0].name.endswith("-synthetic")
    assert {"train_loss", "test_loss", "test_accuracy", "learning_rate"} <= set(tb_tags(runs[0])["scalars"])
    acc = [v for _, v in tb_scalars(runs[0], "test_accuracy")]
    assert len(acc) == 1 and acc[0] > 0.5  # chance is 0.1
    same, n, diff = re.search(r"on plain \[0, 1\] images: the same prediction for (\d+)/(\d+) test images, "
                              r"logits within (\S+)", out).groups()
    assert same == n == "512" and float(diff) < 1e-3  # the folded, saved model is the trained one
    lr = [v for _, v in tb_scalars(runs[0], "learning_rate")]
    assert max(lr) == pytest.approx(0.06, rel=0.01) and lr[-1] < 0.006  # one-cycle: up to --lr, then down

    # P32's way: kit.checkpoint.load_tudui, then ToTensor() images
    tudui, classes = checkpoint.load_tudui(ck / "best.pth")
    assert classes == SyntheticCIFAR10.classes and synthetic_accuracy(tudui) > 0.5
    # the course's way: torch.load, then load_state_dict into its own Tudui (padding 2, no normalisation)
    state = torch.load(ck / "final.pth", map_location="cpu", weights_only=True)["model"]
    assert list(state) == COURSE_KEYS
    course_tudui = Tudui()
    course_tudui.load_state_dict(state)
    assert synthetic_accuracy(course_tudui.eval()) > 0.5


def test_bf16_autocast_and_compile_flags_on_cpu(run_lesson, tmp_path, monkeypatch):
    """--bf16 on a CPU works (autocast really on: the model's outputs are bfloat16); --compile hands the model
    to torch.compile and trains what it returns (a spy here: compiling for real takes minutes). Six images:
    bf16 on this CPU (no native bf16) is 5x slower than float32, too slow for the quick set in a test."""
    from kit import checkpoint

    compiled, dtypes = [], []

    class Spy(nn.Module):
        def __init__(self, module):
            super().__init__()
            self.module = module

        def forward(self, x):
            out = self.module(x)
            dtypes.append(out.dtype)
            return out

    def fake_compile(module, *a, **k):
        compiled.append(type(module).__name__)
        return Spy(module)

    monkeypatch.setattr(torch, "compile", fake_compile)
    ck, root = tmp_path / "ck", tmp_path / "photos"
    make_folder(root, colour=120)
    out, _ = run_lesson("p33_train_fast", "--epochs", "2", "--bf16", "--compile", "--data-root", str(root),
                        "--checkpoint-dir", str(ck), "--cache-dir", str(tmp_path / "cache"), quick=False,
                        dataset="folder")
    assert "bf16 autocast on, torch.compile on" in out and "epoch 2/2: test_loss" in out
    # 2 training steps of 6 images, 2 tests with the mirror images: all through the compiled model, in bf16
    assert compiled == ["Tudui"] and len(dtypes) == 6 and set(dtypes) == {torch.bfloat16}
    tudui, classes = checkpoint.load_tudui(ck / "final.pth")  # saved as float32, as P32 and the course expect
    assert classes == ["cat", "dog"] and {p.dtype for p in tudui.parameters()} == {torch.float32}


@pytest.mark.parametrize("flag, value, says", [
    ("--lr", "-1", "must be more than 0"), ("--lr", "nan", "must be more than 0 (and finite)"),
    ("--momentum", "-5", "must be 0 or more"), ("--gpu-lr", "0", "must be more than 0"),
    ("--clip", "-1", "must be 0 or more"), ("--gpu-batch-size", "0", "must be at least 1"),
    ("--epochs", "1.5", "is not a whole number")])
def test_nonsense_numbers_are_refused_by_argparse(flag, value, says, capsys):
    import p33_train_fast

    with pytest.raises(SystemExit) as e:
        p33_train_fast.main([flag, value])
    err = capsys.readouterr().err.strip().splitlines()
    assert e.value.code == 2 and f"argument {flag}: " in err[-1] and says in err[-1]


def test_bf16_is_off_by_default_on_cpu_and_divergence_is_one_line(tmp_path, capsys):
    """Tudui has no normalisation layers: too high a learning rate blows the weights up (NaN)."""
    import p33_train_fast
    from kit import common

    with pytest.raises(common.LessonError, match=r"the loss became nan at step 10: try a lower --lr than 50"):
        p33_train_fast.main(["--quick", "--dataset", "synthetic", "--batch-size", "16", "--lr", "50", "--clip", "0",
                             "--logdir", str(tmp_path / "logs"), "--checkpoint-dir", str(tmp_path / "ck")])
    assert "bf16 autocast off" in capsys.readouterr().out
    assert not (tmp_path / "ck" / "best.pth").exists()


def test_a_second_run_into_the_same_checkpoint_folder_is_refused(tmp_path):
    import p33_train_fast
    from kit import common, locks

    with locks.hold(tmp_path / "ck", "checkpoint folder"):
        with pytest.raises(common.LessonError, match=r"ck is in use by another run"):
            p33_train_fast.main(["--quick", "--dataset", "synthetic", "--checkpoint-dir", str(tmp_path / "ck"),
                                 "--logdir", str(tmp_path / "logs")])


@pytest.mark.parametrize("pad", [2, 4])
def test_augment_crops_and_flips_each_image(pad):
    import torch.nn.functional as F
    from kit.tensors import augment

    x = torch.rand(16, 3, 32, 32)
    out = augment(x, torch.Generator().manual_seed(0), pad)
    padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    kinds = set()
    for b in range(16):
        crops = [padded[b, :, dy:dy + 32, dx:dx + 32] for dy in range(2 * pad + 1) for dx in range(2 * pad + 1)]
        kind = ("crop" if any(torch.equal(c, out[b]) for c in crops) else
                "flip" if any(torch.equal(c.flip(2), out[b]) for c in crops) else None)
        assert kind, f"image {b} is neither a crop nor a mirrored crop"
        kinds.add(kind)
    assert kinds == {"crop", "flip"}


def test_normalisation_folds_into_first_conv_exactly():
    from kit.tensors import to_float
    from model import Tudui
    from p33_train_fast import fold_normalization

    torch.manual_seed(0)
    tudui = Tudui()
    tudui.model[0].padding = (0, 0)  # as p33 trains it: to_float() pads before normalising
    mean, std = torch.tensor([0.5, 0.4, 0.3]).view(1, 3, 1, 1), torch.tensor([0.25, 0.2, 0.3]).view(1, 3, 1, 1)
    images = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8)
    folded = fold_normalization(tudui, mean, std)
    with torch.no_grad():
        trained = tudui(to_float(images, mean, std, channels_last=True))
        saved = folded(images.float() / 255)  # what p32_test.py feeds: ToTensor() images
    assert list(folded.state_dict()) == COURSE_KEYS and folded.model[0].padding == (2, 2)
    assert torch.allclose(trained, saved, atol=1e-5)


def make_folder(root, colour):
    for split in ("train", "test"):
        for k, cls in enumerate(["cat", "dog"]):
            d = root / split / cls
            d.mkdir(parents=True, exist_ok=True)
            for i in range(3):
                Image.new("RGB", (32, 32), (colour, 40 * k, 10 * i)).save(d / f"{i}.png")


def folder_loader(root, cache, capsys):
    """load() -> (images, labels, printed text) of the folder's training half, through the cache."""
    from kit import common, tensors
    from kit.data import load_datasets

    args = common.parser("").parse_args(["--dataset", "folder", "--data-root", str(root)])

    def load(data_root=root):
        args.data_root = Path(data_root)
        images, labels = tensors.as_tensors(load_datasets(args).train_set, cache)
        return images, labels, capsys.readouterr().out

    return load


def test_tensor_cache_is_reused_and_rebuilt_when_data_changes(tmp_path, capsys):
    root, cache = tmp_path / "photos", tmp_path / "cache"
    make_folder(root, colour=200)
    load = folder_loader(root, cache, capsys)

    images, labels, out = load()
    assert "decoding 6 images" in out and images.shape == (6, 3, 32, 32) and images.dtype == torch.uint8
    assert images[:, 0].eq(200).all() and labels.tolist() == [0, 0, 0, 1, 1, 1]
    first = sorted(cache.glob("*.pt"))
    assert len(first) == 1 and first[0].name.startswith("photos-train-6-")

    images, _, out = load()  # unchanged data: loaded, not decoded
    assert "decoding" not in out and images[:, 0].eq(200).all()
    cwd = os.getcwd()
    try:  # the same folder named by another path (relative, with ..) is the same data
        os.chdir(cache)
        images, _, out = load(Path("..") / "cache" / ".." / "photos")
    finally:
        os.chdir(cwd)
    assert "decoding" not in out and sorted(cache.glob("*.pt")) == first

    img = root / "train" / "cat" / "0.png"
    Image.new("RGB", (64, 48), (90, 0, 0)).save(img)  # new content, new size
    os.utime(img, ns=(img.stat().st_atime_ns, img.stat().st_mtime_ns + 10**9))
    images, _, out = load()
    assert "decoding 6 images" in out
    assert images[0, 0].eq(90).all() and images[1:, 0].eq(200).all()
    assert [f.name for f in cache.glob("*.pt")] != [f.name for f in first] and len(list(cache.glob("*.pt"))) == 1

    (cache / next(cache.glob("*.pt")).name).write_bytes(b"garbage")  # a broken cache is rebuilt, not fatal
    images, _, out = load()
    assert "unreadable" in out and images[0, 0].eq(90).all()


@pytest.mark.parametrize("failure", ["not a folder", "disk full", "no permission"])
def test_a_cache_that_cannot_be_written_is_one_line_and_the_old_one_stays(failure, tmp_path, capsys, monkeypatch):
    from kit import common

    root, cache = tmp_path / "photos", tmp_path / "cache"
    make_folder(root, colour=200)
    load = folder_loader(root, cache, capsys)
    load()
    old = sorted(cache.iterdir())
    img = root / "train" / "cat" / "0.png"  # changed data: a new cache must be written
    os.utime(img, ns=(img.stat().st_atime_ns, img.stat().st_mtime_ns + 10**9))

    if failure == "not a folder":
        cache = tmp_path / "a-file"
        cache.write_text("")
        load = folder_loader(root, cache, capsys)
        match = rf"cannot write the decoded-image cache in {re.escape(str(cache))}: not a folder \({re.escape(str(cache))} is a file\)"
    elif failure == "disk full":
        def full(*a, **k):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        monkeypatch.setattr(torch, "save", full)  # the write itself fails, after the folder checked out fine
        match = rf"could not write {re.escape(str(cache))}/photos-train-6-\w+\.pt: .*No space left on device"
    else:  # root ignores chmod, so the operating system's refusal is simulated
        def refuse(*a, **k):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        monkeypatch.setattr("tempfile.TemporaryFile", refuse)
        match = rf"cannot write the decoded-image cache in {re.escape(str(cache))}: permission denied"
    with pytest.raises(common.LessonError, match=match) as e:
        load()
    assert "\n" not in str(e.value)
    if failure != "not a folder":
        assert sorted(cache.iterdir()) == old  # the earlier cache is still there, and no temp file is left


def test_folder_run_end_to_end_and_bad_image(run_lesson, tmp_path):
    from kit import common

    root = tmp_path / "photos"
    make_folder(root, colour=120)
    args = ["--data-root", str(root), "--epochs", "1", "--cache-dir", str(tmp_path / "cache"),
            "--checkpoint-dir", str(tmp_path / "ck")]
    out, runs = run_lesson("p33_train_fast", *args, quick=False, dataset="folder")
    assert "data (folder): train (6, 3, 32, 32)" in out and (tmp_path / "ck" / "best.pth").is_file()

    (root / "train" / "dog" / "2.png").write_text("not an image")
    with pytest.raises(common.LessonError, match="cannot read image .*2.png"):
        run_lesson("p33_train_fast", *args, quick=False, dataset="folder")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc, Linux only")
def test_keep_freed_memory_stops_the_page_faults():
    """Tensors of 40 MB made and freed in a loop, as a training step does: glibc maps each one afresh
    and the kernel faults in every page (about 10,000 per tensor), until keep_freed_memory() ran."""
    code = """
import resource, torch
from p33_train_fast import keep_freed_memory

def faults():
    for _ in range(2): torch.ones(10_000_000)  # 40 MB
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(10): torch.ones(10_000_000)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

print(faults(), keep_freed_memory(), faults())
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=CHILD_ENV).stdout
    before, kept, after = out.split()
    assert kept == "True" and int(before) > 50_000 and int(after) < 10_000  # 10 tensors of 9,766 pages each


def test_gpu_check_script_parses_and_refuses_bad_input(tmp_path):
    """benchmarks/gpu_check.sh: valid bash, and one line (exit code 2) for input it cannot use, before any
    Python starts. Its rows: the ones the GPU table promises; --smoke keeps those a CPU runs in seconds."""
    from benchmarks import bench_train

    script = str(REPO / "benchmarks" / "gpu_check.sh")
    assert subprocess.run(["bash", "-n", script]).returncode == 0
    for args, says in [(["--bogus"], "unknown argument '--bogus'"), (["--data-root", str(tmp_path)], "no train/")]:
        run = subprocess.run(["bash", script, *args], capture_output=True, text=True)
        assert run.returncode == 2 and run.stdout == "" and len(run.stderr.splitlines()) == 1 and says in run.stderr

    def rows(*argv):
        return [name for name, *_ in bench_train.recipes(bench_train.argparse.Namespace(
            suite="gpu", smoke="--smoke" in argv, short=False))]
    assert rows() == ["P33 fp32", "P33 bf16", "P31 course, --num-workers 4", "P31 course, --num-workers 0",
                      "P34 torchrun, 1 GPU", "P33 bf16 + compile", "P33 fp32 + compile"]
    assert rows("--smoke") == ["P33 fp32", "P31 course, --num-workers 4", "P31 course, --num-workers 0",
                               "P34 torchrun, 1 process"]
