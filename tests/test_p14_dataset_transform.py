import re
import shutil

import pytest
import torch
import torchvision

from conftest import events, one_line_error
from kit import datasets
from kit.errors import LessonError
from kit.flags import MINI
from kit import synthetic


def sizes(r):
    return [int(n) for n in re.search(r"(\d+) training and (\d+) test images", r.out).groups()]


def test_first_item_classes_and_ten_test_images(run_lesson):
    r = run_lesson("p14_dataset_transform")
    assert r.out.startswith("(tensor([[[")  # print(test_set[0]): (image tensor, target)
    assert str(synthetic.NAMES) in r.out
    target, name = re.search(r"^Tensor \(3, 32, 32\)\n(\d+)\n(.+)$", r.out, flags=re.M).groups()
    assert synthetic.NAMES[int(target)] == name
    assert sizes(r) == [datasets.QUICK_TRAIN, datasets.QUICK_TEST]
    (run,) = r.runs
    assert run.name.endswith("-synthetic")
    assert [(step, w, h) for step, w, h, _ in events(run).images("test_set")] == [(i, 32, 32) for i in range(10)]


class FakeCIFAR10(torch.utils.data.Dataset):
    """Stands in for torchvision's CIFAR10 on disk (no 170 MB download in a test), recording how it was called."""
    calls = []
    classes = datasets.CIFAR10_CLASSES

    def __init__(self, root, train=True, transform=None, download=False):
        self.calls.append((root, train, transform))
        self.train, self.transform = train, transform

    def __len__(self):
        return 50 if self.train else 20

    def __getitem__(self, i):
        from PIL import Image
        return self.transform(Image.new("RGB", (32, 32), (i * 10, 0, 0))), 3


def test_with_cifar10_on_disk_torchvisions_class_gets_the_courses_arguments(run_lesson, monkeypatch, tmp_path):
    monkeypatch.setattr(torchvision.datasets, "CIFAR10", FakeCIFAR10)
    FakeCIFAR10.calls.clear()
    r = run_lesson("p14_dataset_transform", "--data-root", str(tmp_path), quick=False, dataset="cifar10")
    assert [(root, train) for root, train, _ in FakeCIFAR10.calls] == [(tmp_path, True), (tmp_path, False)]
    assert [type(t) for t in FakeCIFAR10.calls[0][2].transforms] == [torchvision.transforms.ToTensor]
    assert "\n3\ncat\n" in r.out and sizes(r) == [50, 20]
    assert not r.runs[-1].name.endswith("-synthetic")


@pytest.mark.parametrize("dataset", ["auto", "cifar10"])
def test_offline_auto_falls_back_to_the_synthetic_shapes_and_cifar10_is_one_clear_error(run_lesson, monkeypatch,
                                                                                        tmp_path, dataset):
    def offline(root, train, transform):  # no network, no CIFAR-10 on disk
        raise OSError("<urlopen error [Errno -2] Name or service not known>")

    monkeypatch.setattr(datasets, "cifar10", offline)
    monkeypatch.setenv("LESSONS_WARNED", "")  # the warning is printed once per process: this test's run may print it
    if dataset == "cifar10":
        with pytest.raises(LessonError, match="CIFAR-10 could not be loaded or downloaded"):
            run_lesson("p14_dataset_transform", "--data-root", str(tmp_path), dataset=dataset)
        return
    r = run_lesson("p14_dataset_transform", "--data-root", str(tmp_path), dataset=dataset)
    assert "using the built-in synthetic data set instead" in r.out
    assert r.runs[-1].name.endswith("-synthetic")


def test_a_folder_in_hymenoptera_datas_layout_uses_val_and_an_empty_class_is_one_line(run_lesson, tmp_path):
    for split in ("train", "val"):  # hymenoptera_data: ROOT/train/ants/, bees/ and ROOT/val/ants/, bees/
        for name in ("ants", "bees"):
            shutil.copytree(MINI / "train" / name, tmp_path / "hymenoptera" / split / name)
    r = run_lesson("p14_dataset_transform", "--data-root", str(tmp_path / "hymenoptera"), dataset="folder")
    assert f"test set: {tmp_path / 'hymenoptera' / 'val'} (there is no test/ folder)" in r.out
    assert "['ants', 'bees']" in r.out and sizes(r) == [24, 24]
    assert [(step, w, h) for step, w, h, _ in events(r.runs[-1]).images("test_set")] == [(i, 32, 32) for i in range(10)]
    for split in ("train", "val"):
        (tmp_path / "hymenoptera" / split / "wasps").mkdir()
    r = run_lesson.process("p14_dataset_transform", "--dataset", "folder", "--data-root", str(tmp_path / "hymenoptera"))
    assert str(tmp_path / "hymenoptera" / "train" / "wasps") in one_line_error(r) and "Supported" not in r.err
