"""The lesson index, a tour of every lesson, and one lesson by number.  Run from the repo root:

    python -m lessons                          # list every lesson: P number, heading, script, what it shows
    python -m lessons tour --quick             # run them all in course order, quick mode (1-2 minutes)
    python -m lessons run 27 -- --epochs 3     # one lesson by number, with its own flags after --
    python -m lessons run 23                   # P23 and P26 have two scripts each: both run, in order
    python -m lessons run p23_nn_loss_network  # ...or name one script
    python -m lessons table --write            # rewrite README.md's lesson table from catalog.py

From another folder, give the path instead: `python path/to/lessons tour --quick`.

Every lesson runs as its own process, `python lessons/<script> ...`, exactly as a learner runs it;
this file imports no torch, so the list appears at once. The index is catalog.py: the README's
table is generated from it (`table --check` says whether the README is up to date).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

try:  # python -m lessons
    from .catalog import LESSONS
except ImportError:  # python path/to/lessons (this folder is then on sys.path)
    from catalog import LESSONS

LESSONS_DIR = Path(__file__).resolve().parent
REPO = LESSONS_DIR.parent
LOG_DIR = REPO / "logs"  # the lessons' own default (common.LOG_DIR)
README = REPO / "README.md"
TABLE_START, TABLE_END = "<!-- lessons:start -->", "<!-- lessons:end -->"

# Lessons that read what an earlier one wrote: they start only after it has finished.
# p26_model_load reads p26_model_save's files; p32_test picks the newest checkpoint, which the
# training lessons write: it waits for all of them, so "newest" is the same on every tour.
NEEDS = {
    "p26_model_load.py": ["p26_model_save.py"],
    "p32_test.py": ["*"],  # every lesson before it
}
DATA_FLAGS = ("--dataset", "--data-root")  # common.parser(..., data=False) lessons have none of these
TAIL_LINES = 15  # of a failed lesson's output


# ---------------------------------------------------------------- list and README table

def width(text):
    """Columns a string takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def list_lessons(lessons=LESSONS, lessons_dir=LESSONS_DIR, out=None):
    out = out or sys.stdout
    heading_w = max(width(lesson.heading) for lesson in lessons)
    for lesson in lessons:
        missing = "" if (lessons_dir / lesson.script).is_file() else "   (not written yet)"
        pad = " " * (heading_w - width(lesson.heading))
        print(f"{lesson.p}  {lesson.heading}{pad}  {lesson.title}", file=out)
        print(f"     lessons/{lesson.script}{missing}", file=out)
        print(f"     {lesson.shows}", file=out)
    print("\nRun one:   python -m lessons run 18 -- --quick      (its flags after --; add --help to see them)",
          file=out)
    print("Run all:   python -m lessons tour --quick           then: tensorboard --logdir logs", file=out)


def markdown_table(lessons=LESSONS):
    """README's lesson table, made from catalog.py."""
    def cell(text):
        return text.replace("|", "\\|")

    rows = ["| P | 笔记标题 | Lesson | Script | What to look at |", "|---|---|---|---|---|"]
    rows += [f"| {cell(x.p)} | {cell(x.heading)} | {cell(x.title)} | `lessons/{x.script}` | {cell(x.shows)} |"
             for x in lessons]
    return "\n".join(rows)


def readme_table(text):
    """The table between the README's markers (without them), or None if the markers are missing."""
    start, end = text.find(TABLE_START), text.find(TABLE_END)
    if start < 0 or end < start:
        return None
    return text[start + len(TABLE_START):end].strip("\n")


def table_command(args, lessons=LESSONS):
    table = markdown_table(lessons)
    if not (args.write or args.check):
        print(table)
        return 0
    readme = Path(args.readme)
    text = readme.read_text(encoding="utf-8")
    current = readme_table(text)
    if current is None:
        print(f"error: {readme} has no {TABLE_START} ... {TABLE_END} markers", file=sys.stderr)
        return 2
    if current == table:
        print(f"{readme}: the lesson table is up to date")
        return 0
    if args.check:
        print(f"{readme}: the lesson table differs from lessons/catalog.py; "
              "run `python -m lessons table --write`", file=sys.stderr)
        return 1
    start, end = text.index(TABLE_START) + len(TABLE_START), text.index(TABLE_END)
    readme.write_text(text[:start] + "\n" + table + "\n" + text[end:], encoding="utf-8")
    print(f"{readme}: lesson table rewritten ({len(lessons)} lessons)")
    return 0


# ---------------------------------------------------------------- finding lessons and their flags

def find_lessons(spec, lessons=LESSONS):
    """'27', 'P27', 'p27' -> every script of P27; 'p23_nn_loss' or 'p23_nn_loss.py' -> that script."""
    number = re.fullmatch(r"[pP]?(\d+)", spec.strip())
    if number:
        return [x for x in lessons if x.p == f"P{int(number.group(1))}"]
    stem = spec.strip().removesuffix(".py")
    return [x for x in lessons if x.script.removesuffix(".py") == stem]


def accepted_flags(script):
    """The flags a lesson accepts, read from its source and the local helpers it imports.

    Enough to know where --dataset and --checkpoint-dir may be passed, without importing torch
    (which costs seconds per lesson). common.parser() adds the data flags unless data=False.
    """
    src = script.read_text(encoding="utf-8")
    texts = [src]
    for name in re.findall(r"^\s*(?:from|import)\s+(\w+)", src, flags=re.M):
        helper = script.parent / f"{name}.py"
        if name != "common" and helper.is_file():
            texts.append(helper.read_text(encoding="utf-8"))
    flags = {f for text in texts for f in re.findall(r"""add_argument\(\s*["'](--[\w-]+)""", text)}
    if re.search(r"common\.parser\(", src) and not re.search(r"common\.parser\([^)]*\bdata\s*=\s*False", src):
        flags.update(DATA_FLAGS)
    return flags


def shown(path):
    """A path as short as it can be while still exact from the current folder."""
    path = Path(path).resolve()
    try:
        text = str(path.relative_to(Path.cwd()))
    except ValueError:
        text = str(path)
    return f'"{text}"' if " " in text else text


# ---------------------------------------------------------------- run one lesson

def run_command(args, lessons=LESSONS, lessons_dir=LESSONS_DIR):
    chosen = find_lessons(args.lesson, lessons)
    if not chosen:
        numbers = ", ".join(dict.fromkeys(x.p for x in lessons))
        print(f"error: no lesson '{args.lesson}' (lessons: {numbers}; or a script name such as "
              f"{lessons[0].script.removesuffix('.py')}); `python -m lessons` lists them", file=sys.stderr)
        return 2
    extra = args.args[1:] if args.args[:1] == ["--"] else args.args
    for lesson in chosen:
        script = lessons_dir / lesson.script
        if not script.is_file():
            print(f"error: {shown(script)} does not exist yet", file=sys.stderr)
            return 2
        cmd = [sys.executable, str(script), *extra]
        if len(chosen) > 1:
            print(f"==> {lesson.p} {lesson.title}: python {shown(script)} {' '.join(extra)}".rstrip(), flush=True)
        try:
            rc = subprocess.call(cmd)
        except KeyboardInterrupt:  # the lesson got the Ctrl-C too and saves what it has
            return 130
        if rc:
            return rc
    return 0


# ---------------------------------------------------------------- the tour

class Job:
    def __init__(self, lesson, cmd, env):
        self.lesson, self.cmd = lesson, cmd
        self.output = tempfile.TemporaryFile()
        self.start = time.perf_counter()
        self.proc = subprocess.Popen(cmd, stdout=self.output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env)
        self.seconds = None
        self.status = None  # "ok" or why it failed

    def poll(self, timeout):
        rc = self.proc.poll()
        elapsed = time.perf_counter() - self.start
        if rc is None and timeout and elapsed > timeout:
            self.proc.kill()
            rc = self.proc.wait()
            self.status = f"FAILED (timed out after {timeout:.0f} s)"
        if rc is None:
            return False
        self.seconds = elapsed
        if self.status is None:
            self.status = "ok" if rc == 0 else f"FAILED (exit {rc})"
        return True

    def text(self):
        self.output.seek(0)
        text = self.output.read().decode("utf-8", errors="replace")
        self.output.close()
        return text


def lesson_command(lesson, lessons_dir, args):
    script = lessons_dir / lesson.script
    flags = accepted_flags(script)
    cmd = [sys.executable, str(script), "--logdir", str(args.logdir)]
    if args.quick:
        cmd.append("--quick")
    if args.device:
        cmd += ["--device", args.device]
    for flag, value in (("--dataset", args.dataset), ("--data-root", args.data_root)):
        if value is not None and flag in flags:
            cmd += [flag, str(value)]
    if args.checkpoint_dir is None:  # the lessons' own defaults: checkpoints/p26, checkpoints/p27_train, ...
        return cmd
    if "--checkpoint-dir" in flags:
        # one sub-folder per P number, like the defaults: both P26 scripts share one, P27/P30/P31 don't
        cmd += ["--checkpoint-dir", str(Path(args.checkpoint_dir) / lesson.p.lower())]
    elif "--checkpoint" in flags:
        # p32_test's default is "the newest best.pth under checkpoints/": the same rule, in the tour's folder
        found = sorted(Path(args.checkpoint_dir).rglob("best.pth"), key=lambda p: p.stat().st_mtime)
        if found:
            cmd += ["--checkpoint", str(found[-1])]
    return cmd


def tour_command(args, lessons=LESSONS, lessons_dir=LESSONS_DIR, out=None):
    out = out or sys.stdout
    jobs = args.jobs or (min(2, os.cpu_count() or 1) if args.quick else 1)
    timeout = args.timeout if args.timeout is not None else (180 if args.quick else 0)
    env = dict(os.environ, PYTHONIOENCODING="utf-8")  # lessons print Chinese; their output goes to a file
    if jobs > 1 and "OMP_NUM_THREADS" not in env:  # share the cores instead of fighting over them
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // jobs))
    scripts = [x.script for x in lessons]
    needs = {}
    for i, script in enumerate(scripts):
        wanted = NEEDS.get(script, [])
        needs[script] = scripts[:i] if "*" in wanted else [s for s in wanted if s in scripts]

    mode = "quick mode" if args.quick else "full runs (add --quick for a smoke run in seconds each)"
    print(f"Touring {len(lessons)} lessons, {mode}, {jobs} at a time; logs in {shown(args.logdir)}", file=out,
          flush=True)
    t0 = time.perf_counter()
    pending, running, done = list(lessons), [], {}
    printed = 0
    try:
        while pending or running:
            for lesson in list(pending):  # start what may start, in course order
                if len(running) >= jobs:
                    break
                if all(s in done for s in needs[lesson.script]):
                    pending.remove(lesson)
                    if not (lessons_dir / lesson.script).is_file():
                        done[lesson.script] = (lesson, "FAILED (script not found)", 0.0, "", None)
                        continue
                    running.append(Job(lesson, lesson_command(lesson, lessons_dir, args), env))
            for job in list(running):
                if job.poll(timeout):
                    running.remove(job)
                    done[job.lesson.script] = (job.lesson, job.status, job.seconds, job.text(), job.cmd)
            while printed < len(lessons) and lessons[printed].script in done:  # report in course order
                report(*done[lessons[printed].script], verbose=args.verbose, out=out)
                printed += 1
            if running:
                time.sleep(0.05)
    except KeyboardInterrupt:
        for job in running:
            job.proc.kill()
        print("\ntour interrupted", file=out)
        return 130

    total = time.perf_counter() - t0
    failed = [script for script, (_, status, *_rest) in done.items() if status != "ok"]
    failed.sort(key=[x.script for x in lessons].index)
    summary = f"{len(lessons) - len(failed)} of {len(lessons)} lessons ok"
    if failed:
        summary += f", {len(failed)} failed ({', '.join(failed)})"
    print(f"\n{summary} in {total:.0f} s ({jobs} at a time, {os.cpu_count()} CPU cores).", file=out)
    print(f"TensorBoard: tensorboard --logdir {shown(args.logdir)}      then open http://localhost:6006",
          file=out, flush=True)
    return 1 if failed else 0


def report(lesson, status, seconds, text, cmd, *, verbose, out):
    print(f"{lesson.p:<4} {lesson.script:<26} {seconds:6.1f} s  {status}", file=out, flush=True)
    if verbose or status != "ok":
        lines = text.rstrip().splitlines()
        if status != "ok" and not verbose:
            lines = lines[-TAIL_LINES:]
        for line in lines:
            print(f"       | {line}", file=out)
        if status != "ok" and cmd:
            print(f"       rerun: python {' '.join([shown(cmd[1]), *cmd[2:]])}", file=out)
        out.flush()


# ---------------------------------------------------------------- command line

def main(argv=None, lessons=LESSONS, lessons_dir=LESSONS_DIR):
    for stream in (sys.stdout, sys.stderr):  # a console that cannot show Chinese gets '?' instead of a crash
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    p = argparse.ArgumentParser(prog="python -m lessons", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", metavar="{list,tour,run,table}")
    sub.add_parser("list", help="list every lesson (the default)")

    t = sub.add_parser("tour", help="run every lesson in course order and summarise")
    t.add_argument("--quick", action="store_true", help="each lesson's smoke run (seconds each); the tour's point")
    t.add_argument("--logdir", type=Path, default=LOG_DIR, help="TensorBoard folder for all lessons (default: logs/)")
    t.add_argument("--checkpoint-dir", type=Path, help="checkpoints go in DIR/p26, DIR/p27, ... and P32 tests the "
                                                       "newest best.pth there (default: the lessons' own, "
                                                       "checkpoints/)")
    t.add_argument("--dataset", choices=["auto", "cifar10", "synthetic", "folder"],
                   help="passed to the lessons that load data (default: theirs, auto)")
    t.add_argument("--data-root", type=Path, help="passed to the lessons that load data")
    t.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="passed to every lesson")
    t.add_argument("--jobs", "-j", type=int, help="lessons at a time (default: 2 with --quick, else 1)")
    t.add_argument("--timeout", type=float, help="seconds before a lesson counts as hung and is stopped "
                                                 "(default: 180 with --quick, else none)")
    t.add_argument("--verbose", "-v", action="store_true", help="show every lesson's output, not only failures'")

    r = sub.add_parser("run", help="run one lesson by number (27, P27) or script name, with its own flags")
    r.add_argument("lesson", help="27, P27, or a script name such as p23_nn_loss_network")
    r.add_argument("args", nargs=argparse.REMAINDER, help="the lesson's own flags, after --")

    tb = sub.add_parser("table", help="print README.md's lesson table, generated from catalog.py")
    tb.add_argument("--write", action="store_true", help="rewrite the table between the README's markers")
    tb.add_argument("--check", action="store_true", help="exit 1 if the README's table is out of date")
    tb.add_argument("--readme", type=Path, default=README, help=argparse.SUPPRESS)

    args = p.parse_args(argv)
    if args.command in (None, "list"):
        list_lessons(lessons, lessons_dir)
        return 0
    if args.command == "tour":
        if args.jobs is not None and args.jobs < 1:
            p.error("--jobs must be at least 1")
        return tour_command(args, lessons, lessons_dir)
    if args.command == "run":
        return run_command(args, lessons, lessons_dir)
    return table_command(args, lessons)


if __name__ == "__main__":
    sys.exit(main())
