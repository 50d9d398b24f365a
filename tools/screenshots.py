"""Screenshots of TensorBoard for the README, taken from the real server over quick-run logs.

    python tools/screenshots.py                  # quick runs of P18, P22, P27 in a temp folder -> docs/img/*.png
    python tools/screenshots.py --logdir logs    # or the logs you already have (e.g. after the tour)

Each picture is one lesson's folder (logs/<lesson>) served by `tensorboard --logdir ...` on a free
loopback port and photographed by headless Chromium (Debian/Ubuntu: `apt-get install chromium`),
in light mode, so the pictures can be made again whenever the lessons change. Not part of the tests.
"""
import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# file, lesson, TensorBoard dashboard (the URL's #fragment), window size, the lesson's flags for its quick run
SHOTS = [
    ("p27_curves.png", "p27_train", "scalars&_smoothingWeight=0&tagFilter=%5E(train_loss%7Ctest_loss%7Ctest_accuracy)%24",
     (1280, 760), ["--quick", "--epochs", "3", "--dataset", "synthetic", "--checkpoint-dir", "{tmp}/checkpoints"]),
    ("p18_feature_maps.png", "p18_nn_conv2d", "images&tagFilter=%5E(input%7Coutput_channels)%24", (1280, 660),
     ["--quick", "--dataset", "synthetic"]),
    ("p22_graph.png", "p22_nn_seq", "graphs", (1100, 800), []),
]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--virtual-time-budget=20000"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(folder, tmp):
    """Start `tensorboard --logdir logs/<lesson>` and wait until it lists a run; returns (process, url)."""
    view = tmp / "view"  # TensorBoard's sidebar shows the --logdir as given: make it read logs/<lesson>
    view.mkdir(exist_ok=True)
    if not (view / "logs").exists():
        (view / "logs").symlink_to(folder.parent.resolve(), target_is_directory=True)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tensorboard.main", "--logdir", f"logs/{folder.name}",
                             "--port", str(port), "--host", "127.0.0.1"], cwd=view,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/data/runs", timeout=5) as r:
                if r.read() not in (b"[]", b""):
                    time.sleep(2)  # let it finish reading the run's tags
                    return proc, url
        except OSError:
            pass
        time.sleep(0.5)
    stop(proc)
    sys.exit(f"error: TensorBoard over {folder} did not come up")


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--logdir", type=Path, help="existing logs with a run of each lesson (default: fresh quick runs)")
    p.add_argument("--out", type=Path, default=REPO / "docs" / "img", help="where the PNGs go (default: docs/img)")
    p.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser")
                   or shutil.which("google-chrome"), help="the browser (default: chromium on PATH)")
    args = p.parse_args(argv)
    if not args.chromium:
        sys.exit("error: no Chromium found: apt-get install chromium (or pass --chromium PATH)")
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        logdir = args.logdir or tmp / "logs"
        for name, lesson, dashboard, size, flags in SHOTS:
            if args.logdir is None:  # a fresh quick run, as `python -m lessons run` would start it
                print(f"running {lesson} ...", flush=True)
                run = subprocess.run([sys.executable, str(REPO / "lessons" / f"{lesson}.py"),
                                      *(f.format(tmp=tmp) for f in flags), "--logdir", str(logdir)],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                if run.returncode:
                    sys.exit(f"{run.stdout}\nerror: {lesson} failed (exit {run.returncode}); no screenshot taken")
            folder = logdir / lesson
            if not folder.is_dir():
                sys.exit(f"error: no logs of {lesson} in {logdir}")
            proc, url = serve(folder, tmp)
            try:
                target = (args.out / name).resolve()
                page = f"{url}/?darkMode=false#{dashboard}"
                subprocess.run([args.chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'chromium'}",
                                f"--window-size={size[0]},{size[1]}", f"--screenshot={target}", page],
                               check=True, timeout=180, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            finally:
                stop(proc)
            print(f"{target.relative_to(REPO) if target.is_relative_to(REPO) else target}: #{dashboard} of {lesson}")


if __name__ == "__main__":
    main()
