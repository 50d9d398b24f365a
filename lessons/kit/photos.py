"""Learners' own images for P32: found, opened as a viewer shows them (kit.images), predicted, logged.

    files, refused = photos.readable(paths)  # the image files under paths; a bad one is refused in one line
    rows = photos.predict(model, files, transform, classes, device, batch_size, refused)  # prints the table
    photos.log_predictions(writer, rows, refused)  # IMAGES: what the model saw; TEXT: the table
"""
import time
from collections import namedtuple
from pathlib import Path

import torch
from PIL import Image

from kit import console, flags, images, synthetic
from kit.errors import LessonError, shown
from kit.i18n import N_, _

HINTS = {**dict.fromkeys((".heic", ".heif"), N_("HEIC/HEIF photos need the pillow-heif plugin; export as JPEG")),
         ".svg": N_("SVG is a vector drawing, not pixels; export it as PNG")}
# what a folder is searched for: every extension Pillow opens, and the formats learners try that it can't
SUFFIXES = {ext for ext, fmt in Image.registered_extensions().items() if fmt in Image.OPEN} | set(HINTS)
Prediction = namedtuple("Prediction", "path tensor label probability top3")  # one row of the table


class Refused(LessonError):
    """One input that cannot be used: "<path>: <what is wrong>"; uncaught, the lesson's one error line."""


def readable(paths):
    """(the files that open as images, a printed refusal line per input that does not); none left: one line."""
    files, refused = [], []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES
                           and not p.name.startswith("."))
            files += found
            refused += [] if found else [_("{path}: no images in this folder (looked for .jpg, .png, .gif, .bmp, "
                                           ".webp ...; sub-folders are not searched)").format(path=shown(path))]
        elif path.is_file():
            files.append(path)
        else:
            refused.append(_("{path}: no such file or folder").format(path=shown(path)))
    good = []
    for path in dict.fromkeys(files):  # the same file named twice is predicted once
        try:
            open_image(path)
            good.append(path)
        except Refused as e:
            refused.append(str(e))
    if not good and len(refused) == 1:
        raise LessonError(refused[0])  # the one problem is the one error line
    for line in refused:
        print(_("refused {line}").format(line=line))
    if not good:
        raise LessonError(_("nothing could be predicted: all {n} inputs were refused (see above)").format(
            n=len(refused)))
    return good, refused


def open_image(path, quiet=False):
    """The file as an upright RGB image (images.to_rgb), or Refused with one line saying why not."""
    try:
        with images.opened(path) as image:
            if getattr(image, "n_frames", 1) > 1 and not quiet:
                print(_("note {path}: {n} frames (animated); using the first").format(path=shown(path),
                                                                                       n=image.n_frames))
            image.draft("RGB", (64, 64))  # JPEG only: decode a big photo at 1/2..1/8 size, much faster
            return images.to_rgb(image)  # the pixels are decoded by now: truncated files fail here
    except LessonError as e:
        raise Refused(str(e) + (f" ({_(hint)})" if (hint := HINTS.get(path.suffix.lower())) else "")) from None


def predict(model, files, transform, classes, device, batch_size, refused=()):
    """Every file through `transform` and the model, in batches; prints the table and the time it took."""
    tensors = [transform(open_image(path, quiet=True)) for path in files]  # (3, 32, 32) each
    start = time.perf_counter()
    with torch.no_grad():  # (N, 3, 32, 32) in pieces of batch_size -> (B, classes) each, each row summing to 1
        probs = [torch.softmax(model(b.to(device)), dim=1).cpu() for b in torch.stack(tensors).split(batch_size)]
    seconds = time.perf_counter() - start
    top_p, top_i = torch.cat(probs).topk(min(3, len(classes)), dim=1)  # (N, 3) each
    rows = [Prediction(path, x, classes[idx[0]], ps[0], ", ".join(f"{classes[i]} {p:.1%}" for p, i in zip(ps, idx)))
            for path, x, ps, idx in zip(files, tensors, top_p.tolist(), top_i.tolist())]
    print("\n".join(table(rows)))
    print(_("{n} image(s) predicted in {ms:.1f} ms on {device}").format(
        n=len(rows), ms=seconds * 1000, device=flags.device_name(device))
          + (_("; {n} input(s) refused (see above)").format(n=len(refused)) if refused else ""))
    return rows


def table(rows):
    """Aligned lines of file, prediction and top-3 probabilities, as a terminal shows them (CJK: two columns)."""
    cells = [(_("file"), _("prediction"), _("top-3 probabilities"))]
    cells += [(shown(r.path, relative=True), r.label, r.top3) for r in rows]
    width = [max(console.width(row[column]) for row in cells) for column in (0, 1)]
    pad = lambda text, column: text + " " * (width[column] - console.width(text))  # noqa: E731
    return [f"{pad(name, 0)}  {pad(label, 1)}  {top3}" for name, label, top3 in cells]


def log_predictions(writer, rows, refused=()):
    """IMAGES: input/<n> <file>: <prediction> <probability>, the 32x32 picture the model saw; TEXT: the table."""
    digits = len(str(len(rows) - 1))  # input/00 ... input/99: the cards stay in order
    for k, row in enumerate(rows):
        writer.add_image(f"input/{k:0{digits}d} {shown(row.path.name)}: {row.label} {row.probability:.0%}", row.tensor)
    lines = table(rows) + [_("refused {line}").format(line=line) for line in refused]
    writer.add_text("predictions", "\n".join("    " + line for line in lines))  # indented: monospace, aligned


def warn_if_synthetic(classes):
    """True, after a one-line warning, for a model trained on the synthetic shapes (no CIFAR-10 was on disk)."""
    if synthetic.is_synthetic(classes):
        print(_("warning: this checkpoint was trained on the synthetic shapes (disc, ring, square ...), so it cannot "
                "classify photos; for a real one put CIFAR-10 in data/ and run `python lessons/p27_train.py`, or train "
                "on your own photos with `python lessons/p27_train.py --dataset folder --data-root DIR`"))
    return synthetic.is_synthetic(classes)
