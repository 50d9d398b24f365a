"""What a learner sees when a lesson ends early: one line, never a traceback. The only handler of the stop
signals, installed when kit is imported (a Ctrl-C while torch loads is one line too); SIGTERM and SIGHUP raise
what Ctrl-C raises, so what saves on Ctrl-C saves on them.

    console.run(main)   # the `__main__` guard's body: LessonError -> "error: ..." exit 1,
                        # Ctrl-C / SIGTERM / SIGHUP -> "interrupted", exit 130 / 143 / 129
"""
import atexit
import contextlib
import gc
import multiprocessing
import multiprocessing.queues
import os
import signal
import sys
import threading
import traceback
import unicodedata
from pathlib import Path

from kit import board
from kit.errors import LessonError, first_line
from kit.i18n import _


STOPS = [getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)]  # no SIGHUP: Windows


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, SIGTERM or SIGHUP; `detail` may say what was kept ("epoch 2 is saved"), after "interrupted: "."""

    def __init__(self, signum=signal.SIGINT, detail=""):
        super().__init__(signum)
        self.signum, self.detail = signum, detail


def exit_code(error):
    """128 + the signal's number, as shells report it: 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP."""
    return 128 + getattr(error, "signum", signal.SIGINT)


def interrupted_line(error):
    signum, detail = getattr(error, "signum", signal.SIGINT), getattr(error, "detail", "")
    name = "" if signum == signal.SIGINT else f" ({signal.Signals(signum).name})"
    return _("interrupted") + name + (f": {detail}" if detail else "")


def _raise_interrupted(signum, frame):
    raise Interrupted(signum)


def _outside_main(kind, value, tb, default=sys.excepthook):
    """A stop signal that no code catches (during the imports, before main() runs): one line, no traceback."""
    if not issubclass(kind, KeyboardInterrupt):
        return default(kind, value, tb)
    for stream, text in ((sys.stdout, ""), (sys.stderr, interrupted_line(value) + "\n")):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: still exit
            print(text, end="", file=stream, flush=True)
    os._exit(exit_code(value))  # nothing to clean up yet: outside main()


def _quiet_tensorboard_thread(hook_args, previous=threading.excepthook):
    """SummaryWriter's thread keeps a failed write for the next add_*/flush/close (run() tells it): no traceback."""
    if not (isinstance(hook_args.exc_value, OSError) and from_tensorboard(hook_args.exc_value)):
        previous(hook_args)


def install():
    """Stop signals raise Interrupted; an uncaught one outside main() is one line. Runs when kit is imported."""
    if threading.current_thread() is threading.main_thread():  # signal handlers can only be set there
        for sig in STOPS:
            if signal.getsignal(sig) is not signal.SIG_IGN:  # ignored at start (nohup, `cmd &`): stays so
                signal.signal(sig, _raise_interrupted)
    sys.excepthook = _outside_main
    threading.excepthook = _quiet_tensorboard_thread
    # Python's last garbage collection, at exit, walks the millions of objects torch, torchvision and TensorBoard
    # made at import: about 0.5 s at the end of every lesson, for nothing (the lessons close their files and writers;
    # measured in benchmarks/README.md)
    atexit.register(gc.freeze)


def from_tensorboard(error):
    """Did this error come out of TensorBoard's code (its event files), not the lesson's own?"""
    return any("tensorboard" in Path(frame.f_code.co_filename).parts for frame, _line in
               traceback.walk_tb(error.__traceback__))


def console_safe():
    """A console that cannot show Chinese (English Windows, output redirected) shows '?' instead of crashing."""
    for stream in [s for s in (sys.stdout, sys.stderr) if hasattr(s, "reconfigure")]:  # None without a console
        stream.reconfigure(errors="replace")


def run(main):
    """The `__main__` guard's body. Every way a lesson can end early becomes one line on stderr."""
    console_safe()
    try:
        code = main()
        sys.stdout.flush()  # here, where a closed pipe is caught: at exit it would print "Exception ignored"
    except (LessonError, KeyboardInterrupt) as e:  # KeyboardInterrupt: Ctrl-C, SIGTERM, SIGHUP
        _end(e)
    except BrokenPipeError:  # `python lessons/... | head`: the reader left; stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except (MemoryError, RuntimeError) as e:  # a --batch-size too big for this machine; CUDA's out of memory
        if isinstance(e, RuntimeError) and not any(words in str(e) for words in ("allocate", "out of memory")):
            raise
        _end(LessonError(_("not enough memory for this run ({why}): try a smaller --batch-size")
                         .format(why=first_line(e, 80))))  # first_line: "MemoryError" when it has no words
    except OSError as e:
        if not from_tensorboard(e):
            raise
        # a writer's close() that failed on the way out of the lesson's own error: that error is the one to tell
        _end(e.__context__ if isinstance(e.__context__, (LessonError, KeyboardInterrupt)) else board.cannot_write(e))
    if threading.current_thread() is threading.main_thread():  # done: a late signal just ends it, with no traceback
        for sig in STOPS:  # (SIG_DFL, not SIG_IGN: processes started after an in-process run must not inherit an ignore)
            signal.signal(sig, signal.SIG_DFL)
    sys.exit(code if isinstance(code, int) else None)  # a returned object is no exit status


def _end(error):
    if isinstance(error, KeyboardInterrupt):
        print(interrupted_line(error), file=sys.stderr)
    sys.exit(exit_code(error) if isinstance(error, KeyboardInterrupt) else _("error: {message}").format(message=error))


def width(text):
    """Columns a terminal gives `text`: two for wide characters (Chinese, Japanese, Korean), none for accents."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


# DataLoader workers. A Ctrl-C reaches the whole process group, the workers too; one that came while a DataLoader
# started them was lost, or ended in "worker exited unexpectedly" or an AttributeError from the half-made loader.
# So the workers ignore Ctrl-C and SIGHUP (SIGTERM ends them, as torch expects) and only the main process answers:
# a stop signal that comes while a loader starts its workers is held back until the loader is whole.
_saved, _pending = {}, []  # while a loader starts its workers: the handlers set aside, the signals that came


def _keep(signum, frame):
    _pending.append(signum)
    if len(_pending) > 1:  # a second one: wait no longer
        _release()


def _hold():
    if not _saved and threading.current_thread() is threading.main_thread():
        _saved.update((s, signal.signal(s, _keep)) for s in STOPS if signal.getsignal(s) not in (signal.SIG_IGN, None))


def _release():
    if _saved and threading.current_thread() is threading.main_thread():
        for s, handler in _saved.items():
            signal.signal(s, handler)
        _saved.clear()
        if _pending:  # answered now, by the handler it was meant for (console's: "interrupted ...")
            signum = _pending[0]
            _pending.clear()
            signal.raise_signal(signum)


class _Process(multiprocessing.get_context().Process):
    def run(self):  # in the worker, before it loads anything
        for s in STOPS:
            signal.signal(s, signal.SIG_DFL if s == signal.SIGTERM else signal.SIG_IGN)
        _saved.clear()
        _pending.clear()
        super().run()


class _Queue(multiprocessing.queues.Queue):
    def put(self, obj, block=True, timeout=None):
        _release()  # the main process's first put: the loader is whole, its workers started
        super().put(obj, block, timeout)


class _Context(type(multiprocessing.get_context())):
    Process = _Process

    def Queue(self, maxsize=0):  # noqa: N802 (multiprocessing's name)  the loader's first step in starting workers
        _hold()
        return _Queue(maxsize, ctx=self)


def worker_context():
    """DataLoader(multiprocessing_context=...): datasets.loader_options passes it when num_workers > 0."""
    return _Context()
