import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from conftest import CHILD_ENV, REPO, tb_scalars, tb_tags


def test_quick_synthetic_learns_and_checkpoint_loads(run_lesson, tmp_path):
    from kit import checkpoint
    from kit.data import SyntheticCIFAR10

    ck = tmp_path / "ck"
    out, runs = run_lesson("p33_train_fast", "--epochs", "1", "--checkpoint-dir", str(ck),
                           "--cache-dir", str(tmp_path / "cache"))
    assert "epoch 1/1: test_loss" in out and "img/s" in out
    assert len(runs) == 1 and runs[0].name.endswith("-synthetic")
    assert {"train_loss", "test_loss", "test_accuracy", "learning_rate"} <= set(tb_tags(runs[0])["scalars"])
    acc = [v for _, v in tb_scalars(runs[0], "test_accuracy")]
    assert len(acc) == 1 and acc[0] > 0.5  # chance is 0.1
    import re
    same, n, diff = re.search(r"on plain \[0, 1\] images: the same prediction for (\d+)/(\d+) test images, "
                              r"logits within (\S+)", out).groups()
    assert same == n == "512" and float(diff) < 1e-3  # the folded, saved model is the trained one
    lr = [v for _, v in tb_scalars(runs[0], "learning_rate")]
    assert max(lr) == pytest.approx(0.06, rel=0.01) and lr[-1] < 0.006  # one-cycle: up to --lr, then down

    # what p32_test.py does: load best.pth into a plain Tudui and feed it ToTensor() images (no normalisation)
    tudui, classes = checkpoint.load_tudui(ck / "best.pth")
    assert classes == SyntheticCIFAR10.classes and (ck / "final.pth").is_file()
    test = SyntheticCIFAR10(512, seed=1)
    with torch.no_grad():
        pred = tudui(test.data.float() / 255).argmax(1)
    assert (pred == torch.tensor(test.targets)).float().mean() > 0.5


@pytest.mark.parametrize("pad", [2, 4])
def test_augment_crops_and_flips_each_image(pad):
    import torch.nn.functional as F
    from p33_train_fast import augment

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
    from model import Tudui
    from p33_train_fast import fold_normalization, to_float

    torch.manual_seed(0)
    tudui = Tudui()
    tudui.model[0].padding = (0, 0)  # as p33 trains it: to_float() pads before normalising
    mean, std = torch.tensor([0.5, 0.4, 0.3]).view(1, 3, 1, 1), torch.tensor([0.25, 0.2, 0.3]).view(1, 3, 1, 1)
    images = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8)
    folded = fold_normalization(tudui, mean, std)
    with torch.no_grad():
        trained = tudui(to_float(images, mean, std, channels_last=True))
        saved = folded(images.float() / 255)  # what p32_test.py feeds: ToTensor() images
    assert list(folded.state_dict()) == list(tudui.state_dict()) and folded.model[0].padding == (2, 2)
    assert torch.allclose(trained, saved, atol=1e-5)


def make_folder(root, colour):
    for split in ("train", "test"):
        for k, cls in enumerate(["cat", "dog"]):
            d = root / split / cls
            d.mkdir(parents=True, exist_ok=True)
            for i in range(3):
                Image.new("RGB", (32, 32), (colour, 40 * k, 10 * i)).save(d / f"{i}.png")


def test_tensor_cache_is_reused_and_rebuilt_when_data_changes(tmp_path, capsys):
    import os
    import p33_train_fast as p33
    from kit.data import load_data
    from kit import common

    root, cache = tmp_path / "photos", tmp_path / "cache"
    make_folder(root, colour=200)
    args = common.parser("").parse_args(["--dataset", "folder", "--data-root", str(root)])

    def load():
        images, labels = p33.as_tensors(load_data(args).train_set, cache)
        return images, labels, capsys.readouterr().out

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
        args.data_root = Path("..") / "cache" / ".." / "photos"
        images, _, out = load()
    finally:
        os.chdir(cwd)
    assert "decoding" not in out and sorted(cache.glob("*.pt")) == first
    args.data_root = root

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


def test_divergence_is_one_clear_line(run_lesson, tmp_path):
    """Tudui has no normalisation layers: too high a learning rate blows the weights up (NaN)."""
    from kit import common

    with pytest.raises(common.LessonError, match="diverged in epoch 1.*lower --lr"):
        run_lesson("p33_train_fast", "--epochs", "1", "--lr", "50", "--clip", "0", "--checkpoint-dir", str(tmp_path / "ck"),
                   "--cache-dir", str(tmp_path / "cache"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc, Linux only")
@pytest.mark.parametrize("keep", [False, True])
def test_keep_freed_memory_stops_the_page_faults(keep):
    """Tensors of 40 MB made and freed in a loop, as a training step does: glibc maps each one afresh
    and the kernel faults in every page (about 10,000 per tensor), unless keep_freed_memory() ran."""
    code = f"""
import resource, sys, torch
from p33_train_fast import keep_freed_memory
assert keep_freed_memory() if {keep} else True
for _ in range(2): torch.ones(10_000_000)  # 40 MB
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10): torch.ones(10_000_000)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
    faults = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                env=CHILD_ENV).stdout)
    assert faults < 10_000 if keep else faults > 50_000  # 10 tensors of 9,766 pages each
