"""TensorBoard: a fresh run folder for every run, and the command that shows it.

    with SummaryWriter(board.run_dir("p19_nn_maxpool", args)) as writer:   # logs/p19_nn_maxpool/<time>/
        ...
    board.tensorboard_hint(writer)                                         # tensorboard --logdir "..."

A new folder per run (a re-run never mixes into an old run's curves), marked -synthetic for synthetic data.
Logs that cannot be written (a file as --logdir, permission, disk full) end in one line (console.run).
"""
import itertools
import time
from pathlib import Path

from kit.errors import LessonError, shown, write_failure
from kit.i18n import _

_made = []  # the run folders this process made: a failed write names the last one


def run_dir(lesson, args):
    """A new, empty folder logs/<lesson>/<date-time>[-synthetic]; two runs in one second get -2, -3, ..."""
    stamp = time.strftime("%Y%m%d-%H%M%S") + ("-synthetic" if getattr(args, "dataset", "") == "synthetic" else "")
    parent = Path(args.logdir) / lesson
    try:
        for n in itertools.count(1):
            folder = parent / (stamp if n == 1 else f"{stamp}-{n}")
            try:
                folder.mkdir(parents=True)  # fails if another run made it first: no check-then-create race
                break
            except FileExistsError:
                if not folder.is_dir():
                    raise
    except OSError as e:
        raise cannot_write(e, args.logdir, parent) from None
    _made.append(folder)
    return str(folder)


def cannot_write(error, folder=None, path=None):
    """One line for a TensorBoard folder that cannot be written: the cause in words."""
    folder = folder or (_made[-1] if _made else _("the log folder"))
    cause = write_failure(Path(path or folder) / "events", error) or str(error)
    return LessonError(_("cannot write TensorBoard logs in {folder}: {cause} (choose another --logdir)")
                       .format(folder=shown(folder), cause=cause))


def tensorboard_hint(writer):
    """Print the exact command that shows this run (and the lesson's earlier runs)."""
    run = Path(writer.log_dir)
    print(_('TensorBoard: tensorboard --logdir "{folder}"   (this run: {run})').format(
        folder=shown(run.parent), run=shown(run.name)))
