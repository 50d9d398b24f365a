"""kit.datasets and kit.synthetic: CIFAR-10 or its fallbacks, your image folders, quick subsets. Never the network."""
import errno
import hashlib
import os
import pickle
import socket
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image
from torchvision.transforms import ToTensor

from conftest import CHILD_ENV, one_line_error
from kit import datasets, synthetic
from kit.errors import LessonError
from kit.synthetic import SyntheticCIFAR10
from model import Tudui
from test_p07_read_data import png_header

OFFLINE = urllib.error.URLError("[Errno -2] Name or service not known")


def args(**kw):
    return SimpleNamespace(**{"dataset": "synthetic", "data_root": None, "quick": True, **kw})


def no_cifar10_on_disk(monkeypatch, fetch):
    """No CIFAR-10 on disk; download=True gives fetch(train) or raises fetch. Returns the socket timeouts used."""
    timeouts = []

    def cifar10(root, train, transform, download=False):
        if not download:
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to download it")
        timeouts.append(socket.getdefaulttimeout())
        if isinstance(fetch, Exception):
            raise fetch
        return fetch(train)

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", cifar10)
    return timeouts


def test_auto_offline_is_one_short_warning_once_then_synthetic(monkeypatch, capsys, tmp_path):
    no_cifar10_on_disk(monkeypatch, OFFLINE)
    monkeypatch.setenv("LESSONS_WARNED", "")  # not warned yet in this process tree (restored after the test)
    monkeypatch.setenv("RANK", "0")
    a = args(dataset="auto", data_root=tmp_path)
    train, test = datasets.CIFAR10(a, train=True), datasets.CIFAR10(a, train=False)
    assert a.dataset == "synthetic" and (len(train), len(test)) == (datasets.QUICK_TRAIN, datasets.QUICK_TEST)
    datasets.CIFAR10(args(dataset="auto", data_root=tmp_path), train=False)  # a second lesson in this process
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"warning: CIFAR-10 is not in {tmp_path} ")
    assert "(no network)" in lines[0] and datasets.SYNTHETIC_FALLBACK in lines[0] and "urlopen" not in lines[0]
    for env in ({"LESSONS_WARNED": "1", "RANK": "0"}, {"LESSONS_WARNED": "", "RANK": "1"}):  # the tour, torchrun
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        datasets.CIFAR10(args(dataset="auto", data_root=tmp_path), train=False)
        assert capsys.readouterr().out == ""


@pytest.mark.parametrize("error, why", [(OFFLINE, "no network"),
                                        (urllib.error.URLError(socket.timeout("timed out")), "the download timed out")])
def test_cifar10_asked_for_offline_is_one_line_after_trying_under_a_timeout(monkeypatch, tmp_path, error, why):
    timeouts = no_cifar10_on_disk(monkeypatch, error)
    with pytest.raises(LessonError) as e:
        datasets.CIFAR10(args(dataset="cifar10", data_root=tmp_path))
    assert str(e.value) == f"CIFAR-10 could not be loaded or downloaded into {tmp_path}: {why}"
    assert timeouts == [datasets.DOWNLOAD_TIMEOUT] and socket.getdefaulttimeout() is None  # restored


def test_an_archive_copied_into_data_by_hand_is_used_without_a_network(monkeypatch, tmp_path):
    """The README's promise: cifar-10-python.tar.gz put in data/ is used, no download tried (a tiny one here)."""
    cls, md5 = torchvision.datasets.CIFAR10, lambda blob: hashlib.md5(blob).hexdigest()
    files, lists = {}, {"train_list": [], "test_list": []}
    for kind, name in [(kind, n) for kind in lists for n, _ in getattr(cls, kind)]:
        files[name] = pickle.dumps({"data": np.full((4, 3072), 7, dtype=np.uint8), "labels": [0, 1, 2, 3]})
        lists[kind].append([name, md5(files[name])])
    files["batches.meta"] = pickle.dumps({"label_names": datasets.CIFAR10_CLASSES})
    (src := tmp_path / "by hand").mkdir()
    for name, blob in files.items():
        (src / name).write_bytes(blob)
    with tarfile.open(tmp_path / cls.filename, "w:gz") as tar:
        tar.add(src, arcname=cls.base_folder)
    for attr, value in [*lists.items(), ("tgz_md5", md5((tmp_path / cls.filename).read_bytes())),
                        ("meta", {**cls.meta, "md5": md5(files["batches.meta"])})]:
        monkeypatch.setattr(cls, attr, value)
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("tried to download"))
    a = args(dataset="auto", data_root=tmp_path, quick=False)
    train, test = datasets.CIFAR10(a, train=True), datasets.CIFAR10(a, train=False)
    assert a.dataset == "cifar10" and (len(train), len(test)) == (20, 4) and train.classes == datasets.CIFAR10_CLASSES
    assert (tmp_path / "cifar-10-batches-py" / "data_batch_1").is_file()


HOLDER = """import sys, time
from kit import locks
with locks.hold(sys.argv[1], "data folder"):
    print("holding", flush=True)
    time.sleep(1)
    print(time.time(), flush=True)  # just before it lets go
"""


def test_one_download_at_a_time_into_a_folder(monkeypatch, tmp_path, capsys):
    """Another process holds data/ (as while it downloads): ours waits for it, says for whom, then goes on."""
    other = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                             env=CHILD_ENV)
    assert other.stdout.readline() == "holding\n"
    downloads = []
    no_cifar10_on_disk(monkeypatch, lambda train: downloads.append(time.time()) or [train])
    a = args(dataset="cifar10", data_root=tmp_path, quick=False)
    assert (datasets.CIFAR10(a, train=True), datasets.CIFAR10(a, train=False)) == ([True], [False])
    let_go = float(other.stdout.readline())
    other.wait(timeout=30)
    assert len(downloads) == 2 and min(downloads) >= let_go  # only after the other process let go
    out = capsys.readouterr().out
    assert out == f"waiting for process {other.pid}, which is using the data folder {tmp_path} ...\n"


def make_folder(root, splits=("train", "test"), classes=("cats", "dogs"), modes=("RGB", "RGBA", "L", "P")):
    for folder in [root / split / c for split in splits for c in classes]:
        folder.mkdir(parents=True, exist_ok=True)
        for i, mode in enumerate(modes):
            Image.new(mode, (40 + i, 30), 100).save(folder / f"{i}.png")
    return root


def folder_error(root, train=True):
    with pytest.raises(LessonError) as e:
        datasets.CIFAR10(args(dataset="folder", data_root=root), train=train)
    assert "\n" not in str(e.value) and "Supported extensions" not in str(e.value)  # torchvision's own words
    return str(e.value)


@pytest.mark.parametrize("test_split", ["test", "val"])
def test_image_folders_of_any_mode_resized_to_32(tmp_path, capsys, test_split):
    make_folder(tmp_path, splits=("train", test_split))
    a = args(dataset="folder", data_root=tmp_path)
    train, test = (datasets.CIFAR10(a, train=train, transform=ToTensor()) for train in (True, False))
    assert train.classes == test.classes == ["cats", "dogs"] and a.dataset == "folder" and len(train) == 8
    assert {tuple(img.shape) for img, label in test} == {(3, 32, 32)}
    val = f"test set: {tmp_path / 'val'} (there is no test/ folder)\n"  # which folder is the test set, if not test/
    assert capsys.readouterr().out == ("" if test_split == "test" else val)


def test_image_folders_that_do_not_fit_are_one_line(tmp_path, monkeypatch):
    assert folder_error(tmp_path).startswith(f"no folder {tmp_path / 'train'} ")
    (tmp_path / "train" / "cats").mkdir(parents=True)
    assert folder_error(tmp_path, train=False).startswith(f"no folder {tmp_path / 'test'} ")
    (tmp_path / "test").mkdir()
    assert folder_error(tmp_path, train=False).startswith(f"no images in {tmp_path / 'test'} ")
    (tmp_path / "train" / "cats" / "notes.txt").write_text("not an image")
    assert folder_error(tmp_path).startswith(f"no images in {tmp_path / 'train' / 'cats'} ")
    (make_folder(tmp_path / "a", modes=("RGB",)) / "test" / "dogs").rename(tmp_path / "a" / "test" / "wolves")
    assert folder_error(tmp_path / "a") == f"{tmp_path / 'a'}: train/ and test/ have different class folders"
    assert folder_error(tmp_path / "a", False) == f"{tmp_path / 'a'}: test/ and train/ have different class folders"
    scandir = os.scandir  # a folder without read permission, simulated: root (as tests run here) reads every folder

    def refuse(path):
        raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
    for blocked in [tmp_path / "a" / "train", tmp_path / "a" / "train" / "cats"]:
        monkeypatch.setattr(os, "scandir", lambda p=".": refuse(p) if os.fspath(p) == str(blocked) else scandir(p))
        assert folder_error(tmp_path / "a").startswith(f"cannot read {blocked} (Permission denied): check its")


def test_each_folder_is_read_once_however_many_links_lead_to_it(tmp_path, capsys):
    """torchvision went round `up -> ..` (3,280 images of 80, class b's labelled a); `loop -> loop` was a traceback."""
    train = make_folder(tmp_path, modes=("RGB", "L")) / "train"
    make_folder(tmp_path / "more", splits=("",), classes=("",), modes=("RGB",) * 3)
    for link, to in [("cats/more", tmp_path / "more"), ("dogs/more", tmp_path / "more"), ("cats/up", ".."),
                     ("dogs/cats", "../cats"), ("dogs/here", "."), ("loop", "loop")]:
        os.symlink(to, train / link)
    dataset = datasets.CIFAR10(args(dataset="folder", data_root=tmp_path, quick=False), train=True)
    assert dataset.classes == ["cats", "dogs"] and dataset.targets == [0] * 5 + [1] * 2  # more/ once, in cats
    skipped = [line.split()[2].rstrip(",") for line in capsys.readouterr().out.splitlines()]  # note: skipped <link>,
    assert skipped == [str(train / link) for link in ("cats/up", "dogs/cats", "dogs/here", "dogs/more")]


def test_links_bombs_and_names_that_are_not_utf8_in_real_lessons(run_lesson, tmp_path):
    """A link back up and a link loop in the tree, a class folder from an old zip (its name not UTF-8), a bomb."""
    root = make_folder(tmp_path / "data", classes=(os.fsdecode(b"abeille_\xe9"), "cats"), modes=("RGB",) * 5)
    os.symlink("..", root / "train" / "cats" / "up")
    os.symlink("loop", root / "train" / "loop")
    folder = ["--dataset", "folder", "--data-root", str(root)]
    r = run_lesson.process("p14_dataset_transform", "--quick", *folder)
    assert r.code == 0 and r.err == "" and r.lines("note: skipped ") and "10 training and 10 test images" in r.out
    assert "['abeille_\ufffd', 'cats']" in r.out and "abeille_\ufffd" in r.out.splitlines()  # its name, and its class
    png_header(root / "test" / "cats" / os.fsdecode(b"caf\xe9_\xff.png"), 20_000, 20_000)  # a decompression bomb
    r = run_lesson.process("p18_nn_conv2d", "--quick", "--num-workers", "2", *folder)  # the error from a worker too
    assert one_line_error(r).startswith(f"error: {root}/test/cats/caf\ufffd_\ufffd.png: 400,000,000 pixels is over")
    if os.name == "posix" and os.geteuid() != 0:  # an ordinary user: the permission bites (root reads anything)
        (root / "train").chmod(0)
        r = run_lesson.process("p14_dataset_transform", *folder)
        (root / "train").chmod(0o755)
        assert one_line_error(r).startswith(f"error: cannot read {root / 'train'} (Permission denied): ")


def test_synthetic_is_deterministic_cifar_shaped_with_pil_items_and_quick_is_a_fixed_subset():
    a, b = SyntheticCIFAR10(1000, seed=0), SyntheticCIFAR10(1000, seed=0, transform=lambda img: img.size)
    assert np.array_equal(a.data, b.data) and a.targets == b.targets
    assert not np.array_equal(a.data, SyntheticCIFAR10(1000, seed=1).data)
    assert (a.data.shape, a.data.dtype, type(a.targets)) == ((1000, 32, 32, 3), np.uint8, list)
    assert np.bincount(a.targets).tolist() == [100] * 10 and len(a.classes) == 10
    img, label = a[0]
    assert isinstance(img, Image.Image) and np.array_equal(np.asarray(img), a.data[0]) and label == a.targets[0]
    assert b[0] == ((32, 32), a.targets[0])  # the item went through transform
    sub = datasets.subset(a, 100)
    assert sub.indices == datasets.subset(a, 100).indices and len(set(sub.indices)) == 100 and sub.classes == a.classes
    assert datasets.subset(a, 1000) is a
    quick = [datasets.CIFAR10(args(), train=train) for train in (True, False)]
    assert [len(d) for d in quick] == [2048, 512] and quick[0].classes == synthetic.NAMES
    options = datasets.loader_options(2, pin_memory=True), datasets.loader_options(0)
    assert [(o["num_workers"], o["persistent_workers"], o["pin_memory"]) for o in options] == [(2, 1, 1), (0, 0, 0)]


def test_synthetic_is_learnable_by_tudui():
    torch.manual_seed(0)
    (x, y), (test_x, test_y) = [(torch.from_numpy(d.data).permute(0, 3, 1, 2) / 255, torch.tensor(d.targets))
                                for d in (SyntheticCIFAR10(1024, seed=0), SyntheticCIFAR10(512, seed=1))]
    tudui, loss_fn = Tudui(), torch.nn.CrossEntropyLoss()
    optim = torch.optim.Adam(tudui.parameters(), lr=3e-3)
    for i in range(0, 1024, 32):  # one epoch
        optim.zero_grad()
        loss_fn(tudui(x[i:i + 32]), y[i:i + 32]).backward()
        optim.step()
    with torch.no_grad():
        assert (tudui(test_x).argmax(1) == test_y).float().mean().item() > 0.4  # chance is 0.1
