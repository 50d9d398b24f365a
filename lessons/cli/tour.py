"""`python -m lessons tour`: every lesson as its own process, exactly as a learner runs it, a few at a time,
reported in course order. The flags each takes come from the catalog: no torch here, the tour starts at once."""
import functools
import os
import sys
import tempfile
import time
from pathlib import Path
from subprocess import DEVNULL, STDOUT, Popen

from kit import board
from cli.catalog import LESSONS
from kit.errors import shown
from kit.flags import DATA_DIR, REPO
from kit.i18n import N_, _

SYNTHETIC_FALLBACK = N_("using the built-in synthetic data set instead")  # kit.datasets' words (tests check)
LESSONS_DIR = REPO / "lessons"
TAIL_LINES = 15  # of a failed lesson's output
# who waits for whom: p26_model_load reads p26_model_save's files; p32_test the newest best.pth of all before it
NEEDS = {"p26_model_load.py": "p26_model_save.py", "p32_test.py": "*"}


def quoted(path):
    """A path as short as it can be while still exact from the current folder, quoted for a shell."""
    text = shown(path, relative=True)
    return f'"{text}"' if " " in text else text


class Job:
    """One lesson running in the background, its output kept in a temp file."""

    def __init__(self, lesson, cmd, env):
        self.lesson, self.cmd, self.output, self.start = lesson, cmd, tempfile.TemporaryFile(), time.perf_counter()
        self.status = None if Path(cmd[1]).is_file() else _("FAILED (script not found)")  # Python says so, exit 2
        self.proc = Popen(cmd, stdout=self.output, stderr=STDOUT, stdin=DEVNULL, env=env)

    def done(self, timeout):
        """Whether the lesson has ended (stopped after `timeout` s); then .status, .seconds and .text are set."""
        self.seconds, rc = time.perf_counter() - self.start, self.proc.poll()
        if rc is None and timeout and self.seconds > timeout:
            self.proc.kill()
            rc, self.status = self.proc.wait(), _("FAILED (timed out after {timeout:g} s)").format(timeout=timeout)
        if rc is None:
            return False
        self.status = self.status or (N_("ok") if rc == 0 else _("FAILED (exit {rc})").format(rc=rc))
        self.output.seek(0)
        self.text = self.output.read().decode("utf-8", errors="replace")
        self.output.close()
        return True


def lesson_command(lesson, lessons_dir, args):
    """python <script> --logdir DIR, and those of the tour's other flags that the catalog says it takes."""
    given = {"--quick": args.quick, "--device": args.device, "--dataset": args.dataset,
             # --data-root goes with --dataset: P7 and P11 take a --data-root of ants and bees, not of CIFAR-10
             "--data-root": args.data_root if "--dataset" in lesson.flags else None,
             # one sub-folder per P number, as the lessons' defaults: both P26 scripts share one
             "--checkpoint-dir": args.checkpoint_dir and Path(args.checkpoint_dir) / lesson.p.lower(),
             # p32_test finds the newest best.pth in the tour's folder itself (p26_model_load: in its own)
             "--checkpoint": None if "--checkpoint-dir" in lesson.flags else args.checkpoint_dir}
    cmd = [sys.executable, str(lessons_dir / lesson.script), "--logdir", str(args.logdir)]
    for flag, value in given.items():
        if flag in lesson.flags and value not in (None, False):
            cmd += [flag] if value is True else [flag, str(value)]
    return cmd


def expected_data(args):
    """What the data lessons will use, said before the tour starts."""
    root = Path(args.data_root or DATA_DIR)
    if args.dataset in ("synthetic", "folder"):
        return {"synthetic": _("the built-in synthetic shapes (--dataset synthetic)"),
                "folder": _("your image folders in {root}").format(root=shown(root))}[args.dataset]
    if (root / "cifar-10-batches-py").is_dir():
        return _("CIFAR-10 from {root}").format(root=shown(root))
    if (root / "cifar-10-python.tar.gz").is_file():
        return _("CIFAR-10 from {root} (the first lesson unpacks cifar-10-python.tar.gz there)").format(
            root=shown(root))
    return _("CIFAR-10 is not in {root}: the first lesson downloads it (170 MB); "
             "without a network every lesson uses the built-in synthetic shapes instead").format(root=shown(root))


def tour_command(args, lessons=LESSONS, lessons_dir=LESSONS_DIR, out=None):
    say = functools.partial(print, file=out or sys.stdout, flush=True)
    jobs = args.jobs or (min(2, os.cpu_count() or 1) if args.quick else 1)
    timeout = args.timeout if args.timeout is not None else (180 if args.quick else 0)
    env = dict(os.environ, PYTHONIOENCODING="utf-8")  # lessons print Chinese; their output goes to a file
    if jobs > 1 and "OMP_NUM_THREADS" not in env:  # share the cores instead of fighting over them
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // jobs))
    args.logdir = Path(board.run_dir("tour", args))  # logs/tour/<time>/: TensorBoard ticks no run past 40 (3 tours)
    scripts, logdir = [x.script for x in lessons], shown(args.logdir.resolve())
    needs = {s: [n for n in scripts[:i] if NEEDS.get(s) in ("*", n)] for i, s in enumerate(scripts)}
    pending, running, done, printed = list(lessons), [], {}, 0
    mode = _("quick mode") if args.quick else _("full runs (add --quick for a smoke run in seconds each)")
    say(_("Touring {n} lessons, {mode}, {jobs} at a time; logs in {logdir}").format(
        n=len(lessons), mode=mode, jobs=jobs, logdir=logdir))
    say(_("Data: {data}").format(data=expected_data(args)))
    t0, last_said = time.perf_counter(), None  # the first lessons are named as soon as they start
    try:
        while pending or running:
            for lesson in list(pending):  # start what may start, in course order
                if len(running) < jobs and all(s in done for s in needs[lesson.script]):
                    pending.remove(lesson)
                    running.append(Job(lesson, lesson_command(lesson, lessons_dir, args), env))
            for job in [j for j in running if j.done(timeout)]:
                running.remove(job)
                done[job.lesson.script] = job
            while printed < len(lessons) and lessons[printed].script in done:  # report in course order
                report(done[lessons[printed].script], args.verbose, say)
                printed, last_said = printed + 1, time.perf_counter()
            if running and (last_said is None or time.perf_counter() - last_said > 5):  # never silent for long
                when = (_("{s:.0f} s so far").format(s=time.perf_counter() - t0) if last_said
                        else _("a line for each as it ends"))
                say("     ... " + _("running {which} ({when})").format(
                    which=", ".join(f"{j.lesson.p} {j.lesson.script}" for j in running), when=when))
                last_said = time.perf_counter()
            time.sleep(0.05)
    finally:  # after a Ctrl-C (which the lessons got too) or a SIGTERM, no lesson is left running
        for job in running:
            job.proc.kill()

    failed = [s for s in scripts if done[s].status != "ok"]
    summary = _("{ok} of {n} lessons ok").format(ok=len(lessons) - len(failed), n=len(lessons))
    summary += _(", {n} failed ({which})").format(n=len(failed), which=", ".join(failed)) if failed else ""
    say("\n" + _("{summary} in {s:.0f} s ({jobs} at a time, {cores} CPU cores).").format(
        summary=summary, s=time.perf_counter() - t0, jobs=jobs, cores=os.cpu_count()))
    words = (SYNTHETIC_FALLBACK, _(SYNTHETIC_FALLBACK))  # in English, or in the lessons' language
    fell_back = [done[s].lesson.p for s in scripts if any(w in done[s].text for w in words)]
    if fell_back:
        n, which, root = len(fell_back), ", ".join(fell_back), shown(args.data_root or DATA_DIR)
        say(_("Data used: the synthetic shapes, not CIFAR-10, in {n} {lessons} ({which}): CIFAR-10 is not in {root} "
              "and could not be downloaded (their TensorBoard runs end in -synthetic)").format(
            n=n, lessons=_("lessons") if n > 1 else _("lesson"), which=which, root=root))
    else:
        say(_("Data used: {data}").format(data=expected_data(args)))
    say(_('TensorBoard: tensorboard --logdir "{logdir}"      then open http://localhost:6006').format(logdir=logdir))
    return 1 if failed else 0


def report(job, verbose, say):
    say(f"{job.lesson.p:<4} {job.lesson.script:<28} {job.seconds:6.1f} s  {_(job.status)}")
    lines = job.text.rstrip().splitlines() if verbose or job.status != "ok" else []
    for line in lines if verbose else lines[-TAIL_LINES:]:
        say(f"       | {line}")
    if job.status != "ok":
        rerun = [quoted(job.cmd[1]), *(f'"{a}"' if " " in a else a for a in job.cmd[2:])]
        say("       " + _("rerun: python {command}").format(command=" ".join(rerun)))
