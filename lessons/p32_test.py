"""P32 完整的模型验证套路 (The complete validation routine: give a trained model your own images)

    python lessons/p27_train.py --quick          # first, if you have no checkpoint yet (seconds)
    python lessons/p32_test.py                   # the sample images in data/samples/, newest checkpoint
    python lessons/p32_test.py dog.png photos/ --checkpoint checkpoints/p27_train/best.pth
    tensorboard --logdir logs/p32_test           # then open http://localhost:6006

The course's test.py, step by step, printed for the first image: Image.open, .convert('RGB'),
Resize((32, 32)) + ToTensor() -> (3, 32, 32), reshape to (1, 3, 32, 32), model.eval(),
torch.no_grad(), output, output.argmax(1). Then every image at once, in batches: the class
NAME (from the checkpoint's own class list) and the top-3 probabilities.

Arguments: image files and/or folders (a folder's own images, not its sub-folders; other files
such as README.md are skipped). Without any, data/samples/ is used. --checkpoint defaults to
the newest best.pth under checkpoints/ (as the training lessons P27-P31 write it). Any of
our checkpoints, a bare state_dict, or the course's whole-model file (torch.save(tudui, ...),
even one saved on a GPU machine) loads; nothing in the file is run.

Images that trip up the course's code work here: transparent PNGs (laid on white, as a viewer
shows them), palette and grayscale images, CMYK JPEGs, 16-bit PNGs (scaled, not clipped to
white), animated GIFs (first frame), phone photos rotated by their EXIF tag. Pillow's
decompression-bomb limit stays on. A file that cannot be read is refused with one line naming
it, and the other files go on. Exit status: 0 if at least one image was predicted, non-zero
(with one line saying why) if none could be.

TensorBoard, IMAGES tab: one card per file, input/<number> <file>: <prediction> <probability>, showing
the 32x32 picture the model really saw. TEXT tab: predictions, the table printed here.

Differences from the course's test.py: the checkpoint is loaded safely (weights_only=True with
an allow-list) and with map_location, so a GPU-saved file works on a CPU; class names come from
the checkpoint, not from a hand-typed list; many files at once; images are converted to RGB
properly for every mode, not only by .convert('RGB') (which clips 16-bit images to white and
turns transparent areas black); the EXIF orientation is applied.
"""
import re
import time
import warnings
from pathlib import Path

import torch
import torchvision
from PIL import Image, ImageOps, UnidentifiedImageError

from kit import checkpoint, common
from kit.data import SyntheticCIFAR10

UNSUPPORTED_HINTS = {".heic": "iPhone HEIC photos need the pillow-heif plugin; export it as JPEG",
                     ".heif": "HEIF photos need the pillow-heif plugin; export it as JPEG",
                     ".svg": "SVG is a vector drawing, not pixels; export it as PNG"}
# what a folder is searched for: every extension Pillow can open, plus formats learners try that it can't
IMAGE_SUFFIXES = {ext for ext, fmt in Image.registered_extensions().items() if fmt in Image.OPEN}
IMAGE_SUFFIXES |= set(UNSUPPORTED_HINTS)

transform = torchvision.transforms.Compose([torchvision.transforms.Resize((32, 32)),  # squashes, as the course
                                            torchvision.transforms.ToTensor()])        # (3, 32, 32) in [0, 1]


class Refused(Exception):
    """One input that cannot be used: "<path>: <what is wrong>"."""


def find_checkpoint():
    """The newest best.pth under checkpoints/, or one line saying how to make one."""
    found = sorted(common.CHECKPOINT_DIR.rglob("best.pth"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise common.LessonError(f"no checkpoint (best.pth) in {common.CHECKPOINT_DIR}: train one first with "
                                 "`python lessons/p27_train.py --quick` (takes seconds), or pass --checkpoint PATH")
    return found[-1]


def collect(paths):
    """The image files to predict, in order, and a refusal line for each path that gives none."""
    files, refused = [], []
    for path in paths:
        if path.is_dir():
            images = sorted(p for p in path.iterdir()
                            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
            if not images:
                refused.append(f"{path}: no images in this folder (looked for .jpg, .png, .gif, .bmp, .webp ...; "
                               "sub-folders are not searched)")
            files += images
        elif path.is_file():
            files.append(path)
        else:
            refused.append(f"{path}: no such file or folder")
    unique = list(dict.fromkeys(files))  # the same file named twice is predicted once
    return unique, refused


def to_rgb(image):
    """Any Pillow image -> 8-bit RGB, looking the way an image viewer shows it."""
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


def open_image(path):
    """(RGB image, a description of the file as opened), or Refused with one line saying why not."""
    hint = UNSUPPORTED_HINTS.get(path.suffix.lower())
    try:
        # Pillow warns about images over MAX_IMAGE_PIXELS (89 million) and refuses twice that: a tiny file
        # can unpack to gigabytes (a "decompression bomb"). Refuse both, keeping the limit on.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if getattr(image, "n_frames", 1) > 1:
                    print(f"note {path}: {image.n_frames} frames (animated); using the first")
                opened = f"<{type(image).__name__} mode={image.mode} size={image.width}x{image.height}>"
                image.draft("RGB", (64, 64))  # JPEG only: decode a big photo at 1/2..1/8 size, much faster
                image = ImageOps.exif_transpose(image)  # phone photos: turn upright as the EXIF tag says
                return to_rgb(image), opened  # the pixels are decoded by now: truncated files fail above
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


def main(argv=None):
    p = common.parser(__doc__, data=False)
    p.add_argument("images", nargs="*", type=Path,
                   help="image files or folders (default: the samples in data/samples/)")
    p.add_argument("--checkpoint", type=Path, help="checkpoint to load (default: the newest best.pth "
                                                   "under checkpoints/)")
    p.add_argument("--batch-size", type=common.positive_int, default=64, help="images per batch (default: 64)")
    args = p.parse_args(argv)  # --quick is accepted for uniformity; predicting is already quick
    common.seed_everything(args.seed)
    device = common.get_device(args.device)

    # the course: model = torch.load("tudui_29_gpu.pth", map_location=torch.device('cpu')), which
    # unpickles (runs) whatever is in the file; load_tudui rebuilds only tensors and an allow-listed Tudui
    ckpt_path = args.checkpoint or find_checkpoint()
    model, classes = checkpoint.load_tudui(ckpt_path, device)
    model.eval()  # as the course (load_tudui did it already): layers like Dropout/BatchNorm switch to inference
    print(f"checkpoint: {ckpt_path}")
    print(model)
    print(f"{len(classes)} classes: {', '.join(classes)}")

    files, refused = collect(args.images or [common.DATA_DIR / "samples"])
    single = len(files) + len(refused) == 1  # one input: its problem becomes the one error line
    for line in refused if not single else []:
        print(f"refused {line}")
    images, names = [], []  # (3, 32, 32) tensors and the files they came from
    for path in files:
        try:
            image, opened = open_image(path)
        except Refused as e:
            refused.append(str(e))
            if not single:
                print(f"refused {e}")
            continue
        if not images:  # the course's steps, shown once
            print(f"\nThe course's steps on the first image, {path}:")
            print(f"Image.open: {opened} -> .convert('RGB'): mode={image.mode} size={image.width}x{image.height}")
        tensor = transform(image)
        if not images:
            print(f"Resize((32, 32)) + ToTensor(): {tensor.shape}")            # torch.Size([3, 32, 32])
            one = torch.reshape(tensor, (1, 3, 32, 32))  # the model wants a batch: (3, 32, 32) -> (1, 3, 32, 32)
            with torch.no_grad():  # no training here: no gradients, less memory
                output = model(one.to(device))
            print(f"reshape: {one.shape}\noutput: {output}")
            print(f"output.argmax(1): {output.argmax(1)} -> {classes[output.argmax(1).item()]}\n")
        images.append(tensor)
        names.append(path)

    if not images:
        if single:
            raise common.LessonError(refused[0])
        raise common.LessonError(f"nothing could be predicted: all {len(refused)} inputs were refused (see above)")

    # all images at once, in batches: (N, 3, 32, 32) -> (N, num_classes) -> probabilities
    start = time.perf_counter()
    probs = []
    with torch.no_grad():
        for batch in torch.stack(images).split(args.batch_size):  # (N, 3, 32, 32) -> pieces of batch_size
            output = model(batch.to(device))                       # (B, 3, 32, 32) -> (B, num_classes)
            probs.append(torch.softmax(output, dim=1).cpu())        # logits -> probabilities summing to 1
    probs = torch.cat(probs)
    seconds = time.perf_counter() - start
    top_p, top_i = probs.topk(min(3, len(classes)), dim=1)         # (N, 3) each

    width = max(len(shown(n)) for n in names)
    rows = []
    print(f"{'file':<{width}}  {'prediction':<12}  top-3 probabilities")
    for name, ps, idx in zip(names, top_p.tolist(), top_i.tolist()):
        top3 = ", ".join(f"{classes[i]} {p:.1%}" for p, i in zip(ps, idx))
        print(f"{shown(name):<{width}}  {classes[idx[0]]:<12}  {top3}")
        rows.append((name, classes[idx[0]], ps[0], top3))
    print(f"{len(images)} image(s) predicted in {seconds * 1000:.1f} ms on {common.device_name(device)}"
          + (f"; {len(refused)} input(s) refused (see above)" if refused else ""))

    synthetic = list(classes) == SyntheticCIFAR10.classes  # a checkpoint trained on the synthetic shapes
    with common.writer("p32_test", args, synthetic=synthetic) as writer:
        digits = len(str(len(rows) - 1))  # input/00 ... input/99, or 000 ... for more: the cards stay in order
        for k, ((name, label, p, _), tensor) in enumerate(zip(rows, images)):
            writer.add_image(f"input/{k:0{digits}d} {name.name}: {label} {p:.0%}", tensor)  # (3, 32, 32)
        table = ["| file | prediction | top-3 probabilities |", "|---|---|---|"]
        table += [f"| {shown(name)} | {label} | {top3} |" for name, label, _, top3 in rows]
        table += [f"| {line.split(': ', 1)[0]} | refused: {line.split(': ', 1)[-1]} | |" for line in refused]
        writer.add_text("predictions", "\n".join(table))
        common.tensorboard_hint(writer)
    return 0


def shown(path):
    """A path as short as it can be: relative to the current folder when it is inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    common.run(main)
