"""The course's image folders (P7-P13), and one clear line when a folder is not laid out as expected.

    ROOT/train/ants/*.jpg                       the label is the folder's name (hymenoptera_data)
    ROOT/train/ants_image/*.jpg                 one label file per image, with the image's name
    ROOT/train/ants_label/*.txt                 (the course's 练手数据集)

    names = folders.listdir(path)               # os.listdir, sorted, every file an image
    folders.check_pairs(image_path, image_list, label_path, label_list)
    folders.check_image(path)                   # one image file given with --image
    folders.add_data_root(parser)               # the --data-root flag of P7 and P11

ROOT defaults to data/hymenoptera_mini, 24 drawn pictures in both layouts (see its README).
"""
import os
from pathlib import Path

from PIL import Image

from kit.common import DATA_DIR, LessonError

MINI = DATA_DIR / "hymenoptera_mini"
FIRST_ANT = MINI / "train" / "ants_image" / "ant_00.jpg"
FIRST_BEE = MINI / "train" / "bees_image" / "bee_00.jpg"
# files a file browser leaves behind, which are no one's data: .DS_Store (macOS), Thumbs.db (Windows)
SYSTEM_FILES = {"Thumbs.db", "desktop.ini"}
LAYOUT = "--data-root wants ROOT/train/ants/ and ROOT/train/bees/ of images (see data/hymenoptera_mini/README.md)"
PAIRS = "every image needs one label file of the same name (see data/hymenoptera_mini/README.md)"


def add_data_root(parser):
    parser.add_argument("--data-root", type=Path, default=MINI,
                        help="ROOT holding ROOT/train/ants/ and ROOT/train/bees/, e.g. the real hymenoptera_data "
                             "(default: data/hymenoptera_mini, the drawn ants and bees)")


def listdir(path, *, images=True):
    """The names in a folder, sorted: os.listdir's order differs between systems, so the course's code
    could pair an image with another image's label. With images=True every file must open as an image."""
    path, hint = Path(path), LAYOUT if images else PAIRS
    if not path.is_dir():
        raise LessonError(f"no folder {path}: {hint}")
    names = sorted(n for n in os.listdir(path) if not n.startswith(".") and n not in SYSTEM_FILES)
    if not names:
        raise LessonError(f"{path} is empty: {hint}")
    if images:
        for name in names:
            check_image(path / name)
    return names


def check_image(path):
    """Refuse, in one line naming it, a path that is missing or not an image Pillow can read.
    Only the header is read here (fast); Image.open reads the pixels when they are used."""
    path = Path(path)
    if not path.is_file():
        raise LessonError(f"no image file {path}" if not path.exists() else f"{path} is not an image file")
    try:
        with Image.open(path):
            pass
    except (OSError, SyntaxError, ValueError) as e:  # UnidentifiedImageError is an OSError
        raise LessonError(f"{path} is not an image Pillow can read ({type(e).__name__})") from None


def check_pairs(image_path, image_list, label_path, label_list):
    """The course pairs the n-th image with the n-th label file, both sorted: that holds only if every
    image has exactly one label file of the same name."""
    if len(image_list) != len(label_list):
        raise LessonError(f"{image_path} has {len(image_list)} images but {label_path} has {len(label_list)} "
                          f"label files: {PAIRS}")
    for image, label in zip(image_list, label_list):
        if Path(image).stem != Path(label).stem:
            raise LessonError(f"{Path(image_path) / image} and {Path(label_path) / label} pair up after sorting, "
                              f"but their names differ: {PAIRS}")
