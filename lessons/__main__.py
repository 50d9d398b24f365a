"""The lesson index, a tour of every lesson, and one lesson by number.  Run from the repo root:

    python -m lessons                          # list every lesson: P number, heading, script, what it shows
    python -m lessons tour --quick             # run them all in course order, quick mode (about 2 minutes)
    python -m lessons run 27 -- --epochs 3     # one lesson by number, with its own flags after --
    python -m lessons run 23                   # P23 and P26 have two scripts each: both run, in order
    python -m lessons run p23_nn_loss_network  # ...or name one script

From another folder, give the path instead: `python path/to/lessons tour --quick`.
Every lesson runs as its own process, `python lessons/<script> ...`, exactly as a learner runs it.
"""
import argparse
import sys
from pathlib import Path

# The one place the helpers' folder is put on the path: a lesson run as `python lessons/pNN_x.py` has
# lessons/ there already, and `python -m lessons` (run from the repo root) needs it too.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from kit import common, tour  # noqa: E402  (kit.common imports no torch: the list and the tour start at once)
from kit.catalog import LESSONS  # noqa: E402


def list_lessons(lessons=LESSONS, lessons_dir=tour.LESSONS_DIR, out=None):
    out = out or sys.stdout
    heading_w = max(common.width(lesson.heading) for lesson in lessons)
    for lesson in lessons:
        missing = "" if (lessons_dir / lesson.script).is_file() else "   (not written yet)"
        pad = " " * (heading_w - common.width(lesson.heading))
        print(f"{lesson.p:<4} {lesson.heading}{pad}  {lesson.title}", file=out)
        print(f"     lessons/{lesson.script}{missing}", file=out)
        print(f"     {lesson.shows}", file=out)
    print("\nRun one:   python -m lessons run 18 -- --quick      (its flags after --; add --help to see them)",
          file=out)
    print("Run all:   python -m lessons tour --quick", file=out)


def parser():
    p = argparse.ArgumentParser(prog="python -m lessons", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", metavar="{list,tour,run}")
    sub.add_parser("list", help="list every lesson (the default)")

    t = sub.add_parser("tour", help="run every lesson in course order and summarise")
    t.add_argument("--quick", action="store_true", help="each lesson's smoke run (seconds each); the tour's point")
    t.add_argument("--logdir", type=Path, default=common.LOG_DIR,
                   help="TensorBoard folder for all lessons (default: logs/ in the repo)")
    t.add_argument("--checkpoint-dir", type=Path, help="checkpoints go in DIR/p26, DIR/p27, ... and P32 tests the "
                                                       "newest best.pth there (default: the lessons' own, "
                                                       "checkpoints/)")
    t.add_argument("--dataset", choices=["auto", "cifar10", "synthetic", "folder"],
                   help="passed to the lessons that load data (default: theirs, auto)")
    t.add_argument("--data-root", type=Path, help="passed to the lessons that load data")
    t.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="passed to every lesson")
    t.add_argument("--jobs", "-j", type=common.positive_int, help="lessons at a time (default: 2 with --quick, else 1)")
    t.add_argument("--timeout", type=common.positive_float,
                   help="seconds before a lesson counts as hung and is stopped (default: 180 with --quick, else none)")
    t.add_argument("--verbose", "-v", action="store_true", help="show every lesson's output, not only failures'")

    r = sub.add_parser("run", help="run one lesson by number (27, P27) or script name, with its own flags")
    r.add_argument("lesson", help="27, P27, or a script name such as p23_nn_loss_network")
    r.add_argument("args", nargs=argparse.REMAINDER, help="the lesson's own flags, after --")
    return p


def main(argv=None, lessons=LESSONS, lessons_dir=tour.LESSONS_DIR):
    args = parser().parse_args(argv)
    if args.command in (None, "list"):
        list_lessons(lessons, lessons_dir)
        return 0
    if args.command == "tour":
        return tour.tour_command(args, lessons, lessons_dir)
    return tour.run_command(args, lessons, lessons_dir)


if __name__ == "__main__":
    common.run(main)
