import re

import numpy as np
import pytest
from PIL import Image

from conftest import tb_images, tb_tags
from kit.common import LessonError


def test_numpy_needs_hwc_and_both_pictures_share_one_slider(run_lesson):
    out, runs = run_lesson("p09_tensorboard_image", dataset=None)
    assert out.count("<class 'numpy.ndarray'>") == 2
    assert out.count("(192, 256, 3)") == 2  # the drawn ant and bee: (H, W, C)
    assert "without dataformats='HWC': TypeError: Cannot handle this data type" in out
    assert out.count("as a tensor: (3, 192, 256)") == 2
    (run,) = runs
    assert set(tb_tags(run)["images"]) == {"train", "train_tensor"}  # the failed try wrote nothing
    for tag in ("train", "train_tensor"):
        assert [(step, w, h) for step, w, h, _ in tb_images(run, tag)] == [(1, 256, 192), (2, 256, 192)]
    # numpy HWC and tensor CHW are the same picture
    assert tb_images(run, "train")[0][3] == tb_images(run, "train_tensor")[0][3]


def test_own_pictures_any_mode_one_step_each(run_lesson, tmp_path):
    rgba = tmp_path / "transparent.png"
    Image.fromarray(np.zeros((40, 30, 4), dtype=np.uint8)).save(rgba)  # 4 channels: convert('RGB') makes 3
    grey = tmp_path / "grey.jpg"
    Image.new("L", (50, 20), 128).save(grey)
    out, (run,) = run_lesson("p09_tensorboard_image", "--images", str(rgba), str(grey), dataset=None)
    assert re.findall(r"^\(\d+, \d+, \d+\)$", out, flags=re.M) == ["(40, 30, 3)", "(20, 50, 3)"]
    assert [(step, w, h) for step, w, h, _ in tb_images(run, "train")] == [(1, 30, 40), (2, 50, 20)]


@pytest.mark.parametrize("name, content, error", [
    ("missing.jpg", None, "no image file .*missing.jpg"),
    ("notes.jpg", b"not a picture", "notes.jpg is not an image Pillow can read"),
])
def test_a_bad_picture_is_one_clear_error_before_anything_is_written(run_lesson, tmp_path, name, content, error):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(LessonError, match=error):
        run_lesson("p09_tensorboard_image", "--images", str(path), dataset=None)
    assert not (tmp_path / "logs").exists()
