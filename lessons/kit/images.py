"""Learners' own images for P32: which files, opened safely and shown as a viewer shows them; the predictions.

    files, refused = images.readable(paths)        # the image files under paths; a bad one is refused in one line
    image = images.to_rgb(Image.open(path))         # the course's .convert('RGB'), right for every kind of image
    rows = images.predict(model, files, transform, classes, device, batch_size, refused)  # prints the table
    images.log_predictions(writer, rows, refused)   # IMAGES: what the model saw; TEXT: the table

What trips up the course's code works here: transparent PNGs (laid on white, as a viewer shows them),
palette and grayscale images, CMYK JPEGs, 16-bit PNGs (scaled, not clipped to white), animated GIFs
(the first frame), phone photos stored sideways with an EXIF rotation tag. Pillow's decompression-bomb
limit stays on. A file that cannot be read is refused with one line naming it, and the others go on.
"""
import re
import time
import warnings
from collections import namedtuple
from pathlib import Path

import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from kit import common
from kit.data import SyntheticCIFAR10

UNSUPPORTED_HINTS = {".heic": "iPhone HEIC photos need the pillow-heif plugin; export it as JPEG",
                     ".heif": "HEIF photos need the pillow-heif plugin; export it as JPEG",
                     ".svg": "SVG is a vector drawing, not pixels; export it as PNG"}
# what a folder is searched for: every extension Pillow can open, plus formats learners try that it can't
IMAGE_SUFFIXES = {ext for ext, fmt in Image.registered_extensions().items() if fmt in Image.OPEN}
IMAGE_SUFFIXES |= set(UNSUPPORTED_HINTS)

Prediction = namedtuple("Prediction", "path tensor label probability top3")  # one row of the table


class Refused(Exception):
    """One input that cannot be used: "<path>: <what is wrong>"."""


def collect(paths):
    """The image files to predict, in order, and a refusal line for each path that gives none."""
    files, refused = [], []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.iterdir()
                           if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
            if not found:
                refused.append(f"{path}: no images in this folder (looked for .jpg, .png, .gif, .bmp, .webp ...; "
                               "sub-folders are not searched)")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            refused.append(f"{path}: no such file or folder")
    return list(dict.fromkeys(files)), refused  # the same file named twice is predicted once


def readable(paths):
    """(the files that open as images, a refusal line for every input that does not), each refusal printed.

    None left is a LessonError: the problem itself when there was one input, else a count. Every file is
    decoded here once to check it (a truncated JPEG fails only when its pixels are read), then dropped:
    keeping thousands of full-size photos in memory costs more than decoding them again.
    """
    files, refused = collect(paths)
    single = len(files) + len(refused) == 1  # one input: its problem becomes the one error line
    good = []
    for path in files:
        try:
            open_image(path)
            good.append(path)
        except Refused as e:
            refused.append(str(e))
    if not good and single:
        raise common.LessonError(refused[0])
    for line in refused:
        print(f"refused {line}")
    if not good:
        raise common.LessonError(f"nothing could be predicted: all {len(refused)} inputs were refused (see above)")
    return good, refused


def to_rgb(image):
    """Any Pillow image -> upright 8-bit RGB, looking the way an image viewer shows it."""
    image = ImageOps.exif_transpose(image)  # phone photos: turn upright as the EXIF tag says
    if image.mode.startswith("I") or image.mode == "F":
        # 16-bit PNG/TIFF (mode I;16 or I) and float images: .convert('RGB') would clip every value above
        # 255 to white, so scale to 0..255 first
        low, high = image.getextrema()
        if image.mode.startswith("I;16") or high > 255:
            scale = 255 / 65535
        else:
            scale = 255 if image.mode == "F" and high <= 1 else 1  # float images usually hold 0..1
        image = image.convert("F").point(lambda v: v * scale).convert("L")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        # the course's .convert('RGB') just drops alpha: transparent areas show whatever colour is stored
        # there, often black. Lay the image on white instead, as most viewers show it.
        image = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image)
    return image.convert("RGB")  # the course's .convert('RGB'): grayscale, palette, CMYK ... -> 3 channels


def open_image(path, quiet=False):
    """The file as an upright RGB image, or Refused with one line saying why not."""
    hint = UNSUPPORTED_HINTS.get(path.suffix.lower())
    try:
        # Pillow warns about images over MAX_IMAGE_PIXELS (89 million) and refuses twice that: a tiny file
        # can unpack to gigabytes (a "decompression bomb"). Refuse both, keeping the limit on.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if getattr(image, "n_frames", 1) > 1 and not quiet:
                    print(f"note {path}: {image.n_frames} frames (animated); using the first")
                image.draft("RGB", (64, 64))  # JPEG only: decode a big photo at 1/2..1/8 size, much faster
                return to_rgb(image)  # the pixels are decoded by now: truncated files fail here
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        pixels = re.search(r"\((\d+) pixels\)", str(e))
        pixels = f"{int(pixels.group(1)):,}" if pixels else "too many"
        raise Refused(f"{path}: {pixels} pixels is over Pillow's limit "
                      f"of {Image.MAX_IMAGE_PIXELS:,} (a guard against decompression bombs); shrink it first") from None
    except UnidentifiedImageError:
        raise Refused(f"{path}: not an image Pillow can read"
                      f" ({hint or 'an unsupported format, or another kind of file with an image name'})") from None
    except PermissionError:
        raise Refused(f"{path}: permission denied") from None
    except Exception as e:  # noqa: BLE001  a broken file can fail in many ways inside a decoder
        reason = str(e).splitlines()[0][:100] if str(e) else type(e).__name__
        raise Refused(f"{path}: truncated or corrupt ({reason})") from None


def predict(model, files, transform, classes, device, batch_size, refused=()):
    """Every file through `transform` and the model, in batches: each file's class name and top-3
    probabilities, printed as a table with the time it took. Returns a Prediction per file."""
    try:
        tensors = [transform(open_image(path, quiet=True)) for path in files]  # (3, 32, 32) each
    except Refused as e:  # readable() opened it a moment ago: changed since
        raise common.LessonError(str(e)) from None
    start = time.perf_counter()
    probs = []
    with torch.no_grad():
        for batch in torch.stack(tensors).split(batch_size):  # (N, 3, 32, 32) -> pieces of batch_size
            output = model(batch.to(device))                       # (B, 3, 32, 32) -> (B, num_classes)
            probs.append(torch.softmax(output, dim=1).cpu())        # logits -> probabilities summing to 1
    seconds = time.perf_counter() - start
    top_p, top_i = torch.cat(probs).topk(min(3, len(classes)), dim=1)  # (N, 3) each
    rows = []
    for path, tensor, ps, idx in zip(files, tensors, top_p.tolist(), top_i.tolist()):
        top3 = ", ".join(f"{classes[i]} {p:.1%}" for p, i in zip(ps, idx))
        rows.append(Prediction(path, tensor, classes[idx[0]], ps[0], top3))
    table = [("file", "prediction", "top-3 probabilities")] + [(shown(r.path), r.label, r.top3) for r in rows]
    widths = [max(common.width(row[column]) for row in table) for column in (0, 1)]
    for name, label, top3 in table:
        print(f"{pad(name, widths[0])}  {pad(label, widths[1])}  {top3}")
    print(f"{len(rows)} image(s) predicted in {seconds * 1000:.1f} ms on {common.device_name(device)}"
          + (f"; {len(refused)} input(s) refused (see above)" if refused else ""))
    return rows


def log_predictions(writer, rows, refused=()):
    """IMAGES: one card per file, input/<n> <file>: <prediction> <probability>, showing the 32x32 picture
    the model really saw. TEXT: predictions, the table as printed, with the refused inputs."""
    digits = len(str(len(rows) - 1))  # input/00 ... input/99, or 000 ... for more: the cards stay in order
    for k, row in enumerate(rows):
        writer.add_image(f"input/{k:0{digits}d} {row.path.name}: {row.label} {row.probability:.0%}", row.tensor)
    table = ["| file | prediction | top-3 probabilities |", "|---|---|---|"]
    table += [f"| {shown(row.path)} | {row.label} | {row.top3} |" for row in rows]
    table += [f"| {line.split(': ', 1)[0]} | refused: {line.split(': ', 1)[-1]} | |" for line in refused]
    writer.add_text("predictions", "\n".join(table))


def warn_if_synthetic(classes):
    """True, after a one-line warning, for a model trained on the synthetic shapes (no CIFAR-10 was on disk)."""
    synthetic = list(classes) == SyntheticCIFAR10.classes
    if synthetic:
        print("warning: this checkpoint was trained on the synthetic shapes (disc, ring, square ...), so it cannot "
              "classify photos; for a real one put CIFAR-10 in data/ and run `python lessons/p27_train.py`, or train "
              "on your own photos with `python lessons/p27_train.py --dataset folder --data-root DIR`")
    return synthetic


def pad(text, columns):
    return text + " " * (columns - common.width(text))


def shown(path):
    """A path as short as it can be: relative to the current folder when it is inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
