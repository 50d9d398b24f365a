import re

import numpy as np
from PIL import Image

from conftest import events
from kit.flags import FIRST_ANT


def test_totensor_hwc_uint8_becomes_chw_float_in_0_1(run_lesson):
    r = run_lesson("p10_transforms_totensor", quick=False, dataset=None)
    pixels = np.array(Image.open(FIRST_ANT).convert("RGB"))
    assert r.out.startswith("<PIL.Image.Image image mode=RGB size=256x192") and "\ntensor([[[" in r.out
    assert "(192, 256, 3) uint8" in r.lines("numpy:")[0] and "(3, 192, 256) torch.float32" in r.lines("tensor:")[0]
    ranges = [(float(lo), float(hi)) for lo, hi in re.findall(r"values (\S+)\.\.(\S+)$", r.out, flags=re.M)]
    lo, hi = pixels.min(), pixels.max()
    assert ranges == [(lo, hi), (round(lo / 255, 4), round(hi / 255, 4))]  # numpy, then tensor
    assert r.number("top-left red:") == pixels[0, 0, 0]
    assert r.number("tensor_img[0][0][0] =") == round(pixels[0, 0, 0] / 255, 4)
    assert r.lines("ToTensor on the numpy array gives the same tensor:")[0].endswith("True")
    assert [(w, h) for _, w, h, _ in events(r.runs[-1]).images("Tensor_img")] == [(256, 192)]


def test_a_grey_picture_still_gives_three_channels(run_lesson, tmp_path):
    Image.new("L", (40, 30), 51).save(tmp_path / "grey.png")
    r = run_lesson("p10_transforms_totensor", "--image", str(tmp_path / "grey.png"), quick=False, dataset=None)
    assert "(3, 30, 40) torch.float32, values 0.2000..0.2000" in r.lines("tensor:")[0]
