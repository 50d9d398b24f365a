"""P34's `--nproc-per-node N`: torchrun's own launcher, started by the lesson, so that when a process fails the
last line the learner reads is ours (torchrun itself prints its report after every process has ended).

    launcher.run(__file__, 2, argv)   # what `torchrun --standalone --nproc-per-node 2 script argv` does
    launcher.tell(line, own=False)    # in a process: the line torchrun's report (and run()'s) shows for it
"""
import contextlib
import json
import os
import time

from kit import console
from kit.errors import LessonError
from kit.i18n import _


def started_by_torchrun():
    """One of several processes: torchrun (or a learner by hand) set WORLD_SIZE, RANK and MASTER_ADDR/PORT."""
    return "WORLD_SIZE" in os.environ


def tell(line, own=True, kept=""):
    """Written to the file torchrun names for this process (its report shows the line instead of a link to docs).
    own=False: this process stops because another one ended; kept: what rank 0 saved ("; best.pth ...")."""
    if os.environ.get("TORCHELASTIC_ERROR_FILE"):
        with contextlib.suppress(OSError), open(os.environ["TORCHELASTIC_ERROR_FILE"], "w") as f:
            info = {"timestamp": str(int(time.time())), "own": own, "kept": kept}
            json.dump({"message": {"message": line, "extraInfo": info}}, f)


def run(script, nproc, argv):
    """Start `nproc` processes of `script` on this machine, as torchrun does; a failure ends in one line."""
    from torch.distributed import run as torchrun  # torch's launcher: the code behind the torchrun command
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError

    try:
        torchrun.run(torchrun.parse_args(["--standalone", f"--nproc-per-node={nproc}", str(script), *argv]))
    except ChildFailedError as e:  # every process has ended by now: this line comes after all of theirs
        raise LessonError(cause(e.failures)) from None
    except SignalException as e:  # Ctrl-C, SIGTERM or SIGHUP to the launcher: its processes are stopped
        raise console.Interrupted(e.sigval, _("every process has stopped")) from None


def cause(failures):
    """{rank: ProcessFailure} -> one line: a process's own error, else the one ended from outside, else any."""
    told = {rank: f.message for rank, f in sorted(failures.items()) if isinstance(f.message, dict)}  # via tell()
    kept = next((m["extraInfo"].get("kept") for m in told.values() if m["extraInfo"].get("kept")), "")
    if own := [m["message"] for m in told.values() if m["extraInfo"].get("own", True)]:
        return own[0]
    for rank, failure in sorted(failures.items()):
        if rank not in told and failure.exitcode < 0:  # SIGKILL: no line of its own
            return _("rank {rank} was ended by {signal} from outside the lesson, so the run stopped").format(
                rank=rank, signal=failure.signal_name()) + kept
    if told:
        return next(iter(told.values()))["message"]
    rank, failure = min(failures.items())
    return _("rank {rank} ended with exit code {code}; its output above says why").format(
        rank=rank, code=failure.exitcode) + kept
