"""Small pieces every lesson shares: the flags, the device, the TensorBoard writer, errors.

Read it once; the lessons then use it in three lines:

    args = common.parser(__doc__).parse_args(argv)
    device = common.get_device(args.device)
    with common.writer("p18_nn_conv2d", args, synthetic=data.synthetic) as writer: ...
"""
import argparse
import contextlib
import functools
import os
import random
import socket
import sys
import threading
import time
import unicodedata
from pathlib import Path

from kit.writes import write_failure

# No torch at import time: `python -m lessons` uses this module's flag types and must start at once;
# the few functions below that need torch import it where they use it.

REPO = Path(__file__).resolve().parents[2]
DATA_DIR = REPO / "data"
LOG_DIR = REPO / "logs"
CHECKPOINT_DIR = REPO / "checkpoints"
DOWNLOAD_TIMEOUT = 15  # seconds without a byte before a download gives up
SYNTHETIC_FALLBACK = "using the built-in synthetic data set instead"  # kit.data prints it; the tour looks for it


class LessonError(Exception):
    """Bad input (a missing file, a wrong checkpoint...): shown as one line, no traceback."""

    def __init__(self, message=""):
        # a DataLoader worker's LessonError is rebuilt in the main process from "Caught LessonError in DataLoader
        # worker process 0.\nOriginal Traceback ...\nkit.common.LessonError: <message>": keep the one line
        if isinstance(message, str) and message.startswith("Caught LessonError"):
            message = message.rstrip().rpartition("LessonError: ")[2]
        super().__init__(message)


def width(text):
    """Columns a terminal gives `text`: two for wide characters (Chinese, Japanese, Korean), none for accents."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def console_safe():
    """A console that cannot show Chinese (English Windows, output redirected) shows '?' instead of crashing."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")


def run(main):
    """The `__main__` guard's body: a LessonError becomes one line on stderr and exit code 1; Ctrl-C exits 130."""
    console_safe()
    try:
        sys.exit(main())
    except LessonError as e:
        sys.exit(f"error: {e}")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:  # `python lessons/... | head`: the reader left; stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)


def parser(doc, *, batch_size=64, data=True):
    """An ArgumentParser with the shared flags; a lesson adds its own flags to it."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    if data:
        p.add_argument("--dataset", default="auto", choices=["auto", "cifar10", "synthetic", "folder"],
                       help="auto: CIFAR-10 if on disk or downloadable, else synthetic (default: auto)")
        p.add_argument("--data-root", type=Path, default=DATA_DIR,
                       help="where CIFAR-10 is kept, or ROOT of ROOT/train/<class>/ and ROOT/test/<class>/ "
                            "for --dataset folder (default: data/ in the repo)")
        p.add_argument("--batch-size", type=positive_int, default=batch_size,
                       help=f"images per batch (default: {batch_size})")
        p.add_argument("--num-workers", type=non_negative_int, default=0,
                       help="DataLoader worker processes; 0 loads in the main process (default: 0)")
    p.add_argument("--logdir", type=Path, default=LOG_DIR, help="TensorBoard log folder (default: logs/ in the repo)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"],
                   help="auto picks CUDA, then Apple MPS, then CPU (default: auto)")
    p.add_argument("--seed", type=seed, default=0, help="random seed for weights and shuffling (default: 0)")
    p.add_argument("--quick", action="store_true", help="smoke run: a few batches on little data, in seconds")
    return p


# argparse types: a bad value is one line ("argument --lr: must be more than 0, got -1") and exit code 2

def positive_int(text):
    return _number(text, int, lambda v: v >= 1, "must be at least 1")


def non_negative_int(text):
    return _number(text, int, lambda v: v >= 0, "must be 0 or more")


def positive_float(text):
    return _number(text, float, lambda v: 0 < v < float("inf"), "must be more than 0 (and finite)")


def non_negative_float(text):
    return _number(text, float, lambda v: 0 <= v < float("inf"), "must be 0 or more (and finite)")


def seed(text):
    return _number(text, int, lambda v: 0 <= v < 2**32, "must be from 0 to 4294967295")


def _number(text, kind, ok, rule):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {'a whole number' if kind is int else 'a number'}") from None
    if not ok(value):
        raise argparse.ArgumentTypeError(f"{rule}, got {text}")
    return value


@contextlib.contextmanager
def download_timeout(seconds=DOWNLOAD_TIMEOUT):
    """Inside it, a stalled connection (a firewall that drops packets) gives up instead of hanging."""
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(old)


def seed_everything(seed):
    import torch
    random.seed(seed)
    torch.manual_seed(seed)  # also seeds CUDA


def get_device(name="auto"):
    """`auto` picks CUDA, then Apple's MPS, then the CPU; asking for one that is absent is an error."""
    import torch
    cuda, mps = torch.cuda.is_available(), torch.backends.mps.is_available()
    if name == "auto":
        name = "cuda" if cuda else "mps" if mps else "cpu"
    elif (name == "cuda" and not cuda) or (name == "mps" and not mps):
        raise LessonError(f"--device {name} was asked for, but this machine has none (try --device cpu)")
    return torch.device(name)


def device_name(device):
    """The hardware in words, for honest timings."""
    import torch
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple MPS"
    return f"CPU ({os.cpu_count()} cores, {torch.get_num_threads()} threads)"


def writer(lesson, args, *, synthetic=False, run_dir=None, purge_step=None):
    """A fresh SummaryWriter under logs/<lesson>/<time>[-synthetic] (or, with run_dir, that run continued).

    A new folder for every run, so a re-run never mixes its points into an old run's curves.
    Use it in a `with` block: it is closed (and flushed to disk) even when the lesson fails.
    Logs that cannot be written (--logdir is a file, permission denied, disk full) end the lesson
    with one line naming the folder and the cause, also when TensorBoard's writer thread met it.
    """
    if run_dir is None:
        stamp = time.strftime("%Y%m%d-%H%M%S") + ("-synthetic" if synthetic else "")
        run_dir = Path(args.logdir) / lesson / stamp
        n = 1
        while run_dir.exists():  # two runs in one second
            n += 1
            run_dir = run_dir.with_name(f"{stamp}-{n}")
        try:
            run_dir.mkdir(parents=True)
        except OSError as e:
            raise _cannot_write(args.logdir, e, run_dir) from None
    return _writer_class()(str(run_dir), purge_step=purge_step)


# SummaryWriter writes event files in a background thread. A write that fails there (disk full) is kept
# and raised again by the next add_*, flush or close in the lesson, where Writer makes it one line; the
# thread itself would also die with a traceback on stderr: this hook keeps it quiet.
def _quiet_writer_thread():
    previous = threading.excepthook
    if getattr(previous, "kit_writer_hook", False):
        return

    def hook(hook_args):
        if not (isinstance(hook_args.exc_value, OSError) and _from_tensorboard(hook_args.exc_value)):
            previous(hook_args)

    hook.kit_writer_hook = True
    threading.excepthook = hook


def _from_tensorboard(error):
    """Did this error come out of TensorBoard's code (its event files), not the lesson's own?"""
    tb = error.__traceback__
    while tb and "tensorboard" not in Path(tb.tb_frame.f_code.co_filename).parts:
        tb = tb.tb_next
    return tb is not None


def _cannot_write(folder, error, path=None):
    """One line for a TensorBoard folder that cannot be written (at path, inside it): the cause in words."""
    cause = write_failure(Path(path or folder) / "events", error) or str(error)
    return LessonError(f"cannot write TensorBoard logs in {folder}: {cause} (choose another --logdir)")


@functools.cache
def _writer_class():
    from torch.utils.tensorboard import SummaryWriter  # imported late: it takes a second

    class Writer(SummaryWriter):
        def __init__(self, log_dir, **kw):
            _quiet_writer_thread()
            try:
                super().__init__(log_dir, **kw)  # writes the event file's first record
            except OSError as e:
                raise _cannot_write(log_dir, e) from None

        def close(self):
            try:
                super().close()
            except OSError as e:
                raise _cannot_write(self.log_dir, e) from None

        def __exit__(self, exc_type, error, tb):
            try:
                self.close()
            except LessonError:
                if error is None:  # else the lesson's own error (or Ctrl-C) is the one to show
                    raise
            if isinstance(error, OSError) and _from_tensorboard(error):  # an add_* call met the failure
                raise _cannot_write(self.log_dir, error) from None

    return Writer


def tensorboard_hint(writer):
    """Print the exact command that shows this run (and the lesson's earlier runs)."""
    lesson_dir = Path(writer.log_dir).parent
    print(f"TensorBoard: tensorboard --logdir \"{lesson_dir}\"   (this run: {Path(writer.log_dir).name})")
