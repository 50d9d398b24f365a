"""The course's training recipe vs p33_train_fast.py: same machine, same data, one run, one table.

    python benchmarks/bench_train.py --data-root ../shared/datasets/cifar10-jpg            # full (~50 min on 2 cores)
    python benchmarks/bench_train.py --data-root ../shared/datasets/cifar10-jpg --short    # a quick look (~4 min)
    python benchmarks/bench_train.py --smoke          # seconds, on --quick synthetic data: does the script work?

Each recipe runs as its own process (`python lessons/<script>.py ...`), exactly as a learner runs it:
  course      p27_train.py with its defaults (the course's train.py: SGD lr 0.01, batch 64), 30 epochs
  p33 short   p33_train_fast.py --epochs 1   (the course's 30-epoch accuracy in 1/20 of its time)
  p33 long    p33_train_fast.py --epochs 4   (its default: 72% within 3 minutes on 2 CPU cores)
The table is read from what the scripts log: each `test_accuracy` point's wall time in their
TensorBoard event files, measured from the moment the process was started (so Python start-up and
data loading count). Peak memory is the process's peak resident set (host RAM), from the OS.
The one-off decoding of JPEG folders into p33's tensor cache is done first and reported on its own.

Not part of the test suite: speed targets live here, not in timed tests. Numbers depend on the
machine and on whatever else runs on it; the script prints both (hardware and load average).
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LESSONS = REPO / "lessons"
sys.path.insert(0, str(LESSONS))
THRESHOLDS = (0.55, 0.60, 0.667, 0.72)


def recipes(args):
    if args.smoke:
        return [("course", "p27_train.py", ["--epochs", "2"]), ("p33", "p33_train_fast.py", ["--epochs", "2"])]
    if args.short:
        return [("course", "p27_train.py", ["--epochs", "2"]), ("p33 short", "p33_train_fast.py", ["--epochs", "1"])]
    return [("course", "p27_train.py", ["--epochs", str(args.course_epochs)]),
            ("p33 short", "p33_train_fast.py", ["--epochs", "1"]),
            ("p33 long", "p33_train_fast.py", ["--epochs", "4"])]


def hardware():
    import torch

    if torch.cuda.is_available():
        gpu = f"GPU {torch.cuda.get_device_name(0)}"
    else:
        gpu = "no GPU"
    cpu = platform.processor() or platform.machine()
    try:  # Linux: the CPU's marketing name
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} logical CPUs, {gpu}; {platform.system()}; torch {torch.__version__}"


def load_average():
    try:
        return "load average %.1f %.1f %.1f" % os.getloadavg()
    except (AttributeError, OSError):  # Windows
        return "load average n/a"


def run_recipe(script, extra, common_args, workdir):
    """Run one lesson; return (test_accuracy points [(seconds since start, epoch, acc)], peak RSS MiB, rc)."""
    logdir = workdir / "logs"
    cmd = [sys.executable, str(LESSONS / script), *common_args, *extra,
           "--logdir", str(logdir), "--checkpoint-dir", str(workdir / "ck")]
    print("$ " + " ".join(cmd), flush=True)
    t0 = time.time()
    with open(workdir / "stdout.txt", "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
        peak_mib = None
        if hasattr(os, "wait4"):  # the peak memory of this one child, from the kernel
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            peak_mib = usage.ru_maxrss / (1024 if sys.platform != "darwin" else 1024 * 1024)
        else:
            proc.wait()
    points = []
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    for events in sorted(logdir.rglob("events.out.tfevents.*")):
        acc = EventAccumulator(str(events.parent), size_guidance={"scalars": 0})
        acc.Reload()
        if "test_accuracy" in acc.Tags()["scalars"]:
            points = [(e.wall_time - t0, e.step, e.value) for e in acc.Scalars("test_accuracy")]
    return points, peak_mib, proc.returncode


def summarise(name, points, peak_mib, n_train):
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
            f"{peak_mib:,.0f} MiB" if peak_mib else "n/a", f"{times[-1]:.0f} s" if times else "-"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-root", type=Path, default=REPO.parent / "shared" / "datasets" / "cifar10-jpg",
                   help="ROOT/train/<class>/ and ROOT/test/<class>/ (default: ../shared/datasets/cifar10-jpg)")
    p.add_argument("--dataset", default="folder", choices=["folder", "cifar10"],
                   help="folder (JPEGs, default) or cifar10 (torchvision's files under --data-root)")
    p.add_argument("--short", action="store_true", help="the course's recipe for 2 epochs, p33 for 1: a quick look")
    p.add_argument("--smoke", action="store_true", help="--quick runs on synthetic data: checks the script only")
    p.add_argument("--course-epochs", type=int, default=30, help="epochs of the course recipe (default: 30)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    args = p.parse_args(argv)

    from kit import common
    import p33_train_fast
    from kit.data import load_data

    if args.smoke:
        common_args = ["--dataset", "synthetic", "--quick"]
    else:
        if not (args.data_root / "train").is_dir() and args.dataset == "folder":
            sys.exit(f"error: no {args.data_root / 'train'} (pass --data-root DIR with DIR/train/<class>/*.jpg)")
        common_args = ["--dataset", args.dataset, "--data-root", str(args.data_root)]
    common_args += ["--device", args.device]

    print(f"hardware: {hardware()}")
    print(f"before: {load_average()}", flush=True)
    data_args = common.parser("").parse_args(common_args[:-2])
    t = time.perf_counter()
    data = load_data(data_args)
    x, _ = p33_train_fast.as_tensors(data.train_set, p33_train_fast.CACHE_DIR)  # decode once, if not cached yet
    p33_train_fast.as_tensors(data.test_set, p33_train_fast.CACHE_DIR)
    n_train = len(x)
    print(f"data: {data.name}, {n_train:,} training images; tensor cache ready in {time.perf_counter() - t:.1f} s")

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_train-") as tmp:
        for i, (name, script, extra) in enumerate(recipes(args)):
            if not (LESSONS / script).is_file():
                print(f"skipping {name}: {script} is not there yet")
                continue
            workdir = Path(tmp) / str(i)
            workdir.mkdir()
            points, peak, rc = run_recipe(script, extra, common_args, workdir)
            if rc != 0 or not points:
                print(f"{name}: exit code {rc}, {len(points)} test_accuracy points; its output ends with:")
                print("".join((workdir / "stdout.txt").read_text().splitlines(keepends=True)[-10:]))
            for t_, epoch, acc in points:
                print(f"  {name}: epoch {epoch} test_accuracy {acc:.4f} at {t_:.1f} s", flush=True)
            rows.append(summarise(name, points, peak, n_train))
    print(f"after: {load_average()}")

    head = ["recipe", "epochs", "s/epoch", "img/s", *[f"to {x:.1%}".replace(".0%", "%") for x in THRESHOLDS],
            "final acc", "best acc", "peak RSS", "total"]
    print(f"\n{hardware()}\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print("\ns/epoch includes the per-epoch test pass (for a 1-epoch run: from process start, so start-up too);"
          "\ntimes to accuracy count from process start.")
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
