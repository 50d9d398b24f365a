import errno
import os
import re
import subprocess
import sys
import zlib

import pytest
import torch
from PIL import Image

import p33_train_fast
from conftest import CHILD_ENV, REPO, events, one_line_error, popen
from kit import checkpoint, datasets, fast_data, flags, locks, synthetic
from kit.errors import LessonError
from model import Tudui

COURSE_KEYS = [f"model.{i}.{p}" for i in (0, 2, 4, 7, 8) for p in ("weight", "bias")]


def synthetic_accuracy(tudui):
    """What p32_test.py does: plain ToTensor() images ([0, 1], no normalisation) into the loaded model."""
    x, y = fast_data.as_tensors(synthetic.SyntheticCIFAR10(512, seed=1))
    with torch.no_grad():
        return (tudui(x.float() / 255).argmax(1) == y).float().mean().item()


def test_quick_synthetic_learns_and_checkpoint_loads(run_lesson, tmp_path):
    ck = tmp_path / "ck"
    r = run_lesson("p33_train_fast", "--epochs", "1", "--no-bf16", "--checkpoint-dir", str(ck),
                   "--cache-dir", str(tmp_path / "cache"))
    assert (r.number("batch"), r.number(", lr")) == (128, 0.06) and "bf16 autocast off, torch.compile off" in r.out
    assert len(r.lines("epoch ")) == 1 and "img/s" in r.out
    assert len(r.runs) == 1 and r.runs[0].name.endswith("-synthetic")
    board = events(r.runs[0])
    assert {"train_loss", "test_loss", "test_accuracy", "learning_rate"} <= set(board.tags("scalars"))
    [(_, accuracy)] = board.scalars("test_accuracy")
    assert accuracy > 0.5  # chance is 0.1
    same, n, diff = re.search(r"the same prediction for (\d+)/(\d+) test images, logits within (\S+)", r.out).groups()
    assert same == n == "512" and float(diff) < 1e-3  # the folded, saved model is the trained one
    lr = [v for _, v in board.scalars("learning_rate")]
    assert max(lr) == pytest.approx(0.06, rel=0.01) and lr[-1] < 0.006  # one-cycle: up to --lr, then down

    # P32's way: kit.checkpoint.load_tudui, then ToTensor() images
    tudui, classes = checkpoint.load_tudui(ck / "best.pth")
    assert classes == synthetic.NAMES and synthetic_accuracy(tudui) > 0.5
    # the course's way: torch.load, then load_state_dict into its own Tudui (padding 2, no normalisation)
    state = torch.load(ck / "final.pth", map_location="cpu", weights_only=True)["model"]
    assert list(state) == COURSE_KEYS
    course_tudui = Tudui()
    course_tudui.load_state_dict(state)
    assert synthetic_accuracy(course_tudui.eval()) > 0.5


def test_folder_run_with_bf16_and_compile_on_cpu_and_a_bad_image(run_lesson, tmp_path, monkeypatch):
    """--bf16 on a CPU works (autocast really on: the model's outputs are bfloat16); --compile hands the model
    to torch.compile and trains what it returns (a spy here: compiling for real takes minutes). Six images:
    bf16 on this CPU (no native bf16) is 5x slower than float32, too slow for the quick set in a test."""
    compiled, dtypes = [], []

    def fake_compile(module, *a, **k):
        compiled.append(type(module).__name__)
        spy = torch.nn.Sequential(module)
        spy.register_forward_hook(lambda m, i, out: dtypes.append(out.dtype))
        return spy
    monkeypatch.setattr(torch, "compile", fake_compile)
    ck, root = tmp_path / "ck", tmp_path / "photos"
    make_folder(root, colour=120)
    args = ["--epochs", "2", "--bf16", "--compile", "--data-root", str(root), "--checkpoint-dir", str(ck),
            "--cache-dir", str(tmp_path / "cache")]
    r = run_lesson("p33_train_fast", *args, quick=False, dataset="folder")
    assert "bf16 autocast on, torch.compile on" in r.out and len(r.lines("epoch ")) == 2
    assert "data (folder): train (6, 3, 32, 32)" in r.out and (ck / "best.pth").is_file()
    # 2 training steps of 6 images, 2 tests with the mirror images: all through the compiled model, in bf16
    assert compiled == ["Tudui"] and len(dtypes) == 6 and set(dtypes) == {torch.bfloat16}
    tudui, classes = checkpoint.load_tudui(ck / "final.pth")  # saved as float32, as P32 and the course expect
    assert classes == ["cat", "dog"] and {p.dtype for p in tudui.parameters()} == {torch.float32}

    (root / "train" / "dog" / "2.png").write_text("not an image")
    with pytest.raises(LessonError, match=r"2.png: not an image Pillow can read .*, or remove it$"):
        run_lesson("p33_train_fast", *args, quick=False, dataset="folder")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="file names that are not UTF-8: Linux file systems")
def test_odd_files_are_decoded_or_named_in_one_line(run_lesson, tmp_path):
    """As a learner runs it: a file name in Latin-1 (an old zip) is decoded and cached; a decompression bomb
    (a 45-byte PNG that says 20000x20000) is one line naming it; a cache of other tensors is decoded again."""
    root, cache, ck = tmp_path / "photos", tmp_path / "cache", tmp_path / "ck"
    make_folder(root, colour=120)
    latin1 = os.fsdecode(b"caf\xe9_\xff.png")
    Image.new("RGB", (32, 32), (9, 9, 9)).save(root / "train" / "cat" / latin1)
    def chunk(kind, data):
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
    size = chunk(b"IHDR", (20000).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0]))  # 20000x20000 RGB, no pixels
    (root / "test" / "dog" / latin1).write_bytes(b"\x89PNG\r\n\x1a\n" + size + chunk(b"IEND", b""))
    args = [str(a) for a in ("--epochs", 1, "--dataset", "folder", "--data-root", root, "--cache-dir", cache,
                             "--checkpoint-dir", ck)]
    line = one_line_error(run_lesson.process("p33_train_fast", *args))
    assert re.search(r"test/dog/caf\ufffd_\ufffd.png: 400,000,000 pixels is over .*; shrink it first$", line)
    [train_cache] = cache.glob("photos-train-7-*.pt")  # its Latin-1 name in the key: decoded, cached
    (root / "test" / "dog" / latin1).unlink()
    torch.save({"images": torch.zeros(2, 3, 32, 32, dtype=torch.uint8), "labels": torch.zeros(2)}, train_cache)
    r = run_lesson.process("p33_train_fast", *args)
    assert r.code == 0 and "unreadable (it holds (2, 3, 32, 32) torch.uint8, not (7, 3, 32, 32) uint8" in r.out
    assert "decoding 7 images" in r.out and (ck / "best.pth").is_file()


@pytest.mark.parametrize("argv, says", [
    (["--lr", "-1"], "argument --lr: must be more than 0"), (["--lr", "nan"], "must be more than 0 (and finite)"),
    (["--momentum", "-5"], "argument --momentum: must be 0 or more"), (["--gpu-lr", "0"], "must be more than 0"),
    (["--clip", "-1"], "argument --clip: must be 0 or more"), (["--gpu-batch-size", "0"], "must be from 1 to"),
    (["--epochs", "1.5"], "argument --epochs: '1.5' is not a whole number"),
    (["--num-workers", "2"], "unrecognized arguments: --num-workers 2")])  # no DataLoader: no such flag
def test_nonsense_flags_are_refused_by_argparse(run_lesson, argv, says):
    assert says in run_lesson("p33_train_fast", *argv, expect=2).err.splitlines()[-1]


def test_divergence_and_a_busy_checkpoint_folder_are_one_line(run_lesson, tmp_path):
    """Tudui has no normalisation layers: too high a learning rate blows the weights up (NaN)."""
    ck = tmp_path / "ck"
    with pytest.raises(LessonError, match=r"the loss became nan at step 10: try a lower --lr than 50"):
        run_lesson("p33_train_fast", "--batch-size", "16", "--lr", "50", "--clip", "0", "--checkpoint-dir", str(ck))
    assert not (ck / "best.pth").exists()
    with locks.hold(ck, "checkpoint folder"), pytest.raises(LessonError, match=r"ck is in use by another run"):
        run_lesson("p33_train_fast", "--checkpoint-dir", str(ck))


@pytest.mark.parametrize("pad", [2, 4])
def test_augment_crops_and_flips_each_image(pad):
    x = torch.rand(16, 3, 32, 32)
    out = fast_data.augment(x, torch.Generator().manual_seed(0), pad)
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad), mode="reflect")
    kinds = []
    for b in range(16):
        crops = [padded[b, :, dy:dy + 32, dx:dx + 32] for dy in range(2 * pad + 1) for dx in range(2 * pad + 1)]
        kinds.append("crop" if any(torch.equal(c, out[b]) for c in crops) else
                     "flip" if any(torch.equal(c.flip(2), out[b]) for c in crops) else f"image {b}: neither")
    assert set(kinds) == {"crop", "flip"}, kinds  # each a crop or a mirrored crop, and both kinds seen


def test_normalisation_folds_into_first_conv_exactly():
    torch.manual_seed(0)
    tudui = Tudui()
    tudui.model[0].padding = (0, 0)  # as p33 trains it: to_float() pads before normalising
    mean, std = torch.tensor([0.5, 0.4, 0.3]).view(1, 3, 1, 1), torch.tensor([0.25, 0.2, 0.3]).view(1, 3, 1, 1)
    images = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8)
    folded = p33_train_fast.fold_normalization(tudui, mean, std)
    with torch.no_grad():
        trained = tudui(fast_data.to_float(images, mean, std, channels_last=True))
        saved = folded(images.float() / 255)  # what p32_test.py feeds: ToTensor() images
    assert list(folded.state_dict()) == COURSE_KEYS and folded.model[0].padding == (2, 2)
    assert torch.allclose(trained, saved, atol=1e-5)


def make_folder(root, colour):
    for split in ("train", "test"):
        for k, cls in enumerate(["cat", "dog"]):
            (root / split / cls).mkdir(parents=True, exist_ok=True)
            for i in range(3):
                Image.new("RGB", (32, 32), (colour, 40 * k, 10 * i)).save(root / split / cls / f"{i}.png")


def load(root, cache, capsys):
    """(images, labels, printed text) of the folder's training half, through the cache."""
    args = flags.parser("").parse_args(["--dataset", "folder", "--data-root", str(root)])
    images, labels = fast_data.as_tensors(datasets.CIFAR10(args, train=True), cache)
    return images, labels, capsys.readouterr().out


def touch(path):
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))


def test_tensor_cache_is_reused_and_rebuilt_when_data_changes(tmp_path, capsys, monkeypatch):
    root, cache = tmp_path / "photos", tmp_path / "cache"
    make_folder(root, colour=200)
    images, labels, out = load(root, cache, capsys)
    assert "decoding 6 images" in out and images.shape == (6, 3, 32, 32) and images.dtype == torch.uint8
    assert images[:, 0].eq(200).all() and labels.tolist() == [0, 0, 0, 1, 1, 1]
    first = sorted(cache.glob("*.pt"))
    assert len(first) == 1 and first[0].name.startswith("photos-train-6-")

    images, _, out = load(root, cache, capsys)  # unchanged data: loaded, not decoded
    assert "decoding" not in out and images[:, 0].eq(200).all()
    monkeypatch.chdir(cache)  # the same folder named by another path (relative, with ..) is the same data
    images, _, out = load("../cache/../photos", cache, capsys)
    assert "decoding" not in out and sorted(cache.glob("*.pt")) == first

    img = root / "train" / "cat" / "0.png"
    Image.new("RGB", (64, 48), (90, 0, 0)).save(img)  # new content, new size
    touch(img)
    images, _, out = load(root, cache, capsys)
    assert "decoding 6 images" in out and images[0, 0].eq(90).all() and images[1:, 0].eq(200).all()
    now = list(cache.glob("*.pt"))
    assert len(now) == 1 and now != first
    now[0].write_bytes(b"garbage")  # a broken cache is rebuilt, not fatal
    images, _, out = load(root, cache, capsys)
    assert "unreadable" in out and images[0, 0].eq(90).all()


@pytest.mark.parametrize("failure", ["not a folder", "disk full", "no permission"])
def test_a_cache_that_cannot_be_written_is_one_line_and_the_old_one_stays(failure, tmp_path, capsys, monkeypatch):
    root, cache = tmp_path / "photos", tmp_path / "cache"
    make_folder(root, colour=200)
    load(root, cache, capsys)
    old = sorted(cache.iterdir())
    touch(root / "train" / "cat" / "0.png")  # changed data: a new cache must be written
    where = re.escape(str(cache))
    if failure == "not a folder":
        cache = tmp_path / "a-file"
        cache.write_text("")
        match = r"cannot write the decoded-image cache in .*a-file: not a folder \(.*a-file is a file\)"
    elif failure == "disk full":  # the write itself fails, after the folder checked out fine
        monkeypatch.setattr(torch, "save", lambda *a, **k: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space")))
        match = rf"could not write {where}/photos-train-6-\w+\.pt: disk full"
    else:  # root ignores chmod, so the operating system's refusal is simulated
        denied = PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        monkeypatch.setattr("tempfile.TemporaryFile", lambda *a, **k: (_ for _ in ()).throw(denied))
        match = rf"cannot write the decoded-image cache in {where}: permission denied"
    with pytest.raises(LessonError, match=match) as e:
        load(root, cache, capsys)
    assert "\n" not in str(e.value)
    if failure != "not a folder":
        assert sorted(cache.iterdir()) == old  # the earlier cache is still there, and no temp file is left


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc, Linux only")
def test_keep_freed_memory_stops_the_page_faults():
    """40 MB tensors made and freed in a loop: glibc maps each afresh (~10,000 page faults) until it ran."""
    code = """
import resource, torch, p33_train_fast
def faults():
    for _ in range(2): torch.ones(10_000_000)  # 40 MB
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(10): torch.ones(10_000_000)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(faults(), p33_train_fast.keep_freed_memory(), faults())
"""
    out, _ = popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=CHILD_ENV).communicate()
    before, kept, after = out.split()
    assert kept == "True" and int(before) > 50_000 and int(after) < 10_000  # 10 tensors of 9,766 pages each


def test_benchmark_scripts_parse_and_refuse_bad_input(tmp_path):
    """gpu_check.sh: valid bash, one line (exit 2) for bad input; the GPU table's rows, fewer with --smoke."""
    from benchmarks import bench_train
    script = str(REPO / "benchmarks" / "gpu_check.sh")
    assert subprocess.run(["bash", "-n", script]).returncode == 0
    for args, says in [(["--bogus"], "unknown argument '--bogus'"), (["--data-root", str(tmp_path)], "no train/")]:
        run = subprocess.run(["bash", script, *args], capture_output=True, text=True)
        assert run.returncode == 2 and run.stdout == "" and len(run.stderr.splitlines()) == 1 and says in run.stderr
    with pytest.raises(SystemExit, match="^0$"):  # --help, exit code 0
        bench_train.main(["--help"])

    def rows(smoke):
        return [name for name, *_ in bench_train.recipes(bench_train.argparse.Namespace(suite="gpu", smoke=smoke))]
    assert rows(False) == ["P33 fp32", "P33 bf16", "P31 course, --num-workers 4", "P31 course, --num-workers 0",
                           "P34 torchrun, 1 GPU", "P33 bf16 + compile", "P33 fp32 + compile"]
    assert rows(True) == ["P33 fp32", "P31 course, --num-workers 4", "P31 course, --num-workers 0",
                          "P34 torchrun, 1 process"]
