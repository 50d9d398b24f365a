import re

import pytest
import torch

from conftest import tb_images, tb_tags
from kit.data import SyntheticCIFAR10


def test_first_item_classes_and_ten_test_images(run_lesson):
    out, runs = run_lesson("p14_dataset_transform")
    assert out.startswith("(tensor([[[")  # print(test_set[0]): (image tensor, target)
    assert str(SyntheticCIFAR10.classes) in out
    shape, target, name = re.search(r"^Tensor \(3, 32, 32\)\n(\d+)\n(.+)$", out, flags=re.M).group(0).splitlines()
    assert SyntheticCIFAR10.classes[int(target)] == name
    assert "2048 training and 512 test images" in out
    (run,) = runs
    assert run.name.endswith("-synthetic")
    assert tb_tags(run)["images"] == ["test_set"]
    assert [(step, w, h) for step, w, h, _ in tb_images(run, "test_set")] == [(i, 32, 32) for i in range(10)]


class FakeCIFAR10(torch.utils.data.Dataset):
    """Stands in for torchvision's CIFAR10 (no 170 MB download in a test), recording how it was called."""
    calls = []
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    def __init__(self, root, train=True, transform=None, download=False):
        self.calls.append({"root": root, "train": train, "transform": transform, "download": download})
        self.train, self.transform = train, transform

    def __len__(self):
        return 50 if self.train else 20

    def __getitem__(self, i):
        from PIL import Image
        return self.transform(Image.new("RGB", (32, 32), (i * 10, 0, 0))), 3


def test_with_cifar10_on_disk_the_courses_own_lines_run(run_lesson, monkeypatch, tmp_path):
    import torchvision

    from kit import data

    fake = data.Data(FakeCIFAR10(tmp_path), FakeCIFAR10(tmp_path, train=False), FakeCIFAR10.classes, "cifar10")
    monkeypatch.setattr("p14_dataset_transform.load_datasets", lambda args: fake)  # "found on disk"
    monkeypatch.setattr(torchvision.datasets, "CIFAR10", FakeCIFAR10)
    FakeCIFAR10.calls.clear()
    out, (run,) = run_lesson("p14_dataset_transform", "--data-root", str(tmp_path), dataset="auto")
    assert [(c["root"], c["train"], c["download"]) for c in FakeCIFAR10.calls] == [(tmp_path, True, True),
                                                                                  (tmp_path, False, True)]
    assert [type(tf) for tf in FakeCIFAR10.calls[0]["transform"].transforms] == [torchvision.transforms.ToTensor]
    assert "\n3\ncat\n" in out and "50 training and 20 test images" in out
    assert not run.name.endswith("-synthetic")


def offline(root, extra):
    """kit.data.cifar10 on a machine without a network and without CIFAR-10 on disk."""
    raise OSError("<urlopen error [Errno -2] Name or service not known>")


def test_offline_it_falls_back_to_the_synthetic_shapes(run_lesson, monkeypatch, tmp_path):
    from kit import data

    monkeypatch.setattr(data, "cifar10", offline)
    out, (run,) = run_lesson("p14_dataset_transform", "--data-root", str(tmp_path), dataset="auto")
    assert "using the built-in synthetic data set instead" in out
    assert run.name.endswith("-synthetic")


def test_cifar10_asked_for_but_not_there_is_one_clear_error(run_lesson, monkeypatch, tmp_path):
    from kit import data
    from kit.common import LessonError

    monkeypatch.setattr(data, "cifar10", offline)
    with pytest.raises(LessonError, match="CIFAR-10 could not be loaded or downloaded"):
        run_lesson("p14_dataset_transform", "--data-root", str(tmp_path), dataset="cifar10")
