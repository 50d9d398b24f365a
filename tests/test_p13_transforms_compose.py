from conftest import tb_images
import re

import pytest

from kit.common import LessonError


def test_input_types_compose_and_ten_random_crops(run_lesson):
    out, runs = run_lesson("p13_transforms_compose", dataset=None)
    table = {m[0]: (m[1], m[2]) for m in re.findall(r"^(\S+) +(\w+) +(\w+)$", out, flags=re.M)}
    assert table == {"ToTensor()": ("Tensor", "TypeError"), "Resize(512)": ("Image", "Tensor"),
                     "RandomCrop(128)": ("Image", "Tensor"), "Normalize(...)": ("TypeError", "Tensor")}
    assert "Compose([Resize(512), ToTensor()]): PIL (256, 192) -> PIL (682, 512) -> tensor (3, 512, 682)" in out
    assert "RandomCrop: 10 crops of (3, 128, 128)" in out
    (run,) = runs
    assert [(step, w, h) for step, w, h, _ in tb_images(run, "Resize")] == [(1, 682, 512)]
    crops = tb_images(run, "RandomCrop")
    assert [(step, w, h) for step, w, h, _ in crops] == [(i, 128, 128) for i in range(10)]
    assert len({png for *_, png in crops}) > 1  # random places, not one crop ten times


def test_a_crop_larger_than_the_picture_is_one_clear_error(run_lesson, tmp_path):
    with pytest.raises(LessonError, match=r"--crop-size 512 is larger than the picture \(256x192\): use at most 192"):
        run_lesson("p13_transforms_compose", "--crop-size", "512", dataset=None)
    assert not (tmp_path / "logs").exists()
