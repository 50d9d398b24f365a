import re
import urllib.error
import warnings

import pytest
import torch
import torchvision
from torch import nn

from conftest import events


def count(r, label):
    """The first count (with thousands separators) on the line starting with `label`: 138,357,544 -> 138357544."""
    return int(re.search(r"\d{1,3}(?:,\d{3})+", r.lines(label)[0]).group().replace(",", ""))


def test_offline_falls_back_to_random_weights_and_finetunes(run_lesson, tmp_path, monkeypatch, recwarn):
    """--weights default on a machine without the cached weights and without a network: one line, then go on."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))  # an empty cache: the real one stays untouched
    tried = []

    def no_network(url, *args, **kwargs):
        tried.append(url)
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)  # never a real 528 MB download
    r = run_lesson("p25_model_pretrained", "--weights", "default", "--finetune-steps", "1", "--batch-size", "4")
    assert len(tried) == 1 and tried[0].endswith("vgg16-397923af.pth")
    warning, = r.lines("warning:")
    assert "could not be loaded" in warning and "random weights" in warning
    assert "random weights" in r.lines("VGG16:")[0] and count(r, "VGG16:") == 138_357_544
    # the whole model printed once; then only what each way changes
    assert r.out.count("(features): Sequential(") == 1
    assert "(add_linear): Linear(in_features=1000, out_features=10, bias=True)" in r.out  # way 1: appended
    assert count(r, "vgg16_true with classifier.add_linear") == 138_367_554
    assert r.lines("vgg16_false.classifier[6]:") == [  # way 2: replaced
        "vgg16_false.classifier[6]: Linear(in_features=4096, out_features=1000, bias=True)",
        "vgg16_false.classifier[6]: Linear(in_features=4096, out_features=10, bias=True)"]
    assert count(r, "vgg16_false with classifier[6]") == 134_301_514
    # fine-tuning: only the classifier learns, on inputs normalised as the weights' own preset says
    assert count(r, "fine-tuning the classifier:") == 123_652_866
    assert "mean [0.485, 0.456, 0.406] and std [0.229, 0.224, 0.225]" in r.out
    assert "1/1 steps" in r.lines("epoch 1 [")[-1]  # the progress line
    assert not [w for w in recwarn if "pretrained" in str(w.message)]  # weights=: nothing deprecated asked for

    board = events(r.runs[0])
    assert {"vgg16_true/text_summary", "vgg16_false/text_summary"} <= set(board.tags("tensors"))  # add_text
    assert [step for step, _ in board.scalars("train_loss")] == [0]


class TinyVGG(nn.Module):
    """VGG16's outline (features, a 7-layer classifier) in a few numbers: builds at once."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3))
        self.classifier = nn.Sequential(*[nn.Identity() for _ in range(6)], nn.Linear(4, 1000))


def test_quick_never_downloads(run_lesson, monkeypatch):
    asked = []

    def vgg16(**kwargs):
        asked.append(kwargs)
        return TinyVGG()

    monkeypatch.setattr(torchvision.models, "vgg16", vgg16)  # the real VGG16 takes seconds to build
    monkeypatch.setattr(torch.hub, "download_url_to_file", lambda *a, **k: pytest.fail("--quick downloaded"))
    r = run_lesson("p25_model_pretrained")  # --quick, and no --weights
    assert asked == [{"weights": None}]  # vgg16_false; vgg16_true is its copy
    assert r.lines("--weights none:") and "random weights" in r.lines("VGG16:")[0] and not r.lines("warning:")
    assert "argument --finetune-steps:" in run_lesson("p25_model_pretrained", "--finetune-steps", "-1", expect=2).err


def test_the_courses_pretrained_is_deprecated_not_removed(monkeypatch):
    """What the docstring says of torchvision: pretrained=True/False still works, mapped to weights=, with a warning."""
    import torchvision.models.vgg as vgg

    monkeypatch.setattr(vgg, "_vgg", lambda cfg, batch_norm, weights, progress, **kwargs: weights)  # no building
    for pretrained, weights in ((False, None), (True, vgg.VGG16_Weights.IMAGENET1K_V1)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert torchvision.models.vgg16(pretrained=pretrained) == weights
        assert any("'pretrained' is deprecated" in str(w.message) for w in caught), [str(w.message) for w in caught]
