"""The shared data helper: synthetic data, the offline fallback, image folders, quick subsets."""
import socket
import urllib.error
from types import SimpleNamespace

import pytest
import torch
from PIL import Image

from kit import common, data
from kit.common import LessonError
from model import Tudui


def args(**kw):
    base = dict(dataset="synthetic", data_root=None, batch_size=64, num_workers=0, quick=True, seed=0)
    return SimpleNamespace(**{**base, **kw})


def test_synthetic_is_deterministic_cifar_shaped_and_balanced():
    a, b = data.SyntheticCIFAR10(1000, seed=0), data.SyntheticCIFAR10(1000, seed=0)
    assert torch.equal(a.data, b.data) and a.targets == b.targets
    assert not torch.equal(a.data, data.SyntheticCIFAR10(1000, seed=1).data)
    img, label = a[0]
    assert img.shape == (3, 32, 32) and img.dtype == torch.float32
    assert 0 <= img.min() and img.max() <= 1
    assert torch.bincount(torch.tensor(a.targets)).tolist() == [100] * 10
    assert len(a.classes) == 10 and "checkerboard" in a.classes


def test_synthetic_is_learnable_by_tudui():
    torch.manual_seed(0)
    train, test = data.SyntheticCIFAR10(2048, seed=0), data.SyntheticCIFAR10(512, seed=1)
    x, y = train.data.float() / 255, torch.tensor(train.targets)
    tudui, loss_fn = Tudui(), torch.nn.CrossEntropyLoss()
    optim = torch.optim.SGD(tudui.parameters(), lr=0.01, momentum=0.9)
    for epoch in range(3):
        for i in range(0, 2048, 64):
            loss = loss_fn(tudui(x[i:i + 64]), y[i:i + 64])
            optim.zero_grad()
            loss.backward()
            optim.step()
    with torch.no_grad():
        accuracy = (tudui(test.data.float() / 255).argmax(1) == torch.tensor(test.targets)).float().mean().item()
    assert accuracy > 0.3  # chance is 0.1


def test_quick_loaders(capsys):
    d = data.load_data(args())
    assert d.synthetic and d.name == "synthetic"
    assert len(d.train_set) == data.QUICK_TRAIN and len(d.test_set) == data.QUICK_TEST
    imgs, targets = next(iter(d.train_loader))
    assert imgs.shape == (64, 3, 32, 32) and targets.shape == (64,)
    assert len(d.test_loader) == data.QUICK_TEST // 64


def test_auto_falls_back_to_synthetic_with_one_warning(monkeypatch, capsys, tmp_path):
    def offline(root, extra):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(data, "cifar10", offline)
    d = data.load_data(args(dataset="auto", data_root=tmp_path))
    out = capsys.readouterr().out
    assert d.synthetic
    assert out.count("\n") == 1 and out.startswith("warning: CIFAR-10 is not in") and "synthetic" in out


def test_explicit_cifar10_offline_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "cifar10", lambda root, extra: (_ for _ in ()).throw(OSError("no network")))
    with pytest.raises(LessonError, match="CIFAR-10 could not be loaded"):
        data.load_data(args(dataset="cifar10", data_root=tmp_path))


def test_download_runs_under_a_socket_timeout(monkeypatch, tmp_path):
    seen = []

    def fake_cifar10(root, train, transform, download=False):
        if not download:
            raise RuntimeError("Dataset not found or corrupted.")
        seen.append(socket.getdefaulttimeout())
        raise urllib.error.URLError("timed out")

    monkeypatch.setattr(data.torchvision.datasets, "CIFAR10", fake_cifar10)
    with pytest.raises(urllib.error.URLError):
        data.cifar10(tmp_path, [])
    assert seen == [common.DOWNLOAD_TIMEOUT]
    assert socket.getdefaulttimeout() is None  # restored


def make_folder(root, classes=("cats", "dogs"), modes=("RGB", "RGBA", "L", "P")):
    for split in ("train", "test"):
        for c in classes:
            (root / split / c).mkdir(parents=True)
            for i, mode in enumerate(modes):
                Image.new(mode, (40 + i, 30), 100).save(root / split / c / f"{i}.png")


def test_image_folder_any_mode_resized_to_32(tmp_path):
    make_folder(tmp_path)
    d = data.load_data(args(dataset="folder", data_root=tmp_path, batch_size=4))
    assert d.classes == ["cats", "dogs"] and d.name == "folder" and not d.synthetic
    imgs, targets = next(iter(d.test_loader))
    assert imgs.shape == (4, 3, 32, 32)


def test_image_folder_errors(tmp_path):
    with pytest.raises(LessonError, match="no folder .*train"):
        data.load_data(args(dataset="folder", data_root=tmp_path))
    (tmp_path / "train").mkdir()
    (tmp_path / "test").mkdir()
    with pytest.raises(LessonError, match="train"):
        data.load_data(args(dataset="folder", data_root=tmp_path))


def test_image_folder_class_mismatch(tmp_path):
    make_folder(tmp_path / "a", modes=("RGB",))
    (tmp_path / "a" / "test" / "dogs").rename(tmp_path / "a" / "test" / "wolves")
    with pytest.raises(LessonError, match="different class folders"):
        data.load_data(args(dataset="folder", data_root=tmp_path / "a"))


def test_train_transform_applies_to_train_only():
    flip = lambda img: img.flip(-1)  # noqa: E731
    d = data.load_data(args(), train_transform=flip)
    raw = data.SyntheticCIFAR10(data.QUICK_TRAIN, seed=0)
    assert torch.equal(d.train_set[0][0], raw[0][0].flip(-1))
    assert d.test_set.transform is None


# ---------------------------------------------------------------- one download at a time

HOLDER = """
import sys, time
from kit import locks
with locks.hold(sys.argv[1], "data folder"):
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
    print(time.time(), flush=True)  # just before it lets go
"""


def test_a_download_waits_for_another_process_downloading_into_the_same_folder(monkeypatch, tmp_path, capsys):
    """Another process holds data/ (as while it downloads): ours waits for it, says for whom, then goes on."""
    import subprocess
    import sys
    import time

    from conftest import CHILD_ENV

    other = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path), "1.5"], stdout=subprocess.PIPE,
                             text=True, env=CHILD_ENV)
    assert other.stdout.readline() == "holding\n"
    downloads = []

    def fake_cifar10(root, train, transform, download=False):
        if not download:
            raise RuntimeError("Dataset not found or corrupted.")
        downloads.append(time.time())
        return [train]

    monkeypatch.setattr(data.torchvision.datasets, "CIFAR10", fake_cifar10)
    assert data.cifar10(tmp_path, []) == ([True], [False])
    let_go = float(other.stdout.readline())
    other.wait(timeout=30)
    assert len(downloads) == 2 and min(downloads) >= let_go  # only after the other process let go
    out = capsys.readouterr().out
    assert out == f"waiting for process {other.pid}, which is using the data folder {tmp_path} ...\n"


def fake_cifar_archive(folder, monkeypatch):
    """A tiny archive laid out as cifar-10-python.tar.gz, and torchvision's checksums set to match it."""
    import hashlib
    import io
    import pickle
    import tarfile

    import numpy as np

    cls = data.torchvision.datasets.CIFAR10
    md5 = lambda blob: hashlib.md5(blob).hexdigest()  # noqa: E731
    files, train_list, test_list = {}, [], []
    for name, target in [(n, train_list) for n, _ in cls.train_list] + [(n, test_list) for n, _ in cls.test_list]:
        batch = {"data": np.full((4, 3072), 7, dtype=np.uint8), "labels": [0, 1, 2, 3]}
        files[name] = pickle.dumps(batch)
        target.append([name, md5(files[name])])
    files["batches.meta"] = pickle.dumps({"label_names": data.CIFAR10_CLASSES})
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for name, blob in files.items():
            info = tarfile.TarInfo(f"{cls.base_folder}/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    (folder / cls.filename).write_bytes(archive.getvalue())
    monkeypatch.setattr(cls, "train_list", train_list)
    monkeypatch.setattr(cls, "test_list", test_list)
    monkeypatch.setattr(cls, "meta", {**cls.meta, "md5": md5(files["batches.meta"])})
    monkeypatch.setattr(cls, "tgz_md5", md5(archive.getvalue()))


def test_an_archive_copied_into_data_by_hand_is_used_without_a_network(monkeypatch, tmp_path):
    """The README's promise: put cifar-10-python.tar.gz in data/, and no download is tried."""
    import torchvision.datasets.utils as tv_utils

    fake_cifar_archive(tmp_path, monkeypatch)
    monkeypatch.setattr(tv_utils, "_urlretrieve", lambda *a, **k: pytest.fail("tried to download"))
    train_set, test_set = data.cifar10(tmp_path, [])
    assert len(train_set) == 20 and len(test_set) == 4 and train_set.classes == data.CIFAR10_CLASSES
    assert (tmp_path / "cifar-10-batches-py" / "data_batch_1").is_file()


# ---------------------------------------------------------------- a broken image in --dataset folder

def folder_with_bad_images(root):
    make_folder(root, modes=("RGB",))
    Image.new("RGB", (64, 64), 50).save(root / "train" / "cats" / "photo.jpg")
    truncated = root / "train" / "cats" / "photo.jpg"
    truncated.write_bytes(truncated.read_bytes()[:300])
    (root / "train" / "dogs" / "notes.jpg").write_text("not a picture, despite its name")
    return truncated, root / "train" / "dogs" / "notes.jpg"


@pytest.mark.parametrize("num_workers", [0, 2])
def test_a_broken_image_stops_with_one_line_naming_it(tmp_path, num_workers):
    truncated, text_file = folder_with_bad_images(tmp_path)
    d = data.load_data(args(dataset="folder", data_root=tmp_path, batch_size=8, num_workers=num_workers))
    with pytest.raises(LessonError) as e:
        for _ in d.train_loader:
            pass
    message = str(e.value)
    assert "\n" not in message and "Traceback" not in message
    assert message.startswith((f"{truncated} is not a readable image (", f"{text_file} is not a readable image ("))
    assert message.endswith("): delete or replace it")


def test_each_kind_of_broken_image_is_named_with_its_cause(tmp_path):
    truncated, text_file = folder_with_bad_images(tmp_path)
    with pytest.raises(LessonError, match=r"photo\.jpg is not a readable image \(Truncated File Read\)"):
        data.load_image(truncated)
    with pytest.raises(LessonError, match=r"notes\.jpg is not a readable image \(not a picture format PIL knows\)"):
        data.load_image(text_file)
    assert data.load_image(tmp_path / "test" / "cats" / "0.png").mode == "RGB"
