"""The course's ants and bees (P7, P11): ROOT/train/ants/*.jpg, or ants_image/*.jpg + ants_label/*.txt.

    hymenoptera, practice = folders.layouts(root)  # which of the two ROOT/train holds; neither: one line naming both
    names = folders.listdir(path)                  # os.listdir without hidden files, every file an image (not sorted)
"""
import os
from pathlib import Path

from kit.errors import LessonError, shown, write_failure
from kit.flags import MINI
from kit.i18n import N_, _
from kit.images import check

SYSTEM_FILES = {"Thumbs.db", "desktop.ini"}  # what Windows' file browser leaves in folders (macOS's .DS_Store: hidden)
LAYOUT = N_("--data-root wants ROOT/train/{name}/ of images (see data/hymenoptera_mini/README.md)")
PAIRS = N_("every image needs one label file of the same name (see data/hymenoptera_mini/README.md)")


def add_data_root(parser):
    parser.add_argument("--data-root", type=Path, default=MINI, help=_(
        "ROOT/train/ants/ ... or ROOT/train/ants_image/ ... (default: data/hymenoptera_mini, the drawn ants and bees)"))


def layouts(root):  # (hymenoptera_data's layout, the 练手数据集's): which ROOT/train holds
    train = Path(root) / "train"
    names = set(readable(train)) if train.is_dir() else set()
    found = bool(names & {"ants", "bees"}), bool(names & {"ants_image", "ants_label", "bees_image", "bees_label"})
    if not any(found):
        raise LessonError(_("no ants and bees in {train}: --data-root wants ROOT/train/ants/ + bees/ "
                            "(hymenoptera_data), or ROOT/train/ants_image/ + ants_label/ + bees_image/ + bees_label/ "
                            "(the course's 练手数据集)").format(train=shown(train)))
    return found


def listdir(path, *, images=True):
    """os.listdir(path) without hidden and system files; a bad folder, or a file not an image, is one line."""
    path = Path(path)
    hint = _(LAYOUT).format(name=path.name) if images else _(PAIRS)
    if not path.is_dir():
        raise LessonError(_("no folder {path}: {hint}").format(path=shown(path), hint=hint))
    names = [n for n in readable(path) if not n.startswith(".") and n not in SYSTEM_FILES]
    if not names:
        raise LessonError(_("{path} is empty: {hint}").format(path=shown(path), hint=hint))
    for name in names if images else ():
        check(path / name)
    return names


def readable(folder):
    try:
        return os.listdir(folder)
    except PermissionError:
        raise LessonError(_("{path}: permission denied; change the folder's permissions").format(path=shown(folder)))


def check_pairs(image_path, image_list, label_path, label_list):
    """The course pairs the n-th sorted image with the n-th sorted label file: every image needs one label file."""
    if len(image_list) != len(label_list):
        raise LessonError(_("{images} has {n} images but {labels} has {m} label files: {hint}").format(
            images=shown(image_path), n=len(image_list), labels=shown(label_path), m=len(label_list), hint=_(PAIRS)))
    for image, label in zip(image_list, label_list):
        if Path(image).stem != Path(label).stem:
            raise LessonError(_("{image} and {label} pair up after sorting, but their names differ: {hint}").format(
                image=shown(Path(image_path) / image), label=shown(Path(label_path) / label), hint=_(PAIRS)))


def read_label(path):
    """The course's open(path).readline(), stripped; UTF-16 with a BOM is what Windows' Notepad saves as Unicode."""
    try:
        data = Path(path).read_bytes()  # UTF-16 starts with a BOM (FF FE or FE FF); utf-8-sig drops UTF-8's BOM
        return data.decode("utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig").split("\n")[0].strip()
    except (OSError, UnicodeDecodeError) as e:
        raise LessonError(_("cannot read the label file {path}: {why}; it should hold the label as text").format(
            path=shown(path), why=write_failure(path, e) or _("not UTF-8 or UTF-16 text"))) from None
