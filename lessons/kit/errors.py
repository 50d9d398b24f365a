"""Bad input as one line: the error a lesson raises, and the words for what went wrong.

    raise LessonError(_("no image file {path}").format(path=shown(p)))  # console.run: "error: ..." exit 1
    write_failure(path, e)   # "disk full (No space left on device)", or None; first_line(e): its first line
"""
import errno
import os
from pathlib import Path

from kit.i18n import N_, _


class LessonError(Exception):
    """Bad input (a missing file, a wrong checkpoint...): shown as one line, no traceback."""

    def __init__(self, message=""):
        # from a DataLoader worker it comes back as "Caught LessonError in DataLoader worker ... LessonError: <msg>"
        if isinstance(message, str) and message.startswith("Caught LessonError"):
            message = message.rstrip().rpartition("LessonError: ")[2]
        super().__init__(message)


def first_line(error, limit=120):
    """An exception's first line, cut to `limit` characters; its type's name when it has no words."""
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:limit]


def shown(path, relative=False):
    """A path or name as text any console and TensorBoard can show: bytes of a file name that are not
    UTF-8 (an old Windows zip, a camera) as U+FFFD. relative=True: relative to the current folder if inside."""
    text = os.fsdecode(path) if isinstance(path, (bytes, os.PathLike)) else str(path)
    if relative and Path(text).resolve().is_relative_to(Path.cwd()):
        text = str(Path(text).resolve().relative_to(Path.cwd()))
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


WRITE_ERRORS = {errno.ENOSPC: N_("disk full"), errno.EACCES: N_("permission denied"),
                errno.EPERM: N_("permission denied"), errno.EROFS: N_("read-only file system"),
                errno.EISDIR: N_("it is a folder"),
                errno.EFBIG: N_("file too large (over the file system's or the process's size limit, ulimit -f)")}


def write_failure(path, error):
    """Why writing `path` failed, in words (these causes in ours, others in the system's: e.strerror);
    None when `error` is no failure to write (a bug, Ctrl-C)."""
    if isinstance(error, RuntimeError) and "unexpected pos" in str(error):  # torch.save's C++ writer, disk full
        return _("disk full (torch.save could not write all of it)")
    if not isinstance(error, OSError):
        return None
    if error.errno in (errno.ENOTDIR, errno.EEXIST):  # mkdir under a file, or onto one
        if blocker := next((p for p in Path(path).parents if p.exists() and not p.is_dir()), None):
            return _("not a folder ({file} is a file)").format(file=shown(blocker))
    words, system = _(WRITE_ERRORS.get(error.errno, "")), _(error.strerror) or str(error)
    return f"{words} ({system})" if words and system.lower() not in words.lower() else words or system
