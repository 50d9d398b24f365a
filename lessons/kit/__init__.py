"""The helpers behind the lessons. A lesson imports them as `from kit import common, data`.

You can read every lesson without opening this folder: each call into it is named for what it
does. Each module is short enough to read in a few minutes.

Importing kit does one thing at once: a Ctrl-C that no code catches (while torch is being imported,
the first seconds of every lesson) ends the process with one line and exit code 130, as
common.run does inside main(), instead of a KeyboardInterrupt traceback. It covers the imports
that come after kit's, so a lesson imports kit before torch.
"""
import os
import sys


def _interrupted(kind, value, tb, default=sys.excepthook):
    if not issubclass(kind, KeyboardInterrupt):
        return default(kind, value, tb)
    for stream, text in ((sys.stdout, ""), (sys.stderr, "interrupted\n")):
        try:
            stream.write(text)
            stream.flush()
        except (AttributeError, OSError, ValueError):  # no console, or a closed pipe: still exit
            pass
    os._exit(130)  # nothing to clean up yet: this is outside main(), whose own Ctrl-C is common.run's


sys.excepthook = _interrupted
