"""P33's data path, no DataLoader or PIL per image: a data set as one uint8 tensor, a batch a slice of it.

    train_x, train_y = fast_data.as_tensors(train_set, cache_dir)   # (N, 3, 32, 32) uint8, (N,) int64; folders cached
    x = fast_data.to_float(train_x[idx], mean, std, channels_last=True, generator=g)  # crop, flip, normalise
"""
import hashlib
import os
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
import torchvision
from PIL import Image

from kit import checkpoint, flags
from kit.errors import LessonError, first_line, shown, write_failure
from kit.i18n import _
from kit.images import open_image

CACHE_DIR = flags.DATA_DIR / "cache"
CACHE_VERSION = 2  # bump when the cache's format changes
TRANSLATE = 1  # the random crop's largest shift in pixels: bigger ones only hurt P33's short runs (benchmarks/)


def as_tensors(dataset, cache_dir=CACHE_DIR):
    """(N, 3, 32, 32) uint8 images and (N,) int64 labels of a data set from kit.datasets.CIFAR10."""
    base, idx = getattr(dataset, "dataset", dataset), getattr(dataset, "indices", slice(None))  # a Subset, or all
    if isinstance(base, torchvision.datasets.DatasetFolder):  # JPEG/PNG files: decode once, cache
        samples = base.samples[idx] if isinstance(idx, slice) else [base.samples[i] for i in idx]
        root = Path(os.path.abspath(base.root))  # one name for the folder, whichever path reached it
        return cached_decode(samples, shown(f"{root.parent.name}-{root.name}-{len(samples)}"), cache_dir)
    images = torch.from_numpy(base.data).permute(0, 3, 1, 2)[idx]  # CIFAR10 / synthetic: (N,32,32,3) -> (N,3,32,32)
    return images.contiguous(), torch.as_tensor(base.targets)[idx].long()


def cached_decode(samples, name, cache_dir):
    """Decode image files once into cache_dir/<name>-<key>.pt; the key changes when any file does."""
    key = hashlib.sha1(f"v{CACHE_VERSION} {len(samples)}\n".encode())
    for path, label in samples:  # fsencode: a name that is not UTF-8 (an old zip, a camera) as its bytes
        st = os.stat(path)
        key.update(os.fsencode(os.path.abspath(path)) + f"\t{st.st_size}\t{st.st_mtime_ns}\t{label}\n".encode())
    cache_dir, labels = Path(cache_dir), torch.tensor([label for _path, label in samples], dtype=torch.long)
    file = cache_dir / f"{name}-{key.hexdigest()[:16]}.pt"
    if file.is_file():
        try:  # weights_only: tensors only, nothing in the file can run; a broken file is made again
            images = torch.load(file, weights_only=True)["images"]
            if images.dtype != torch.uint8 or images.shape != (len(samples), 3, 32, 32):
                raise ValueError(_("it holds {got}, not {want} uint8 images").format(
                    got=f"{tuple(images.shape)} {images.dtype}", want=(len(samples), 3, 32, 32)))
            return images, labels
        except Exception as e:  # noqa: BLE001  truncated, another kind of file, other tensors
            print(_("warning: the cache {file} is unreadable ({why}); decoding the images again").format(
                file=shown(file), why=first_line(e, 80)))
    check_writable(cache_dir)  # before a minute of decoding, not after
    print(_("decoding {n} images once into {file} ...").format(n=f"{len(samples):,}", file=shown(file)), flush=True)
    t0, chunks = time.perf_counter(), [[p for p, _label in samples[i:i + 1000]] for i in range(0, len(samples), 1000)]
    with warnings.catch_warnings(), ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:  # Pillow frees the GIL
        warnings.simplefilter("error", Image.DecompressionBombWarning)  # for all threads: per-thread filters race
        arrays = [a for chunk in pool.map(decode_files, chunks) for a in chunk]
    images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()  # (N,32,32,3) -> (N,3,32,32)
    checkpoint.atomic_save({"images": images, "labels": labels}, file)  # a failure: one line, nothing lost
    for old in set(cache_dir.glob(f"{name}-*.pt")) - {file}:  # this folder's cache from before the data changed
        try:
            old.unlink()
        except OSError as e:  # the new cache is written already: only disk space is at stake
            print(_("warning: could not remove the old cache {file}: {why}").format(file=shown(old), why=_(e.strerror)))
    print(_("decoded in {seconds:.1f} s").format(seconds=time.perf_counter() - t0), flush=True)
    return images, labels


def check_writable(cache_dir):
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=cache_dir).close()
    except OSError as e:
        raise LessonError(_("cannot write the decoded-image cache in {folder}: {why} (choose another folder with "
                            "--cache-dir)").format(folder=shown(cache_dir),
                                                   why=write_failure(cache_dir / "cache.pt", e))) from None


def decode_files(paths):
    """(32, 32, 3) uint8 arrays; a broken file or a decompression bomb is one line naming it (kit.images)."""
    return [np.asarray(img if img.size == (32, 32) else img.resize((32, 32), Image.BILINEAR), dtype=np.uint8)
            for img in map(open_image, paths)]  # BILINEAR: what transforms.Resize((32, 32)) does


def channel_stats(images, n=10_000):
    """Per-channel mean and std, (1, 3, 1, 1) each, of about n images spread over the whole set."""
    sample = images[::max(1, len(images) // n)].float() / 255  # std at least 0.05: a flat channel is not blown up
    return sample.mean((0, 2, 3), keepdim=True), sample.std((0, 2, 3), keepdim=True).clamp_min(0.05)


def to_float(images, mean, std, channels_last, generator=None, translate=TRANSLATE):
    """uint8 (B, 3, 32, 32) -> float, augmented if a generator is given, normalised, in the chosen layout."""
    x = images.float().div_(255)          # [0, 1], as ToTensor() gives
    x = x if generator is None else augment(x, generator, translate)
    if mean is not None:  # conv1's zero padding, done while 0 means black: the normalisation then folds into conv1
        x = (torch.nn.functional.pad(x, (2, 2, 2, 2)) - mean) / std  # (B, 3, 32, 32) -> (B, 3, 36, 36), normalised
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def augment(x, generator, pad=TRANSLATE):
    """Random crop (pad, reflect) and horizontal flip (columns read backwards) of a whole batch, no Python loop."""
    b, _c, h, w = x.shape
    padded = torch.nn.functional.pad(x, (pad,) * 4, mode="reflect")         # (B, 3, 34, 34) for pad 1
    dy, dx = torch.randint(0, 2 * pad + 1, (2, b, 1, 1, 1), device=x.device, generator=generator)
    rows = dy + torch.arange(h, device=x.device).view(1, 1, h, 1)           # (B, 1, 32, 1)
    cols = dx + torch.arange(w, device=x.device).view(1, 1, 1, w)           # (B, 1, 1, 32)
    cols = torch.where(torch.rand(b, 1, 1, 1, device=x.device, generator=generator) < 0.5, 2 * pad + w - 1 - cols, cols)
    batch, chan = torch.arange(b, device=x.device).view(b, 1, 1, 1), torch.arange(3, device=x.device).view(1, 3, 1, 1)
    return padded[batch, chan, rows, cols]                                  # (B, 3, 32, 32)
