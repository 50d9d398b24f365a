"""Why a write failed, in words: one wording for checkpoints, TensorBoard folders and P33's cache.

    cause = write_failure(path, error)   # "disk full (No space left on device)", "not a folder (x is a file)", ...
                                         # None when `error` is not a failure to write (a bug, Ctrl-C)
"""
import errno
from pathlib import Path

# the causes worth words of their own; other errors keep the system's words (e.strerror)
WRITE_ERRORS = {errno.ENOSPC: "disk full", errno.EACCES: "permission denied", errno.EPERM: "permission denied",
                errno.EROFS: "read-only file system", errno.EISDIR: "it is a folder",
                errno.EFBIG: "file too large (over the file system's or the process's size limit, ulimit -f)"}


def write_failure(path, error):
    """Why writing `path` failed, in words; None when `error` is no failure to write (a bug, Ctrl-C)."""
    if isinstance(error, RuntimeError) and "unexpected pos" in str(error):  # torch.save's C++ writer, disk full
        return "disk full (torch.save could not write all of it)"
    if not isinstance(error, OSError):
        return None
    if error.errno in (errno.ENOTDIR, errno.EEXIST):  # mkdir under a file, or onto one
        blocker = next((p for p in Path(path).parents if p.exists() and not p.is_dir()), None)
        if blocker:
            return f"not a folder ({blocker} is a file)"
    words, system = WRITE_ERRORS.get(error.errno), error.strerror or str(error)
    return f"{words} ({system})" if words and system.lower() not in words.lower() else words or system
