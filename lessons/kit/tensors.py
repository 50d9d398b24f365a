"""P33's data path: a whole data set as one uint8 tensor, and batches made from it with a few tensor ops.

    train_x, train_y = tensors.as_tensors(data.train_set, cache_dir)   # (N, 3, 32, 32) uint8, (N,) int64
    x = tensors.to_float(train_x[idx], mean, std, channels_last=True, generator=g)  # crop, flip, normalise

No Dataset, DataLoader or PIL per image: a batch is a slice of a tensor, and the crop and flip act on the
whole batch on whatever device holds the tensor (the GPU keeps the whole set in its memory as uint8).

The cache: image folders (JPEG/PNG) are decoded once into <cache_dir>/<parent>-<folder>-<N>-<key>.pt.
The key hashes every file's absolute path, size, mtime and label, so a changed file makes a new cache, and
the same folder reached by another path (relative, with ..) finds the old one. The new file is written
through a temp file and a rename (checkpoint.atomic_save) before the folder's older cache is removed, so
a failed write (disk full, no permission, a file where the folder should be) is one line naming the path
and the cause, and never costs the cache that was there. CIFAR-10 and the synthetic set are tensors
already and need no cache.
"""
import hashlib
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torch.utils.data import Subset

from kit import checkpoint
from kit.common import DATA_DIR, LessonError
from kit.data import SyntheticCIFAR10
from kit.writes import write_failure

CACHE_DIR = DATA_DIR / "cache"
CACHE_VERSION = 1  # bump when the cache's format changes
# the random crop's largest shift in pixels: P33's runs are too short to over-fit, and bigger shifts
# only made its task harder (benchmarks/README.md)
TRANSLATE = 1


# ---------------------------------------------------------------- a data set as two tensors

def as_tensors(dataset, cache_dir=CACHE_DIR):
    """(N, 3, 32, 32) uint8 images and (N,) int64 labels of any data set kit.data returns."""
    base, idx = (dataset.dataset, list(dataset.indices)) if isinstance(dataset, Subset) else (dataset, None)
    if isinstance(base, torchvision.datasets.DatasetFolder):  # JPEG/PNG files: decode once, cache
        samples = base.samples if idx is None else [base.samples[i] for i in idx]
        root = Path(os.path.abspath(base.root))  # one name for the folder, whichever path reached it
        return cached_decode(samples, f"{root.parent.name}-{root.name}-{len(samples)}", cache_dir)
    if isinstance(base, SyntheticCIFAR10):
        images = base.data                                          # already (N, 3, 32, 32) uint8
    elif isinstance(base, torchvision.datasets.CIFAR10):
        images = torch.from_numpy(base.data).permute(0, 3, 1, 2)    # (N, 32, 32, 3) -> (N, 3, 32, 32)
    else:  # any other Dataset of [0, 1] float images: go through it once
        images = torch.stack([(base[i][0] * 255).round().to(torch.uint8) for i in range(len(base))])
    labels = torch.as_tensor(base.targets)
    if idx is not None:
        images, labels = images[idx], labels[idx]
    return images.contiguous(), labels.long()


def cached_decode(samples, name, cache_dir):
    """Decode image files once into cache_dir/<name>-<key>.pt; the key changes when any file does."""
    key = hashlib.sha1(f"v{CACHE_VERSION} {len(samples)}\n".encode())
    for path, label in samples:  # the data's identity: every file's absolute path, size, mtime and label
        st = os.stat(path)
        key.update(f"{os.path.abspath(path)}\t{st.st_size}\t{st.st_mtime_ns}\t{label}\n".encode())
    cache_dir = Path(cache_dir)
    file = cache_dir / f"{name}-{key.hexdigest()[:16]}.pt"
    if file.is_file():
        try:
            blob = torch.load(file, weights_only=True)  # tensors only: nothing in the file can run
            return blob["images"], blob["labels"]
        except Exception:  # truncated or foreign file: make it again
            print(f"warning: the cache {file} is unreadable; decoding the images again", flush=True)
    check_writable(cache_dir)  # before a minute of decoding, not after
    print(f"decoding {len(samples):,} images once into {file} ...", flush=True)
    t0 = time.perf_counter()
    paths = [p for p, _ in samples]
    chunks = [paths[i:i + 1000] for i in range(0, len(paths), 1000)]
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:  # Pillow's decoder releases the GIL
        arrays = [a for chunk in pool.map(decode_files, chunks) for a in chunk]
    images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()  # (N,32,32,3) -> (N,3,32,32)
    labels = torch.tensor([label for _, label in samples], dtype=torch.long)
    checkpoint.atomic_save({"images": images, "labels": labels}, file)  # a failure: one line, nothing lost
    for old in cache_dir.glob(f"{name}-*.pt"):  # the same folder's cache from before the data changed
        if old != file:
            try:
                old.unlink()
            except OSError as e:  # the new cache is written already: only disk space is at stake
                print(f"warning: could not remove the old cache {old}: {e.strerror or e}", flush=True)
    print(f"decoded in {time.perf_counter() - t0:.1f} s", flush=True)
    return images, labels


def check_writable(cache_dir):
    """One line naming the folder and the cause if the cache cannot be written there."""
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=cache_dir):
            pass
    except OSError as e:
        cause = write_failure(cache_dir / "cache.pt", e)
        raise LessonError(f"cannot write the decoded-image cache in {cache_dir}: {cause} "
                          "(choose another folder with --cache-dir)") from None


def decode_files(paths):
    from PIL import Image

    out = []
    for path in paths:
        try:
            with Image.open(path) as img:
                img = img.convert("RGB")  # PNG with alpha, grayscale, CMYK -> 3 channels
                if img.size != (32, 32):
                    img = img.resize((32, 32), Image.BILINEAR)  # what transforms.Resize((32, 32)) does
                out.append(np.asarray(img, dtype=np.uint8))
        except OSError as e:
            raise LessonError(f"cannot read image {path}: {e}") from None
    return out


# ---------------------------------------------------------------- uint8 batch -> model input

def channel_stats(images, n=10_000):
    """Per-channel mean and std, (1, 3, 1, 1) each, of about n images spread over the whole set."""
    sample = images[::max(1, len(images) // n)].float() / 255
    mean = sample.mean(dim=(0, 2, 3)).view(1, 3, 1, 1)
    std = sample.std(dim=(0, 2, 3)).clamp_min(0.05).view(1, 3, 1, 1)  # a flat channel is not blown up
    return mean, std


def to_float(images, mean, std, channels_last, generator=None, translate=TRANSLATE):
    """uint8 (B, 3, 32, 32) -> float, augmented if a generator is given, normalised, in the chosen layout."""
    x = images.float().div_(255)          # [0, 1], as ToTensor() gives
    if generator is not None:
        x = augment(x, generator, translate)
    if mean is not None:
        # the first conv's zero padding, done here while 0 still means black: then the normalisation
        # folds into that conv exactly when the model is saved; conv1 itself runs with padding 0
        x = F.pad(x, (2, 2, 2, 2))        # (B, 3, 32, 32) -> (B, 3, 36, 36)
        x = (x - mean) / std              # mean/std: (1, 3, 1, 1), broadcast over the batch
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    return x


def augment(x, generator, pad=TRANSLATE):
    """Random crop (pad, reflect) and horizontal flip of a whole batch: no Python loop over images."""
    b, _, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")                 # (B, 3, 34, 34) for pad 1
    dy = torch.randint(0, 2 * pad + 1, (b, 1, 1, 1), device=x.device, generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (b, 1, 1, 1), device=x.device, generator=generator)
    rows = dy + torch.arange(h, device=x.device).view(1, 1, h, 1)           # (B, 1, 32, 1)
    cols = dx + torch.arange(w, device=x.device).view(1, 1, 1, w)           # (B, 1, 1, 32)
    flip = torch.rand(b, 1, 1, 1, device=x.device, generator=generator) < 0.5
    cols = torch.where(flip, 2 * pad + w - 1 - cols, cols)                  # mirror = read columns backwards
    batch = torch.arange(b, device=x.device).view(b, 1, 1, 1)
    chan = torch.arange(3, device=x.device).view(1, 3, 1, 1)
    return padded[batch, chan, rows, cols]                                  # (B, 3, 32, 32)
