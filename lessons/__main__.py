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
import re
import signal
import subprocess
import sys
from pathlib import Path

# The one place the helpers' folder is put on the path: a lesson run as `python lessons/pNN_x.py` has
# lessons/ there already, and `python -m lessons` (run from the repo root) needs it too.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from kit import console, flags  # noqa: E402  (no torch: the list and the tour start at once)
from cli import tour  # noqa: E402
from cli.catalog import LESSONS  # noqa: E402
from kit.i18n import _  # noqa: E402


def list_lessons(lessons=LESSONS, lessons_dir=tour.LESSONS_DIR, out=None):
    out = out or sys.stdout
    heading_w = max(console.width(lesson.heading) for lesson in lessons)
    for lesson in lessons:
        missing = "" if (lessons_dir / lesson.script).is_file() else "   " + _("(not written yet)")
        pad = " " * (heading_w - console.width(lesson.heading))
        print(f"{lesson.p:<4} {lesson.heading}{pad}  {_(lesson.title)}", file=out)  # in the catalog (tools/i18n.py)
        print(f"     lessons/{lesson.script}{missing}", file=out)
        print(f"     {_(lesson.shows)}", file=out)
    print("\n" + _("Run one:   python -m lessons run 18 -- --quick      (its flags after --; add --help to see them)"),
          file=out)
    print(_("Run all:   python -m lessons tour --quick"), file=out)


def find_lessons(spec, lessons=LESSONS):
    """'27', 'P27', 'p27' -> every script of P27; 'p23_nn_loss' or 'p23_nn_loss.py' -> that script."""
    number = re.fullmatch(r"[pP]?(\d+)", spec.strip())
    if number:
        return [x for x in lessons if x.p == f"P{int(number.group(1))}"]
    return [x for x in lessons if x.script.removesuffix(".py") == spec.strip().removesuffix(".py")]


def run_command(args, lessons=LESSONS, lessons_dir=tour.LESSONS_DIR):
    chosen = find_lessons(args.lesson, lessons)
    if not chosen:
        numbers = ", ".join(dict.fromkeys(x.p for x in lessons))
        print(_("error: no lesson '{lesson}' (lessons: {numbers}; or a script name such as {script}); "
                "`python -m lessons` lists them").format(lesson=args.lesson, numbers=numbers,
                                                          script=lessons[0].script.removesuffix(".py")),
              file=sys.stderr)
        return 2
    extra = args.args[1:] if args.args[:1] == ["--"] else args.args
    for lesson in chosen:
        script = lessons_dir / lesson.script
        if not script.is_file():
            print(_("error: {script} does not exist yet").format(script=tour.quoted(script)), file=sys.stderr)
            return 2
        if len(chosen) > 1:
            print(f"==> {lesson.p} {_(lesson.title)}: python {tour.quoted(script)} {' '.join(extra)}".rstrip(),
                  flush=True)
        with subprocess.Popen([sys.executable, str(script), *extra]) as proc:
            try:
                rc = proc.wait()
            except KeyboardInterrupt as e:  # a Ctrl-C reached the lesson too: it saves what it has and says so
                if getattr(e, "signum", None) == signal.SIGTERM:  # a SIGTERM was for this process only
                    proc.terminate()
                rc = proc.wait()
        if rc:
            return rc
    return 0


def parser():
    p = argparse.ArgumentParser(prog="python -m lessons", description=_(__doc__),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    flags.add_lang(p)
    sub = p.add_subparsers(dest="command", metavar="{list,tour,run}")
    flags.add_lang(sub.add_parser("list", help=_("list every lesson (the default)")))

    t = sub.add_parser("tour", help=_("run every lesson in course order and summarise"))
    t.add_argument("--quick", action="store_true", help=_("each lesson's smoke run (seconds each); the tour's point"))
    t.add_argument("--logdir", type=Path, default=flags.LOG_DIR,
                   help=_("TensorBoard folder for all lessons (default: logs/ in the repo)"))
    t.add_argument("--checkpoint-dir", type=Path, help=_("checkpoints go in DIR/p26, DIR/p27, ... and P32 tests the "
                                                         "newest best.pth there (default: the lessons' own, "
                                                         "checkpoints/)"))
    t.add_argument("--dataset", choices=["auto", "cifar10", "synthetic", "folder"],
                   help=_("passed to the lessons that load data (default: theirs, auto)"))
    t.add_argument("--data-root", type=Path, help=_("passed to the lessons that load data"))
    t.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"],
                   help=_("passed to the lessons that choose a device"))
    t.add_argument("--jobs", "-j", type=flags.positive_int,
                   help=_("lessons at a time (default: 2 with --quick, else 1)"))
    t.add_argument("--timeout", type=flags.positive_float,
                   help=_("seconds before a lesson counts as hung and is stopped (default: 180 with --quick, "
                          "else none)"))
    t.add_argument("--verbose", "-v", action="store_true", help=_("show every lesson's output, not only failures'"))
    flags.add_lang(t)

    r = sub.add_parser("run", help=_("run one lesson by number (27, P27) or script name, with its own flags"))
    flags.add_lang(r)
    r.add_argument("lesson", help=_("27, P27, or a script name such as p23_nn_loss_network"))
    r.add_argument("args", nargs=argparse.REMAINDER, help=_("the lesson's own flags, after --"))
    return p


def main(argv=None, lessons=LESSONS, lessons_dir=tour.LESSONS_DIR):
    args = parser().parse_args(argv)
    if args.command in (None, "list"):
        list_lessons(lessons, lessons_dir)
        return 0
    if args.command == "tour":
        return tour.tour_command(args, lessons, lessons_dir)
    return run_command(args, lessons, lessons_dir)


if __name__ == "__main__":
    console.run(main)
