"""The helpers behind the lessons. A lesson imports them as `from kit import flags, datasets, board`.

You can read every lesson without opening this folder: each call into it is named for what it does,
and each module is short enough to read in a few minutes.

    i18n              the language (Chinese or English) and _() for every message a learner reads
    errors, console   one-line errors; Ctrl-C, SIGTERM and SIGHUP (console.run is every lesson's guard)
    flags             the shared command-line flags, the repo's folders, seed and device
    datasets          CIFAR-10 as torchvision gives it, your image folders, or the synthetic stand-in
    board             a fresh TensorBoard run folder for each run, and the command to view it
    checkpoint, runs, locks, progress, reports   what real training adds to the course's loop
    folders           the course's ants-and-bees folders (P7-P13)
    photos, fast_data the helpers of one lesson each: P32's photos, P33's tensor data path
    cli               `python -m lessons`: the lesson list and the tour

Importing kit installs the stop-signal handlers (kit.console), before torch is imported.
"""
from kit import console as _console, i18n as _i18n  # noqa: F401  (i18n chooses the language on import)

_console.install()
