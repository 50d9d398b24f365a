import re

import numpy as np
from PIL import Image

from conftest import tb_images, tb_tags
from kit.folders import FIRST_ANT


def test_normalize_follows_the_formula_and_resize_sets_both_sides(run_lesson):
    out, runs = run_lesson("p12_transforms_normalize", dataset=None)
    before, after = (float(x) for x in re.findall(r"^tensor\((-?\d\.\d+)\)$", out, flags=re.M))
    pixels = np.array(Image.open(FIRST_ANT).convert("RGB")) / 255
    assert before == round(pixels[0, 0, 0], 4)
    assert after == round((pixels[0, 0, 0] - 0.5) / 0.5, 4)  # (input - mean) / std
    assert f"(input - mean) / std = ({before:.4f} - 0.5) / 0.5 = {after:.4f}" in out
    lo, hi = pixels.min(), pixels.max()
    assert f"every value: {lo:.4f}..{hi:.4f} before, {2 * lo - 1:.4f}..{2 * hi - 1:.4f} after" in out
    assert "\n(256, 192)\n<PIL.Image.Image image mode=RGB size=512x512" in out
    assert "as a tensor: (3, 512, 512)" in out
    (run,) = runs
    assert set(tb_tags(run)["images"]) == {"ToTensor", "Normalize", "Resize"}
    assert [(step, w, h) for step, w, h, _ in tb_images(run, "Resize")] == [(0, 512, 512)]
