import re

import pytest

from conftest import events
from kit.errors import LessonError


def test_input_types_compose_and_ten_random_crops(run_lesson):
    r = run_lesson("p13_transforms_compose", quick=False, dataset=None)
    table = {m[0]: (m[1], m[2]) for m in re.findall(r"^(\S+) +(\w+) +(\w+)$", r.out, flags=re.M)}
    assert table == {"ToTensor()": ("Tensor", "TypeError"), "Resize(512)": ("Image", "Tensor"),
                     "RandomCrop(128)": ("Image", "Tensor"), "Normalize(...)": ("TypeError", "Tensor")}
    assert r.lines("Compose(")[0].endswith("PIL (256, 192) -> PIL (682, 512) -> tensor (3, 512, 682)")
    assert "(3, 128, 128)" in r.lines("RandomCrop(128):")[0]
    assert [(step, w, h) for step, w, h, _ in events(r.runs[-1]).images("Resize")] == [(1, 682, 512)]
    crops = events(r.runs[-1]).images("RandomCrop")
    assert [(step, w, h) for step, w, h, _ in crops] == [(i, 128, 128) for i in range(10)]
    assert len({png for *_, png in crops}) > 1  # random places, not one crop ten times


def test_a_crop_larger_than_the_picture_is_one_clear_error(run_lesson):
    with pytest.raises(LessonError, match=r"--crop-size 512 is larger than the picture \(256x192\): use at most 192"):
        run_lesson("p13_transforms_compose", "--crop-size", "512", quick=False, dataset=None)
    assert not run_lesson.logdir.exists()
