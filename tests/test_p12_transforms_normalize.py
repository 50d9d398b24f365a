import re

import numpy as np
from PIL import Image

from conftest import events
from kit.flags import FIRST_ANT


def test_normalize_follows_the_formula_and_resize_sets_both_sides(run_lesson):
    r = run_lesson("p12_transforms_normalize", quick=False, dataset=None)
    before, after = (float(x) for x in re.findall(r"^tensor\((-?\d\.\d+)\)$", r.out, flags=re.M))
    pixels = np.array(Image.open(FIRST_ANT).convert("RGB")) / 255
    assert before == round(pixels[0, 0, 0], 4)
    assert after == round((pixels[0, 0, 0] - 0.5) / 0.5, 4) == float(r.lines("(input - mean) / std =")[0].split()[-1])
    lo, hi = pixels.min(), pixels.max()
    assert [float(x) for x in re.findall(r"-?\d\.\d{4}", r.lines("every value:")[0])] == \
        [round(v, 4) for v in (lo, hi, 2 * lo - 1, 2 * hi - 1)]  # [0, 1] -> [-1, 1]
    assert "\n(256, 192)\n" in r.out and "\ntorch.Size([3, 512, 512])" in r.out  # img.size, then img_resize's
    assert set(events(r.runs[-1]).tags("images")) == {"ToTensor", "Normalize", "Resize"}
    assert [(step, w, h) for step, w, h, _ in events(r.runs[-1]).images("Resize")] == [(0, 512, 512)]
