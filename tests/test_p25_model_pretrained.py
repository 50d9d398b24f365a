import re
import urllib.error
import warnings

import pytest
import torch
import torchvision
from torch import nn

from conftest import tb_scalars, tb_tags


def test_offline_falls_back_to_random_weights_and_finetunes(run_lesson, tmp_path, monkeypatch, recwarn):
    """--weights default on a machine without the cached weights and without a network: one line, then go on."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))  # an empty cache: the real one stays untouched
    tried = []

    def no_network(url, *args, **kwargs):
        tried.append(url)
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)  # never a real 528 MB download
    out, runs = run_lesson("p25_model_pretrained", "--weights", "default", "--finetune-steps", "1",
                           "--batch-size", "4")
    assert len(tried) == 1 and tried[0].endswith("vgg16-397923af.pth")
    warning_lines = [line for line in out.splitlines() if line.startswith("warning:")]
    assert len(warning_lines) == 1
    assert "could not be loaded" in warning_lines[0] and "random weights" in warning_lines[0]
    assert "VGG16: 138,357,544 parameters, random weights" in out
    # way 1: a layer appended; way 2: the last layer replaced; each whole model printed, as the course does
    assert "(add_linear): Linear(in_features=1000, out_features=10, bias=True)" in out
    assert "vgg16_true with classifier.add_linear = Linear(1000, 10): 138,367,554 parameters" in out
    assert "(6): Linear(in_features=4096, out_features=10, bias=True)" in out
    assert "vgg16_false with classifier[6] = Linear(4096, 10): 134,301,514 parameters" in out
    assert out.count("(features): Sequential(") == 4
    # fine-tuning: only the classifier learns, on inputs normalised as the weights' own preset says
    assert "fine-tuning the classifier: 123,652,866 of 138,367,554 parameters learn" in out
    assert "normalised with ImageNet's mean [0.485, 0.456, 0.406] and std [0.229, 0.224, 0.225]" in out
    assert re.search(r"finetune step 1/1: loss \d+\.\d{4}", out)
    # the lesson asks with weights=, so torchvision has no deprecation to warn about
    assert not [w for w in recwarn if "pretrained" in str(w.message)]

    tags = tb_tags(runs[0])
    assert {"vgg16_true/text_summary", "vgg16_false/text_summary"} <= set(tags["tensors"])  # add_text
    assert [step for step, _ in tb_scalars(runs[0], "train_loss")] == [0]


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
    out, _ = run_lesson("p25_model_pretrained")  # --quick, and no --weights
    assert asked == [{"weights": None}]  # vgg16_false; vgg16_true is its copy
    assert "--weights none: vgg16_true gets random weights too (nothing is downloaded)" in out
    assert "random weights" in out and "warning:" not in out


def test_the_courses_pretrained_is_deprecated_not_removed(monkeypatch):
    """What the docstring says of torchvision: pretrained=True/False still works, mapped to weights=, with a warning."""
    import torchvision.models.vgg as vgg

    monkeypatch.setattr(vgg, "_vgg", lambda cfg, batch_norm, weights, progress, **kwargs: weights)  # no building
    for pretrained, weights in ((False, None), (True, vgg.VGG16_Weights.IMAGENET1K_V1)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert torchvision.models.vgg16(pretrained=pretrained) == weights
        assert any("'pretrained' is deprecated" in str(w.message) for w in caught), [str(w.message) for w in caught]


def test_a_negative_step_count_is_one_line_from_argparse(run_lesson, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_lesson("p25_model_pretrained", "--finetune-steps", "-1")
    assert exit_info.value.code == 2
    assert "argument --finetune-steps: must be 0 or more, got -1" in capsys.readouterr().err
