"""DataLoader workers and the stop signals. A Ctrl-C reaches the whole process group, the workers too; only the main
process may answer it, and only once the DataLoader has finished starting them (a signal in the middle left a half-made
loader: "Exception ignored", "worker exited unexpectedly", or a Ctrl-C lost). datasets.loader_options passes
multiprocessing_context=workers.context(): the workers ignore Ctrl-C and SIGHUP (SIGTERM ends them, as torch expects),
and a stop signal that comes while they start is held back until the loader hands out its first batch indices.
"""
import multiprocessing
import multiprocessing.queues
import signal
import threading

STOPS = [getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)]
_saved, _pending = {}, []  # while a loader starts its workers: the handlers set aside, the signals that came


def _keep(signum, frame):
    _pending.append(signum)
    if len(_pending) > 1:  # a second one: wait no longer
        _release()


def _hold():
    if not _saved and threading.current_thread() is threading.main_thread():
        _saved.update((s, signal.signal(s, _keep)) for s in STOPS if signal.getsignal(s) is not signal.SIG_IGN)


def _release():
    if _saved and threading.current_thread() is threading.main_thread():
        for s, handler in _saved.items():
            signal.signal(s, handler)
        _saved.clear()
        if _pending:  # answered now, by the handler it was meant for
            signum = _pending[0]
            _pending.clear()
            signal.raise_signal(signum)


class _Process(multiprocessing.get_context().Process):
    def run(self):  # in the worker, before it loads anything
        for s in STOPS:
            signal.signal(s, signal.SIG_DFL if s == getattr(signal, "SIGTERM", None) else signal.SIG_IGN)
        _saved.clear()
        _pending.clear()
        super().run()


class _Queue(multiprocessing.queues.Queue):
    def put(self, obj, block=True, timeout=None):
        _release()  # the main process's first put: the loader is whole (its workers started)
        super().put(obj, block, timeout)


class _Context(type(multiprocessing.get_context())):
    Process = _Process

    def Queue(self, maxsize=0):  # noqa: N802  (multiprocessing's name) the loader's first step in starting workers
        _hold()
        return _Queue(maxsize, ctx=self)


def context():
    return _Context()
