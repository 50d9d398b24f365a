import io
import os
import re

import numpy as np
import pytest
from PIL import Image

from conftest import events, one_line_error
from kit.errors import LessonError
from test_p07_read_data import png_header


def test_numpy_needs_hwc_and_both_pictures_share_one_slider(run_lesson):
    r = run_lesson("p09_tensorboard_image", quick=False, dataset=None)
    assert [line.rsplit("/", 1)[-1] for line in r.lines("step ")] == ["ant_00.jpg", "bee_00.jpg"]  # which picture
    assert r.lines("  type(img_array):") == ["  type(img_array): <class 'numpy.ndarray'>"] * 2
    assert re.findall(r"shape: (\(.*?\))", r.out) == ["(192, 256, 3)", "(3, 192, 256)"] * 2  # numpy HWC, tensor CHW
    assert "TypeError: Cannot handle this data type" in r.lines("  without dataformats='HWC':")[0]
    board = events(r.runs[-1])
    assert set(board.tags("images")) == {"train", "train_tensor"}  # the failed try wrote nothing
    for tag in ("train", "train_tensor"):
        assert [(step, w, h) for step, w, h, _ in board.images(tag)] == [(1, 256, 192), (2, 256, 192)]
    assert board.images("train")[0][3] == board.images("train_tensor")[0][3]  # the same picture


def test_own_pictures_any_mode_one_step_each(run_lesson, tmp_path):
    rgba = tmp_path / "transparent.png"
    Image.fromarray(np.zeros((40, 30, 4), dtype=np.uint8)).save(rgba)  # 4 channels: convert('RGB') makes 3
    grey = tmp_path / "grey.jpg"
    Image.new("L", (50, 20), 128).save(grey)
    r = run_lesson("p09_tensorboard_image", "--images", str(rgba), str(grey), quick=False, dataset=None)
    assert re.findall(r"img_array.shape: (\(.*?\))", r.out) == ["(40, 30, 3)", "(20, 50, 3)"]
    assert [(step, w, h) for step, w, h, _ in events(r.runs[-1]).images("train")] == [(1, 30, 40), (2, 50, 20)]


BOMB = r"bomb.png: 400,000,000 pixels is over Pillow's limit of 89,478,485 \(.*\); shrink it first$"


@pytest.mark.parametrize("lesson, name, make, error", [
    ("p09_tensorboard_image", "missing.jpg", None, "no image file .*missing.jpg$"),
    ("p09_tensorboard_image", "notes.jpg", lambda p: p.write_bytes(b"not a picture"),
     r"notes.jpg: not an image Pillow can read \(.*\); save it as JPEG or PNG, or remove it$"),
    ("p10_transforms_totensor", "bomb.png", lambda p: png_header(p, 20_000, 20_000), BOMB),
    ("p12_transforms_normalize", "bomb.png", lambda p: png_header(p, 20_000, 20_000), BOMB),
    ("p13_transforms_compose", "bomb.png", lambda p: png_header(p, 20_000, 20_000), BOMB),
])
def test_a_bad_picture_is_one_clear_error_before_anything_is_written(run_lesson, tmp_path, lesson, name, make, error):
    make and make(tmp_path / name)
    with pytest.raises(LessonError, match=error):
        run_lesson(lesson, "--images" if lesson.startswith("p09") else "--image", str(tmp_path / name),
                   quick=False, dataset=None)
    assert not run_lesson.logdir.exists()


def test_a_decompression_bomb_is_one_line_and_exit_1(run_lesson, tmp_path):
    r = run_lesson.process("p09_tensorboard_image", "--images", str(png_header(tmp_path / "bomb.png", 20_000, 20_000)))
    assert re.match(f"error: {re.escape(str(tmp_path))}/{BOMB}", one_line_error(r))


@pytest.mark.parametrize("lesson, tag", [("p09_tensorboard_image", "train"), ("p10_transforms_totensor", "Tensor_img"),
                                         ("p12_transforms_normalize", "ToTensor")])
def test_a_16_bit_png_named_not_in_utf8_is_shown_as_a_viewer_shows_it(run_lesson, tmp_path, lesson, tag):
    path = tmp_path / os.fsdecode(b"caf\xe9_\xff.png")  # a name from an old zip or camera: not UTF-8
    Image.fromarray(np.linspace(0, 65535, 48 * 64).reshape(48, 64).astype(np.uint16)).save(path)  # 16-bit grey
    r = run_lesson.process(lesson, "--images" if lesson.startswith("p09") else "--image", str(path))
    assert r.code == 0, r.err
    pixels = np.array(Image.open(io.BytesIO(events(r.runs[-1]).images(tag)[0][3])))
    assert (pixels == 255).mean() < 0.01 and abs(pixels.mean() - 127.5) < 2  # .convert('RGB') alone: 99.6% white
    assert "caf\ufffd_\ufffd.png" in r.out or not lesson.startswith("p09")  # P9 prints the name
