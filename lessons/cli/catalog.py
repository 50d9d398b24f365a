"""The lesson index: `python -m lessons`, its tour and the README's table read it from lessons.tsv beside this
file, one row per lesson: P, the note's heading (笔记标题), title, script, what to look at, and the tour's flags it
takes (besides --logdir and --lang). tools/i18n.py puts the titles and what-to-look-at texts in the translation
catalog, so `python -m lessons` shows them in the learner's language."""
import csv
from collections import namedtuple
from pathlib import Path

Lesson = namedtuple("Lesson", "p heading title script shows flags", defaults=[()])
Q, QD, DATA, ANTS_ROOT = ("--quick",), ("--quick", "--device"), ("--dataset", "--data-root"), ("--data-root",)
SAVES, LOADS = ("--checkpoint-dir",), ("--checkpoint",)
FLAGS = {"Q": Q, "D": ("--device",), "DATA": DATA, "ANTS_ROOT": ANTS_ROOT, "SAVES": SAVES, "LOADS": LOADS}
TABLE = Path(__file__).with_name("lessons.tsv")


def read(path=TABLE):
    with open(path, encoding="utf-8", newline="") as f:
        rows = [row for row in csv.reader(f, delimiter="\t") if row and not row[0].startswith("#")]
    return [Lesson(*row[:5], tuple(flag for name in row[5].split() for flag in FLAGS[name])) for row in rows]


LESSONS = read()
