import re

import numpy as np
from PIL import Image

from conftest import tb_tags
from kit.folders import FIRST_ANT


def test_totensor_hwc_uint8_becomes_chw_float_in_0_1(run_lesson):
    out, runs = run_lesson("p10_transforms_totensor", dataset=None)
    pixels = np.array(Image.open(FIRST_ANT).convert("RGB"))
    assert out.startswith("<PIL.Image.Image image mode=RGB size=256x192")
    assert "\ntensor([[[" in out  # the course's print(tensor_img)
    assert f"numpy:  (192, 256, 3) uint8, values {pixels.min()}..{pixels.max()}" in out
    assert f"tensor: (3, 192, 256) torch.float32, values {pixels.min() / 255:.4f}..{pixels.max() / 255:.4f}" in out
    red = pixels[0, 0, 0]
    assert f"top-left red: {red} in the array, {red} / 255 = {red / 255:.4f}, tensor_img[0][0][0] = {red / 255:.4f}" in out
    assert "ToTensor on the numpy array gives the same tensor: True" in out
    (run,) = runs
    assert tb_tags(run)["images"] == ["Tensor_img"]


def test_a_grey_picture_still_gives_three_channels(run_lesson, tmp_path):
    grey = tmp_path / "grey.png"
    Image.new("L", (40, 30), 51).save(grey)
    out, _ = run_lesson("p10_transforms_totensor", "--image", str(grey), dataset=None)
    assert re.search(r"^tensor: \(3, 30, 40\) torch.float32, values 0.2000..0.2000$", out, flags=re.M)
