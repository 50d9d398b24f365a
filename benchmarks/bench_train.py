"""Training recipes side by side: same machine, same data, one run, one table.

    python benchmarks/bench_train.py --data-root ../shared/datasets/cifar10-jpg            # full (~50 min on 2 cores)
    python benchmarks/bench_train.py --data-root ../shared/datasets/cifar10-jpg --short    # a quick look (~4 min)
    python benchmarks/bench_train.py --smoke          # seconds, on --quick synthetic data: does the script work?
    bash benchmarks/gpu_check.sh [--data-root DIR | --smoke]                               # --suite gpu, <= 5 min

--suite cpu (the default): the course's recipe against p33_train_fast.py
  course      p27_train.py with its defaults (the course's train.py: SGD lr 0.01, batch 64), 30 epochs
  p33 short   p33_train_fast.py --epochs 1   (the course's 30-epoch accuracy in 1/20 of its time)
  p33 long    p33_train_fast.py --epochs 4   (its default: 72% within 3 minutes on 2 CPU cores)
--suite gpu: P31 (the course's recipe, --num-workers 0 and 4), P33 in fp32 and bf16 with and without
  --compile, P34 through torchrun --nproc_per_node=1; within --budget seconds (rows past it: "not run").
  With --smoke it runs on the CPU, on --quick synthetic data, without the bf16 and --compile rows.

Each recipe runs as its own process (`python lessons/<script>.py ...`), exactly as a learner runs it.
The table is read from what the scripts log: each `test_accuracy` point's wall time in their
TensorBoard event files, measured from the moment the process was started (so Python start-up and
data loading count). Peak memory is the process's peak resident set (host RAM), from the OS.
The one-off decoding of JPEG folders into p33's tensor cache is done first and reported on its own.
Progress goes to stderr; the header and the table to stdout.

Not part of the test suite: speed targets live here, not in timed tests. Numbers depend on the
machine and on whatever else runs on it; the script prints both (hardware and load average).
"""
import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LESSONS = REPO / "lessons"
sys.path.insert(0, str(LESSONS))  # kit, as the lessons import it
THRESHOLDS = (0.55, 0.60, 0.667, 0.72)
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=1"]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def recipes(args):
    """[(name, launcher, script, extra flags, time cap in seconds)]"""
    if args.suite == "gpu":
        # 2 epochs where s/epoch is the time between the two test passes; P33: its default 4, for its accuracy
        p31, p33, p34 = ["--epochs", "2"], [], ["--epochs", "2", "--num-workers", "4"]
        if args.smoke:  # one quick epoch each: s/epoch is then the whole run, start-up included
            p31, p33, p34 = ["--epochs", "1"], ["--epochs", "1"], ["--epochs", "1", "--max-steps", "10"]
        rows = [("P33 fp32", [], "p33_train_fast.py", p33 + ["--no-bf16"], 45),
                ("P33 bf16", [], "p33_train_fast.py", p33 + ["--bf16"], 45),
                ("P31 course, --num-workers 4", [], "p31_train_gpu_2.py", p31 + ["--num-workers", "4"], 60),
                ("P31 course, --num-workers 0", [], "p31_train_gpu_2.py", p31 + ["--num-workers", "0"], 75),
                ("P34 torchrun, 1 GPU", TORCHRUN, "p34_train_ddp.py", p34, 60),
                ("P33 bf16 + compile", [], "p33_train_fast.py", p33 + ["--bf16", "--compile"], 90),
                ("P33 fp32 + compile", [], "p33_train_fast.py", p33 + ["--no-bf16", "--compile"], 90)]
        if args.smoke:  # on a CPU, no time caps: bf16 is 5x slower there, and compiling takes minutes
            rows = [(name.replace("1 GPU", "1 process"), launcher, script, extra, None)
                    for name, launcher, script, extra, _ in rows if "bf16" not in name and "compile" not in name]
        return rows
    if args.smoke:
        return [("course", [], "p27_train.py", ["--epochs", "2"], None),
                ("p33", [], "p33_train_fast.py", ["--epochs", "2"], None)]
    if args.short:
        return [("course", [], "p27_train.py", ["--epochs", "2"], None),
                ("p33 short", [], "p33_train_fast.py", ["--epochs", "1"], None)]
    return [("course", [], "p27_train.py", ["--epochs", str(args.course_epochs)], None),
            ("p33 short", [], "p33_train_fast.py", ["--epochs", "1"], None),
            ("p33 long", [], "p33_train_fast.py", ["--epochs", "4"], None)]


def hardware():
    import torch

    gpu = "no GPU"
    if torch.cuda.is_available():
        gpu = f"GPU {torch.cuda.get_device_name(0)} (CUDA {torch.version.cuda})"
    cpu = platform.processor() or platform.machine()
    try:  # Linux: the CPU's marketing name
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{gpu}; {cpu}, {os.cpu_count()} logical CPUs; {platform.system()}; torch {torch.__version__}"


def load_average():
    try:
        return "load average %.1f %.1f %.1f" % os.getloadavg()
    except (AttributeError, OSError):  # Windows
        return "load average n/a"


def run_recipe(launcher, script, extra, common_args, workdir, cap):
    """Run one lesson; return (test_accuracy points [(seconds since start, epoch, acc)], peak RSS MiB, rc, note)."""
    logdir = workdir / "logs"
    cmd = [*(launcher or [sys.executable]), str(LESSONS / script), *common_args, *extra,
           "--logdir", str(logdir), "--checkpoint-dir", str(workdir / "ck")]
    log("$ " + " ".join(cmd))
    t0 = time.time()
    with open(workdir / "stdout.txt", "w") as out:
        # its own process group: a row over its time cap is killed with everything it started (torchrun's workers)
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True)
        timer = threading.Timer(cap, os.killpg, (proc.pid, signal.SIGKILL)) if cap else None
        if timer:
            timer.start()
        peak_mib = None
        if hasattr(os, "wait4"):  # the peak memory of this child (and its finished children), from the kernel
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            peak_mib = usage.ru_maxrss / (1024 if sys.platform != "darwin" else 1024 * 1024)
        else:
            proc.wait()
        if timer:
            timer.cancel()
    note = f"stopped at its {cap:.0f} s cap" if proc.returncode == -signal.SIGKILL else ""
    points = []
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    for events in sorted(logdir.rglob("events.out.tfevents.*")):
        acc = EventAccumulator(str(events.parent), size_guidance={"scalars": 0})
        acc.Reload()
        if "test_accuracy" in acc.Tags()["scalars"]:
            points = [(e.wall_time - t0, e.step, e.value) for e in acc.Scalars("test_accuracy")]
    return points, peak_mib, proc.returncode, note


def summarise(name, points, peak_mib, n_train, note=""):
    times = [t for t, _, _ in points]
    per_epoch = statistics.median([b - a for a, b in zip(times, times[1:])]) if len(times) > 1 else (
        times[0] if times else float("nan"))

    def time_to(x):
        hit = next((t for t, _, acc in points if acc >= x), None)
        return f"{hit:.0f} s (ep {next(e for t, e, a in points if a >= x)})" if hit is not None else "-"

    final = points[-1][2] if points else float("nan")
    best = max((a for _, _, a in points), default=float("nan"))
    return [name, f"{len(points)}", f"{per_epoch:.1f}", f"{n_train / per_epoch:,.0f}",
            *[time_to(x) for x in THRESHOLDS], f"{final:.2%}", f"{best:.2%}",
            f"{peak_mib:,.0f} MiB" if peak_mib else "n/a", f"{times[-1]:.0f} s" if times else "-", note]


def data_source(args):
    if args.smoke:
        return "the synthetic stand-in, --quick (2,048 train / 512 test images): checks the script, not the speed"
    if args.dataset == "folder":
        return f"CIFAR-10 as JPEG folders in {args.data_root.resolve()}"
    return f"torchvision's CIFAR-10 files in {args.data_root.resolve()}"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--suite", default="cpu", choices=["cpu", "gpu"], help="which rows (default: cpu)")
    p.add_argument("--data-root", type=Path, default=REPO.parent / "shared" / "datasets" / "cifar10-jpg",
                   help="ROOT/train/<class>/ and ROOT/test/<class>/ (default: ../shared/datasets/cifar10-jpg)")
    p.add_argument("--dataset", default="folder", choices=["folder", "cifar10"],
                   help="folder (JPEGs, default) or cifar10 (torchvision's files under --data-root)")
    p.add_argument("--short", action="store_true", help="the course's recipe for 2 epochs, p33 for 1: a quick look")
    p.add_argument("--smoke", action="store_true", help="--quick runs on synthetic data: checks the script only")
    p.add_argument("--course-epochs", type=int, default=30, help="epochs of the course recipe (default: 30)")
    p.add_argument("--budget", type=float, default=None, help="seconds for all rows; the rest are not run")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    args = p.parse_args(argv)
    started = time.monotonic()

    from kit import datasets, errors, fast_data, flags

    if args.smoke:
        common_args = ["--dataset", "synthetic", "--quick"]
    else:
        if not (args.data_root / "train").is_dir() and args.dataset == "folder":
            sys.exit(f"error: no {args.data_root / 'train'} (pass --data-root DIR with DIR/train/<class>/*.jpg)")
        common_args = ["--dataset", args.dataset, "--data-root", str(args.data_root)]
    common_args += ["--device", "cpu" if args.smoke and args.suite == "gpu" else args.device]

    print(f"hardware: {hardware()}")
    print(f"data: {data_source(args)}")
    print(f"before: {load_average()}", flush=True)
    t = time.perf_counter()
    try:
        data_args = flags.parser("").parse_args(common_args[:-2])
        x, _ = fast_data.as_tensors(datasets.CIFAR10(data_args, train=True))  # decode once into p33's cache
        fast_data.as_tensors(datasets.CIFAR10(data_args, train=False))
    except errors.LessonError as e:
        sys.exit(f"error: {e}")
    n_train = len(x)
    log(f"data: {data_args.dataset}, {n_train:,} training images; cache ready in {time.perf_counter() - t:.1f} s")

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_train-") as tmp:
        for i, (name, launcher, script, extra, cap) in enumerate(recipes(args)):
            left = None if args.budget is None else args.budget - (time.monotonic() - started)
            if left is not None and left < 15:
                rows.append([name] + ["-"] * (len(THRESHOLDS) + 7) + [f"not run: past the {args.budget:.0f} s budget"])
                continue
            workdir = Path(tmp) / str(i)
            workdir.mkdir()
            cap = min((c for c in (cap, left) if c is not None), default=None)
            points, peak, rc, note = run_recipe(launcher, script, extra, common_args, workdir, cap)
            if rc != 0 or not points:
                note = note or f"exit code {rc}"
                log(f"{name}: exit code {rc}, {len(points)} test_accuracy points; its output ends with:")
                log("".join((workdir / "stdout.txt").read_text().splitlines(keepends=True)[-10:]))
            for t_, epoch, acc in points:
                log(f"  {name}: epoch {epoch} test_accuracy {acc:.4f} at {t_:.1f} s")
            rows.append(summarise(name, points, peak, n_train, note))
    print(f"after: {load_average()}; {time.monotonic() - started:.0f} s in all\n")

    head = ["recipe", "epochs", "s/epoch", "img/s", *[f"to {x:.1%}".replace(".0%", "%") for x in THRESHOLDS],
            "final acc", "best acc", "peak RSS", "total", "note"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print("\ns/epoch includes the per-epoch test pass (for a 1-epoch run: from process start, so start-up too);"
          "\ntimes to accuracy count from process start.")
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
