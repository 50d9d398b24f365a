"""Every lesson that copies the course keeps the course's lines, in the course's order.

docs/course-lines/<lesson>.txt lists, once, the course's code lines that lessons/<lesson>.py keeps: one line
each, as the lesson writes it (spaces at either end do not count), step headers (`# 准备数据集`) too.
Its first line names the course file: `@course src/nn_maxpool.py`. A later edit that loses, renames or
reorders one of them fails here, naming it.
"""
import pytest

from conftest import REPO

LISTS = sorted((REPO / "docs" / "course-lines").glob("*.txt"))


def course_lines(path):
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert lines[0].startswith("@course "), f"{path.name}: the first line names the course file"
    return lines[1:]


@pytest.mark.parametrize("listing", LISTS, ids=[p.stem for p in LISTS])
def test_lesson_keeps_the_course_lines_in_order(listing):
    lesson = (REPO / "lessons" / f"{listing.stem}.py").read_text(encoding="utf-8").splitlines()
    lesson = [line.strip() for line in lesson]
    at = 0
    for wanted in course_lines(listing):
        try:
            at = lesson.index(wanted, at) + 1
        except ValueError:
            where = "is missing" if wanted not in lesson else "comes too early (out of the course's order)"
            pytest.fail(f"{listing.stem}.py: the course line {wanted!r} {where}")


def test_every_course_lesson_has_its_list():
    """P7-P32: each lesson copies a course file (P16's, P17's ... included); the bonus lessons P33/P34 do not."""
    lessons = {p.stem for p in (REPO / "lessons").glob("p[0-3][0-9]_*.py")} - {"p33_train_fast", "p34_train_ddp"}
    assert lessons == {p.stem for p in LISTS}
