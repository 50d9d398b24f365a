"""`python -m lessons tour` and `run`: every lesson as its own process, exactly as a learner runs it.

The tour starts lessons in course order, a few at a time, and reports them in course order. A lesson
that reads what an earlier one wrote (NEEDS) waits for it. The flags each lesson takes come from the
catalog, so this module imports no torch and the tour starts at once.
"""
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kit.catalog import LESSONS
from kit.common import DATA_DIR, REPO, SYNTHETIC_FALLBACK

LESSONS_DIR = REPO / "lessons"
TAIL_LINES = 15  # of a failed lesson's output

# p26_model_load reads p26_model_save's files; p32_test picks the newest checkpoint, which the
# training lessons write: it waits for all of them, so "newest" is the same on every tour.
NEEDS = {"p26_model_load.py": ["p26_model_save.py"], "p32_test.py": ["*"]}


def find_lessons(spec, lessons=LESSONS):
    """'27', 'P27', 'p27' -> every script of P27; 'p23_nn_loss' or 'p23_nn_loss.py' -> that script."""
    number = re.fullmatch(r"[pP]?(\d+)", spec.strip())
    if number:
        return [x for x in lessons if x.p == f"P{int(number.group(1))}"]
    stem = spec.strip().removesuffix(".py")
    return [x for x in lessons if x.script.removesuffix(".py") == stem]


def shown(path):
    """A path as short as it can be while still exact from the current folder."""
    path = Path(path).resolve()
    try:
        text = str(path.relative_to(Path.cwd()))
    except ValueError:
        text = str(path)
    return f'"{text}"' if " " in text else text


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
        if len(chosen) > 1:
            print(f"==> {lesson.p} {lesson.title}: python {shown(script)} {' '.join(extra)}".rstrip(), flush=True)
        try:
            rc = subprocess.call([sys.executable, str(script), *extra])
        except KeyboardInterrupt:  # the lesson got the Ctrl-C too and saves what it has
            return 130
        if rc:
            return rc
    return 0


class Job:
    """One lesson running in the background, its output kept in a temp file."""

    def __init__(self, lesson, cmd, env):
        self.lesson, self.cmd = lesson, cmd
        self.output = tempfile.TemporaryFile()
        self.start = time.perf_counter()
        self.proc = subprocess.Popen(cmd, stdout=self.output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env)
        self.seconds = self.status = None  # status: "ok" or why it failed

    def poll(self, timeout):
        rc = self.proc.poll()
        elapsed = time.perf_counter() - self.start
        if rc is None and timeout and elapsed > timeout:
            self.proc.kill()
            rc = self.proc.wait()
            self.status = f"FAILED (timed out after {timeout:g} s)"
        if rc is None:
            return False
        self.seconds = elapsed
        self.status = self.status or ("ok" if rc == 0 else f"FAILED (exit {rc})")
        self.output.seek(0)
        self.text = self.output.read().decode("utf-8", errors="replace")
        self.output.close()
        return True


def lesson_command(lesson, lessons_dir, args):
    cmd = [sys.executable, str(lessons_dir / lesson.script), "--logdir", str(args.logdir)]
    if args.quick:
        cmd.append("--quick")
    if args.device:
        cmd += ["--device", args.device]
    for flag, value in (("--dataset", args.dataset), ("--data-root", args.data_root)):
        # --data-root goes with --dataset: P7 and P11 take a --data-root of ants and bees, not of CIFAR-10
        if value is not None and flag in lesson.flags and "--dataset" in lesson.flags:
            cmd += [flag, str(value)]
    if args.checkpoint_dir is None:  # the lessons' own defaults: checkpoints/p26, checkpoints/p27_train, ...
        return cmd
    if "--checkpoint-dir" in lesson.flags:
        # one sub-folder per P number, like the defaults: both P26 scripts share one, P27/P30/P31 don't
        cmd += ["--checkpoint-dir", str(Path(args.checkpoint_dir) / lesson.p.lower())]
    elif "--checkpoint" in lesson.flags:
        # p32_test's default is "the newest best.pth under checkpoints/": the same rule, in the tour's folder
        found = sorted(Path(args.checkpoint_dir).rglob("best.pth"), key=lambda p: p.stat().st_mtime)
        if found:
            cmd += ["--checkpoint", str(found[-1])]
    return cmd


def expected_data(args):
    """What the data lessons will use, said before the tour starts."""
    root = Path(args.data_root) if args.data_root else DATA_DIR
    if args.dataset in ("synthetic", "folder"):
        return {"synthetic": "the built-in synthetic shapes (--dataset synthetic)",
                "folder": f"your image folders in {root}"}[args.dataset]
    if (root / "cifar-10-batches-py").is_dir():
        return f"CIFAR-10 from {root}"
    if (root / "cifar-10-python.tar.gz").is_file():
        return f"CIFAR-10 from {root} (the first lesson unpacks cifar-10-python.tar.gz there)"
    return (f"CIFAR-10 is not in {root}: the first lesson downloads it (170 MB); "
            "without a network every lesson uses the built-in synthetic shapes instead")


def tour_command(args, lessons=LESSONS, lessons_dir=LESSONS_DIR, out=None):
    out = out or sys.stdout
    jobs = args.jobs or (min(2, os.cpu_count() or 1) if args.quick else 1)
    timeout = args.timeout if args.timeout is not None else (180 if args.quick else 0)
    env = dict(os.environ, PYTHONIOENCODING="utf-8")  # lessons print Chinese; their output goes to a file
    if jobs > 1 and "OMP_NUM_THREADS" not in env:  # share the cores instead of fighting over them
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // jobs))
    scripts = [x.script for x in lessons]
    needs = {s: (scripts[:i] if "*" in NEEDS.get(s, []) else [n for n in NEEDS.get(s, []) if n in scripts])
             for i, s in enumerate(scripts)}

    mode = "quick mode" if args.quick else "full runs (add --quick for a smoke run in seconds each)"
    print(f"Touring {len(lessons)} lessons, {mode}, {jobs} at a time; logs in {Path(args.logdir).resolve()}",
          file=out)
    print(f"Data: {expected_data(args)}", file=out, flush=True)
    t0 = last_output = time.perf_counter()
    pending, running, done = list(lessons), [], {}
    printed, printed_any = 0, False  # the first lessons are named as soon as they start, not after 5 s
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
                    done[job.lesson.script] = (job.lesson, job.status, job.seconds, job.text, job.cmd)
            while printed < len(lessons) and lessons[printed].script in done:  # report in course order
                report(*done[lessons[printed].script], verbose=args.verbose, out=out)
                printed, printed_any, last_output = printed + 1, True, time.perf_counter()
            if running and (not printed_any or time.perf_counter() - last_output > 5):  # never silent for long
                names = ", ".join(f"{j.lesson.p} {j.lesson.script}" for j in running)
                when = f"{time.perf_counter() - t0:.0f} s so far" if printed_any else "a line for each as it ends"
                print(f"     ... running {names} ({when})", file=out, flush=True)
                printed_any, last_output = True, time.perf_counter()
            if running:
                time.sleep(0.05)
    except KeyboardInterrupt:
        for job in running:
            job.proc.kill()
        print("\ntour interrupted", file=out)
        return 130

    failed = [s for s in scripts if done[s][1] != "ok"]
    summary = f"{len(lessons) - len(failed)} of {len(lessons)} lessons ok"
    if failed:
        summary += f", {len(failed)} failed ({', '.join(failed)})"
    print(f"\n{summary} in {time.perf_counter() - t0:.0f} s ({jobs} at a time, {os.cpu_count()} CPU cores).",
          file=out)
    fell_back = [done[s][0].p for s in scripts if SYNTHETIC_FALLBACK in done[s][3]]
    if fell_back:
        lessons_ = f"{len(fell_back)} lesson{'s' if len(fell_back) > 1 else ''} ({', '.join(fell_back)})"
        print(f"Data used: the synthetic shapes, not CIFAR-10, in {lessons_}: "
              f"CIFAR-10 is not in {args.data_root or DATA_DIR} and could not be downloaded "
              "(their TensorBoard runs end in -synthetic)", file=out)
    else:
        print(f"Data used: {expected_data(args)}", file=out)
    logdir = str(Path(args.logdir).resolve())
    print(f'TensorBoard: tensorboard --logdir "{logdir}"      then open http://localhost:6006', file=out, flush=True)
    return 1 if failed else 0


def report(lesson, status, seconds, text, cmd, *, verbose, out):
    print(f"{lesson.p:<4} {lesson.script:<28} {seconds:6.1f} s  {status}", file=out, flush=True)
    if verbose or status != "ok":
        lines = text.rstrip().splitlines()
        if status != "ok" and not verbose:
            lines = lines[-TAIL_LINES:]
        for line in lines:
            print(f"       | {line}", file=out)
        if status != "ok" and cmd:
            print(f"       rerun: python {' '.join([shown(cmd[1]), *cmd[2:]])}", file=out)
        out.flush()
