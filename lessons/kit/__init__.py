"""The lessons' helpers (`from kit import flags`), each call named for what it does: read a lesson without opening kit/.

    i18n              the language (Chinese or English) and _() for every message a learner reads
    errors, console   one-line errors; Ctrl-C, SIGTERM, SIGHUP, also in DataLoader workers (console.run: every guard)
    flags             the shared command-line flags, the repo's folders, seed and device
    datasets          CIFAR-10 as torchvision gives it, your image folders, or the synthetic stand-in
    board             a fresh TensorBoard run folder for each run, and the command to view it
    checkpoint, runs, locks, progress, reports   what real training adds to the course's loop
    folders, photos, fast_data   for a few lessons: P7-P13's ants and bees, P32's photos, P33's tensor data path
"""
from kit import console as _console, i18n as _i18n  # noqa: F401  (i18n chooses the language on import)

_console.install()  # importing kit installs the stop-signal handlers, before torch is imported
