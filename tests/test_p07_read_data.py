import ctypes
import os
import re
import shutil
import struct
import subprocess
import zlib

import pytest

from conftest import events, one_line_error
from kit.errors import LessonError
from kit.flags import MINI


@pytest.fixture
def root(tmp_path):
    """A copy of the drawn ants and bees, to break."""
    shutil.copytree(MINI / "train", tmp_path / "mini" / "train")
    return tmp_path / "mini"


def test_both_layouts_and_the_first_ant_and_bee(run_lesson):
    r = run_lesson("p07_read_data", quick=False, dataset=None)
    assert r.out.startswith("<PIL.Image.Image image mode=RGB size=256x192") and r.out.splitlines()[1] == "ants"
    lengths = [r.number(f"len({name})") for name in ("ants_dataset", "bees_dataset", "train_dataset",
                                                     "train_label_dataset")]
    assert lengths == [12, 12, 24, 24]
    assert "train_dataset[12][1] = 'bees'" in r.out  # the bees follow the ants
    assert "'img' (3, 256, 256), 'label' 'ants' from ant_00.txt" in r.out  # read_data.py's transform and label file
    board = events(r.runs[-1])
    assert [(step, w, h) for step, w, h, _ in board.images("train_dataset")] == [(0, 256, 192), (12, 256, 192)]
    assert [(step, w, h) for step, w, h, _ in board.images("train_label_dataset")] == [(0, 256, 256), (12, 256, 256)]


def test_hidden_files_skipped_lists_sorted_label_from_the_file(run_lesson, root):
    (root / "train" / "ants" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")  # what macOS's Finder leaves
    (root / "train" / "bees" / "Thumbs.db").write_bytes(b"\0")  # and Windows' Explorer
    (root / "train" / "ants_label" / "ant_00.txt").write_text("formica\n")  # the label comes from the file
    r = run_lesson("p07_read_data", "--data-root", str(root), quick=False, dataset=None)
    assert r.number("len(train_dataset)") == 24 and "'label' 'formica' from ant_00.txt" in r.out

    import p07_read_data
    ants = p07_read_data.MyData(str(root / "train"), "ants")
    assert ants.img_path == sorted(ants.img_path) and ants.img_path[0] == "ant_00.jpg"


def layout(tmp_path, kind):
    """The drawn ants and bees in one of the course's layouts alone: hymenoptera_data's (with val/) or the
    练手数据集 (its first pair's name not UTF-8, its label in UTF-16 as Notepad saves it; the next in UTF-8 with a BOM)."""
    names = ["ants", "bees"] if kind == "hymenoptera" else ["ants_image", "ants_label", "bees_image", "bees_label"]
    for split in ("train", "val") if kind == "hymenoptera" else ("train",):
        for name in names:
            shutil.copytree(MINI / "train" / name, tmp_path / kind / split / name)
    train, odd = tmp_path / kind / "train", os.fsdecode(b"ant_00\xff")
    if kind == "practice":
        (train / "ants_image" / "ant_00.jpg").rename(train / "ants_image" / f"{odd}.jpg")
        (train / "ants_label" / "ant_00.txt").unlink()
        (train / "ants_label" / f"{odd}.txt").write_text("蚂蚁\r\n", encoding="utf-16")
        (train / "ants_label" / "ant_01.txt").write_text("ants\n", encoding="utf-8-sig")
    return tmp_path / kind


@pytest.mark.parametrize("lesson", ["p07_read_data", "p11_transforms_dataset"])
@pytest.mark.parametrize("kind", ["hymenoptera", "practice"])
def test_p7_and_p11_run_on_either_layout_alone(run_lesson, tmp_path, lesson, kind):
    r = run_lesson.process(lesson, "--data-root", str(layout(tmp_path, kind)))
    assert r.code == 0, r.err
    labels = ["蚂蚁", "ants", "ants", "ants"] if kind == "practice" else ["ants"] * 4  # UTF-16, UTF-8 with a BOM
    if lesson == "p11_transforms_dataset":
        assert r.lines("DataLoader(ants_dataset + bees_dataset")[0].endswith(f"labels {labels}")
        assert ("P7's layout instead" in r.out) == (kind == "hymenoptera")
    elif kind == "practice":
        assert "no ants/ or bees/ in" in r.out and "'label' '蚂蚁' from ant_00\ufffd.txt" in r.out  # not UTF-8: U+FFFD
        assert events(r.runs[-1]).tags("images") == ["train_label_dataset"]
    else:
        assert r.number("len(train_dataset)") == 24 and "no ants_image/ in" in r.out


def remove(path):
    shutil.rmtree(path) if path.is_dir() else path.unlink()


@pytest.mark.parametrize("break_it, error", [
    (lambda t: remove(t / "bees"), r"no folder .*train/bees: --data-root wants ROOT/train/bees/"),
    (lambda t: remove(t / "ants_label"), r"no folder .*train/ants_label: every image needs one label file"),
    (lambda t: remove(t / "ants_label" / "ant_03.txt"),
     r"train/ants_image has 12 images but .*train/ants_label has 11 label files"),
    (lambda t: (t / "ants_label" / "ant_05.txt").rename(t / "ants_label" / "ant_05_old.txt"),
     r"ant_05.jpg and .*ant_05_old.txt pair up after sorting, but their names differ"),
    (lambda t: (t / "bees" / "notes.txt").write_text("bees are nice"),
     r"train/bees/notes.txt: not an image Pillow can read \(an unknown format"),
    (lambda t: [remove(p) for p in (t / "bees_image").iterdir()], r"train/bees_image is empty"),
], ids=["no bees folder", "no label folder", "a label missing", "names differ", "not an image", "empty"])
def test_a_bad_layout_is_one_clear_error_naming_the_path(run_lesson, root, break_it, error):
    break_it(root / "train")
    with pytest.raises(LessonError, match=error):
        run_lesson("p07_read_data", "--data-root", str(root), quick=False, dataset=None)


def test_from_another_folder_a_bad_root_is_one_line_naming_both_layouts_and_exit_1(run_lesson):
    r = run_lesson.process("p07_read_data", "--data-root", "nowhere")
    assert one_line_error(r).startswith(f"error: no ants and bees in {os.path.join('nowhere', 'train')}: --data-root "
                                        "wants ROOT/train/ants/ + bees/ (hymenoptera_data), or ROOT/train/ants_image/")
    assert not r.runs and not (run_lesson.logdir).exists()


def png_header(path, width, height):
    """A PNG claiming width x height pixels in a few bytes: a decompression bomb's header."""
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize("lesson, break_it, error", [
    ("p07_read_data", lambda t: png_header(t / "bees" / "bee_05.jpg", 20_000, 20_000),
     r"train/bees/bee_05.jpg: 400,000,000 pixels is over Pillow's limit of 89,478,485 \(.*\); shrink it first"),
    ("p11_transforms_dataset",
     lambda t: remove(t / "ants_label" / "ant_00.txt") or (t / "ants_label" / "ant_00").mkdir(),
     r"cannot read the label file .*train/ants_label/ant_00: it is a folder"),
], ids=["P7 decompression bomb", "P11 a folder for a label file"])
def test_a_bomb_or_a_folder_for_a_label_file_is_one_line(run_lesson, root, lesson, break_it, error):
    break_it(root / "train")
    assert re.match("error: .*" + error, one_line_error(run_lesson.process(lesson, "--data-root", str(root))))


def as_a_learner():  # in the child: root's power to read every folder dropped (CAP_DAC_OVERRIDE, _READ_SEARCH)
    if any(ctypes.CDLL(None).prctl(24, cap, 0, 0, 0) for cap in (1, 2)):  # PR_CAPBSET_DROP
        raise OSError("cannot drop the capability")


@pytest.mark.skipif(os.name != "posix", reason="chmod 000 does not lock a folder on Windows")
def test_a_folder_without_read_permission_is_one_line(run_lesson, root):
    (root / "train" / "ants").chmod(0)
    try:
        r = run_lesson.process("p07_read_data", "--data-root", str(root),
                               preexec_fn=as_a_learner if os.geteuid() == 0 else None)
    except subprocess.SubprocessError:
        pytest.skip("root here, and its power to read every folder cannot be dropped")
    finally:
        (root / "train" / "ants").chmod(0o755)
    assert re.match(r"error: .*train/ants: permission denied; change the folder's permissions$", one_line_error(r))
