import re
import urllib.error

import torch

from conftest import tb_scalars, tb_tags


def test_offline_falls_back_to_random_weights_and_finetunes(run_lesson, tmp_path, monkeypatch):
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
    warnings = [line for line in out.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "could not be loaded" in warnings[0] and "random weights" in warnings[0]
    assert "VGG16: 138,357,544 parameters, random weights" in out
    # way 1: a layer appended; way 2: the last layer replaced
    assert "(add_linear): Linear(in_features=1000, out_features=10, bias=True)" in out
    assert "vgg16_true with classifier.add_linear = Linear(1000, 10): 138,367,554 parameters" in out
    assert "(6): Linear(in_features=4096, out_features=10, bias=True)" in out
    assert "vgg16_false with classifier[6] = Linear(4096, 10): 134,301,514 parameters" in out
    # fine-tuning: only the classifier learns
    assert "fine-tuning the classifier: 123,652,866 of 138,367,554 parameters learn" in out
    assert re.search(r"finetune step 1/1: loss \d+\.\d{4}", out)

    tags = tb_tags(runs[0])
    assert {"vgg16_true/text_summary", "vgg16_false/text_summary"} <= set(tags["tensors"])  # add_text
    assert [step for step, _ in tb_scalars(runs[0], "train_loss")] == [0]
