import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CHILD_ENV, REPO, tb_images
from kit.common import LessonError
from kit.folders import MINI


@pytest.fixture
def root(tmp_path):
    """A copy of the drawn ants and bees, to break."""
    shutil.copytree(MINI / "train", tmp_path / "mini" / "train")
    return tmp_path / "mini"


def test_both_layouts_and_the_first_ant_and_bee(run_lesson):
    out, runs = run_lesson("p07_read_data", dataset=None)
    lines = out.splitlines()
    assert lines[0].startswith("<PIL.Image.Image image mode=RGB size=256x192") and lines[1] == "ants"
    assert "len(ants_dataset) = 12, len(bees_dataset) = 12, len(train_dataset) = 24" in out
    assert "train_dataset[12] is a bees picture: the bees follow the ants" in out
    assert "second layout: 24 pictures; ant_00.jpg has the label 'ants' from ant_00.txt" in out
    (run,) = runs
    assert [(step, w, h) for step, w, h, _ in tb_images(run, "train_dataset")] == [(0, 256, 192), (12, 256, 192)]


def test_sorted_pairs_hidden_files_skipped_and_labels_read_from_the_files(run_lesson, root):
    (root / "train" / "ants" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")  # what macOS's Finder leaves
    (root / "train" / "ants_label" / "ant_00.txt").write_text("formica\n")  # the label comes from the file
    out, _ = run_lesson("p07_read_data", "--data-root", str(root), dataset=None)
    assert "len(ants_dataset) = 12," in out
    assert "ant_00.jpg has the label 'formica' from ant_00.txt" in out

    import p07_read_data
    ants = p07_read_data.MyData(str(root / "train"), "ants")
    assert ants.img_path == sorted(ants.img_path) and ants.img_path[0] == "ant_00.jpg"


def test_without_the_second_layout_it_is_skipped(run_lesson, root):
    shutil.rmtree(root / "train" / "ants_image")
    out, _ = run_lesson("p07_read_data", "--data-root", str(root), dataset=None)
    assert "no ants_image/ in" in out and "is skipped" in out


def remove(path):
    shutil.rmtree(path) if path.is_dir() else path.unlink()


@pytest.mark.parametrize("break_it, error", [
    (lambda t: remove(t / "bees"), r"no folder .*train/bees: --data-root wants ROOT/train/ants/"),
    (lambda t: remove(t / "ants_label"), r"no folder .*train/ants_label: every image needs one label file"),
    (lambda t: remove(t / "ants_label" / "ant_03.txt"),
     r"train/ants_image has 12 images but .*train/ants_label has 11 label files"),
    (lambda t: (t / "ants_label" / "ant_05.txt").rename(t / "ants_label" / "ant_05_old.txt"),
     r"ant_05.jpg and .*ant_05_old.txt pair up after sorting, but their names differ"),
    (lambda t: (t / "bees" / "notes.txt").write_text("bees are nice"),
     r"train/bees/notes.txt is not an image Pillow can read \(UnidentifiedImageError\)"),
    (lambda t: [remove(p) for p in (t / "bees_image").iterdir()], r"train/bees_image is empty"),
], ids=["no bees folder", "no label folder", "a label missing", "names differ", "not an image", "empty"])
def test_a_bad_layout_is_one_clear_error_naming_the_path(run_lesson, root, break_it, error):
    break_it(root / "train")
    with pytest.raises(LessonError, match=error):
        run_lesson("p07_read_data", "--data-root", str(root), dataset=None)


def test_from_another_folder_a_bad_root_is_one_line_and_exit_1(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "lessons" / "p07_read_data.py"), "--data-root", "nowhere",
                           "--logdir", str(tmp_path / "logs")], cwd=tmp_path, env=CHILD_ENV,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [f"error: no folder {Path('nowhere', 'train', 'ants')}: --data-root wants "
                                        "ROOT/train/ants/ and ROOT/train/bees/ of images (see data/hymenoptera_mini/README.md)"]
    assert not (tmp_path / "logs").exists()
