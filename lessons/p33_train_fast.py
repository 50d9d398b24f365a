"""P33 (bonus, beyond the course) 训练提速 — the same Tudui, trained many times faster

    python lessons/p33_train_fast.py --quick                      # smoke run, seconds
    python lessons/p33_train_fast.py --dataset folder --data-root ../shared/datasets/cifar10-jpg
    tensorboard --logdir logs/p33_train_fast                      # then open http://localhost:6006

The course's train.py (P27) needs 30 epochs to reach 66.7% test accuracy on CIFAR-10. This script
trains the *unchanged* Tudui (its state_dict loads into the course's model and into p32_test.py)
to that accuracy in 1 epoch, and to about 73% in 4. On a 2-core CPU Tudui's own arithmetic costs
0.6-0.8 ms per image per training step (1,300-1,800 images/s), so the only way to be fast is to need
fewer epochs: every trick below buys accuracy per epoch, or removes work around the model.

    --epochs 1     the course's 30-epoch accuracy (66.7%) in one epoch: about 45 s on 2 CPU cores
    --epochs 4     the default: about 73%, in under 3 minutes on 2 CPU cores

Nothing here is magic; each speed-up is a flag you can switch off to see what it buys:

  the data as one uint8 tensor   no Dataset/DataLoader/PIL per image: the set is decoded once into
                                 data/cache/ (the next run loads it in ~1 s) and a batch is a slice
                                 of a tensor. On a GPU the whole set lives on the GPU.
  --no-augment                   random crop (shift by up to --translate pixels, reflect padding) +
                                 horizontal flip, done on the whole batch with tensor ops.
  --translate 1                  the crop's largest shift: 1 pixel. A run of a few epochs is too short
                                 for Tudui to over-fit; bigger shifts only make its task harder.
  --no-normalize                 subtract the mean, divide by the std of each colour channel. When
                                 saving, the normalisation is folded into the first conv layer
                                 (exactly), so the saved model takes plain ToTensor() images, as p32 feeds.
  --no-whiten                    start the first conv as a whitening filter bank (the main directions
                                 of 5x5 image patches, scaled to unit variance), as hlb-CIFAR10 does.
  --optimizer sgd|nesterov       plain SGD (the course) or SGD + Nesterov momentum 0.9 + weight decay.
  --no-onecycle                  one-cycle learning rate: warm up for 25% of the steps to --lr, then
                                 decay linearly to almost 0 (constant --lr without it).
  --label-smoothing 0            soft targets (0.2 by default): a less over-confident model.
  --no-channels-last             NHWC memory layout, the convolution kernels' fastest on CPU and GPU.
  --batch-size, --lr             128 and 0.06: more steps per epoch than 512 at the same cost per image.
  --no-tta                       test-time augmentation: average the predictions for the image and its mirror.
  --clip 0                       cap the gradient's norm at 3: with whitening and lr 0.04 Tudui diverged
                                 (NaN) on the synthetic data without it; on CIFAR-10 it costs nothing.
  --no-keep-memory               keep the memory a step frees for the next step (glibc, Linux): no
                                 page faults, and the first epoch as fast as the others.
  --compile                      torch.compile: off by default, the first epoch pays the compile time.

What they bought, measured on this project's 2-core AMD EPYC VM (AVX2), torch 2.14 CPU, real
CIFAR-10 JPEGs (test accuracy with flip-TTA):
  data path         the course's DataLoader + PIL + ToTensor: 0.48 ms CPU per image; the uint8
                    tensor + normalise + crop + flip + channels_last: 0.06 ms per image.
  decoding once     50,000 + 10,000 JPEGs -> 180 MB cache in about 60 s; loading it: under 1 s.
  channels_last     a training step of Tudui: 848 -> 1,024 images/s at batch 64 (quiet machine).
  normalisation     10,000 training images, 2 epochs: 43.2% with it, 29.2% without.
  whitening         10,000 training images, 2 epochs, batch 256, lr 0.05: 44.0% -> 53.4%;
                    with batch 128, lr 0.04: 58.1%.
  batch and lr      batch 512 with lr 0.1 diverged (NaN) on the full set, with two seeds; batch 256,
                    lr 0.05, no whitening: 55.6%, 61.9%, 66.7% after epochs 1-3.
  translate         --epochs 3 with shifts of up to 4 / 2 / 1 / 0 pixels (0: flip only): 70.6 / 71.4 /
                    71.6 / 71.8%; no augmentation at all: 71.4%. --epochs 4: 2 px 72.2%, 1 px 73.1%.
  lr 0.06           --epochs 1, seeds 0 / 1 / 2: 66.8 / 66.6 / 66.6% with lr 0.04; 67.5 / 66.9 / 67.2%
                    with 0.06. --epochs 4: 73.1% -> 73.3%.
  keep-memory       --epochs 2: 5.3 million page faults -> 0.33 million; first epoch 40.7 -> 34.8 s.
  test pass         the 10,000 test images with TTA take 7.6 s in batches of 1,000 and 4.6 s in
                    batches of 250, whose activations stay in the CPU's caches.
  all of it         --epochs 1: 67.5% after 37 s of training. --epochs 4: 59.0, 65.0, 70.0, 73.3%
                    after epochs 1-4, 33-40 s per epoch (this VM's speed varies by 30% from hour
                    to hour; the README has the benchmark's table).
  --clip 3          --epochs 2 on CIFAR-10: 62.3%, 68.6% (82.7 s of training) vs 68.2% without it;
                    --quick on synthetic data, two seeds: NaN without it, 100% with it.
  exact folding     an earlier version folded the normalisation approximately (the conv's zero
                    padding differs): the saved model then lost 3 to 7 points. Padding before
                    normalising (to_float) makes the saved model compute exactly what was trained.
  --compile         works on CPU (needs a C++ compiler); it paid minutes of compiling and no
                    steady-state gain could be measured: off by default.
The benchmark (python benchmarks/bench_train.py) puts it next to the course's recipe; its latest
table is in the README.

TensorBoard, SCALARS: train_loss (every 100 steps; 10 with --quick), learning_rate (the one-cycle shape),
test_loss and test_accuracy (per epoch, a fraction), as in P27.
Checkpoints: checkpoints/p33_train_fast/best.pth (best test accuracy) and final.pth, loadable
with checkpoint.load_tudui and by p32_test.py.

Differences from the course's train.py: everything above; the model and the data are the same.
"""
import ctypes
import hashlib
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torch.utils.data import Subset

from kit import checkpoint, common
from kit.data import SyntheticCIFAR10, load_data
from model import Tudui

CACHE_DIR = common.DATA_DIR / "cache"
CACHE_VERSION = 1  # bump when the cache's format changes
TRANSLATE = 1  # the random crop's largest shift, in pixels: runs of a few epochs do best with small shifts
CLIP = 3.0  # gradient-norm cap: keeps whitening + lr 0.04-0.06 from diverging on easy data (synthetic)


# ---------------------------------------------------------------- data: one uint8 tensor per split

def as_tensors(dataset, cache_dir):
    """(N, 3, 32, 32) uint8 images and (N,) int64 labels of any data set load_data() returns."""
    base, idx = (dataset.dataset, list(dataset.indices)) if isinstance(dataset, Subset) else (dataset, None)
    if isinstance(base, torchvision.datasets.DatasetFolder):  # JPEG/PNG files: decode once, cache
        samples = base.samples if idx is None else [base.samples[i] for i in idx]
        root = Path(os.path.abspath(base.root))  # one name for the folder, whichever path reached it
        name = f"{root.parent.name}-{root.name}-{len(samples)}"
        return cached_decode(samples, name, cache_dir)
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
    print(f"decoding {len(samples):,} images once into {file} ...", flush=True)
    t0 = time.perf_counter()
    paths = [p for p, _ in samples]
    chunks = [paths[i:i + 1000] for i in range(0, len(paths), 1000)]
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:  # Pillow's decoder releases the GIL
        arrays = [a for chunk in pool.map(decode_files, chunks) for a in chunk]
    images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()  # (N,32,32,3) -> (N,3,32,32)
    labels = torch.tensor([label for _, label in samples], dtype=torch.long)
    # temp file, then rename: a killed run never leaves a half-written cache behind
    checkpoint.atomic_save({"images": images, "labels": labels}, file)
    for old in cache_dir.glob(f"{name}-*.pt"):  # the same folder's cache from before the data changed
        if old != file:
            old.unlink(missing_ok=True)
    print(f"decoded in {time.perf_counter() - t0:.1f} s", flush=True)
    return images, labels


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
            raise common.LessonError(f"cannot read image {path}: {e}") from None
    return out


# ---------------------------------------------------------------- the data path: a few tensor ops

def to_float(images, mean, std, channels_last, generator=None, translate=TRANSLATE):
    """uint8 (B, 3, 32, 32) -> float, augmented if a generator is given, normalised, in the chosen layout."""
    x = images.float().div_(255)          # [0, 1], as ToTensor() gives
    if generator is not None:
        x = augment(x, generator, translate)
    if mean is not None:
        # the first conv's zero padding, done here while 0 still means black: then the normalisation
        # folds into that conv exactly when we save (see fold_normalization); conv1 runs with padding 0
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


@torch.no_grad()
def whitening_init(conv, x, eps=5e-3):
    """Start conv1 as a whitening filter bank, as hlb-CIFAR10 / airbench do: its 32 filters become the
    32 main directions (eigenvectors) of the 5x5x3 patches of real images, each scaled to unit variance.
    From the first step the layers above see decorrelated, equally loud inputs, not 32 random blurs."""
    patches = F.unfold(x, conv.kernel_size).transpose(1, 2).reshape(-1, x.shape[1] * 25)  # (B*1024, 75)
    eigval, eigvec = torch.linalg.eigh(torch.cov(patches.T))            # ascending order
    top = eigvec[:, -conv.out_channels:] / (eigval[-conv.out_channels:] + eps).sqrt()  # (75, 32)
    conv.weight.copy_(top.T.reshape(conv.weight.shape))
    conv.bias.zero_()


def fold_normalization(tudui, mean, std):
    """A plain Tudui (padding 2) that takes [0, 1] images and computes exactly what tudui computes on
    to_float()'s padded, normalised ones:  conv(W, (x - m) / s) + b = conv(W / s, x) + b - sum(W * m / s)."""
    folded = Tudui(tudui.model[8].out_features)
    folded.load_state_dict(tudui.state_dict())
    conv = folded.model[0]
    with torch.no_grad():
        w = conv.weight / std.view(1, 3, 1, 1).to(conv.weight)
        conv.bias -= (w * mean.view(1, 3, 1, 1).to(w)).sum(dim=(1, 2, 3))
        conv.weight.copy_(w)
    return folded


def keep_freed_memory():
    """Linux (glibc) only: keep the memory a training step frees for the next step. By default glibc
    hands big freed blocks straight back to the OS, and the next step page-faults them in again:
    here 5.3 million page faults in 2 epochs, and a first epoch 15% slower than the second.
    With the two thresholds raised: 0.3 million, and the first epoch as fast as the rest."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # Windows, macOS, Alpine: nothing to tune here
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # from glibc's <malloc.h>
    return bool(libc.mallopt(M_MMAP_THRESHOLD, 256 << 20) and libc.mallopt(M_TRIM_THRESHOLD, 1 << 30))


# ---------------------------------------------------------------- train and test

def train_one_epoch(model, train_x, train_y, args, optimizer, scheduler, loss_fn, prep, generator, writer, step):
    model.train()
    n = len(train_x) - len(train_x) % args.batch_size if len(train_x) >= args.batch_size else len(train_x)
    perm = torch.randperm(len(train_x), device=train_x.device, generator=generator)
    for start in range(0, n, args.batch_size):  # the last, partial batch is dropped: a new order each epoch
        idx = perm[start:start + args.batch_size]
        imgs, targets = prep(train_x[idx], generator if args.augment else None), train_y[idx]
        outputs = model(imgs)                                      # (512, 3, 32, 32) -> (512, 10)
        loss = loss_fn(outputs, targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if args.clip:  # a cap on the gradient's length: one bad step cannot blow the weights up
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        step += 1
        if step % args.log_every == 0:  # .item() waits for the GPU: not on every step
            writer.add_scalar("train_loss", loss.item(), step)
        writer.add_scalar("learning_rate", optimizer.param_groups[0]["lr"], step)
    return step, n


@torch.no_grad()
def evaluate(model, test_x, test_y, prep, tta, batch_size=250):
    model.eval()
    loss_sum, correct = 0.0, 0
    for start in range(0, len(test_x), batch_size):
        imgs, targets = prep(test_x[start:start + batch_size]), test_y[start:start + batch_size]
        outputs = model(imgs)
        if tta:
            outputs = (outputs + model(imgs.flip(3))) / 2          # the image and its mirror image
        loss_sum += F.cross_entropy(outputs, targets, reduction="sum").item()
        correct += (outputs.argmax(1) == targets).sum().item()
    return loss_sum / len(test_x), correct / len(test_x)


def main(argv=None):
    p = common.parser(__doc__, batch_size=128)
    p.add_argument("--epochs", type=common.positive_int, default=4, help="epochs (default: 4)")
    p.add_argument("--lr", type=float, default=0.06,
                   help="peak learning rate (default: 0.06, for batch 128; with smaller batches or higher rates "
                        "Tudui can diverge)")
    p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (default: 0.9)")
    p.add_argument("--weight-decay", type=float, default=5e-4, help="L2 weight decay (default: 5e-4)")
    p.add_argument("--label-smoothing", type=float, default=0.2, help="0 switches it off (default: 0.2)")
    p.add_argument("--optimizer", default="nesterov", choices=["nesterov", "sgd"],
                   help="nesterov: SGD + Nesterov momentum + weight decay; sgd: the course's plain SGD")
    for flag, what in [("augment", "random crop + flip"), ("normalize", "per-channel normalisation"),
                       ("onecycle", "one-cycle learning rate (off: constant --lr)"),
                       ("channels-last", "NHWC memory layout"), ("tta", "flip test-time augmentation"),
                       ("whiten", "the whitening initialisation of the first conv"),
                       ("keep-memory", "keeping freed memory for the next step (glibc, Linux)")]:
        p.add_argument(f"--no-{flag}", dest=flag.replace("-", "_"), action="store_false", help=f"switch off {what}")
    p.add_argument("--translate", type=int, default=TRANSLATE, choices=range(0, 9), metavar="0..8",
                   help=f"random crop: shift each training image by up to this many pixels (default: {TRANSLATE})")
    p.add_argument("--clip", type=float, default=CLIP, help=f"clip the gradient norm to this; 0: off (default: {CLIP})")
    p.add_argument("--compile", action="store_true", help="torch.compile the model (first epoch pays compile time)")
    p.add_argument("--cache-dir", type=Path, default=CACHE_DIR, help="decoded-data cache (default: data/cache)")
    p.add_argument("--checkpoint-dir", type=Path, default=common.CHECKPOINT_DIR / "p33_train_fast",
                   help="where best.pth and final.pth go (default: checkpoints/p33_train_fast)")
    args = p.parse_args(argv)
    if not 0 <= args.label_smoothing < 1:
        raise common.LessonError(f"--label-smoothing must be in [0, 1), got {args.label_smoothing}")
    if args.lr <= 0:
        raise common.LessonError(f"--lr must be positive, got {args.lr}")
    args.log_every = 10 if args.quick else 100
    if args.quick:
        args.epochs = min(args.epochs, 8)
    if args.keep_memory:
        keep_freed_memory()
    common.seed_everything(args.seed)
    device = common.get_device(args.device)
    print(f"device: {common.device_name(device)}")

    t0 = time.perf_counter()
    data = load_data(args)  # resolves --dataset (auto/cifar10/folder/synthetic) like every lesson
    train_x, train_y = as_tensors(data.train_set, args.cache_dir)
    test_x, test_y = as_tensors(data.test_set, args.cache_dir)
    train_x, train_y, test_x, test_y = (t.to(device) for t in (train_x, train_y, test_x, test_y))
    if args.batch_size > len(train_x):
        args.batch_size = len(train_x)
    print(f"data ({data.name}): train {tuple(train_x.shape)}, test {tuple(test_x.shape)} uint8, "
          f"ready in {time.perf_counter() - t0:.1f} s")

    mean = std = None
    if args.normalize:  # per-channel statistics of about 10,000 training images, spread over all classes
        sample = train_x[::max(1, len(train_x) // 10_000)].float() / 255
        mean = sample.mean(dim=(0, 2, 3)).view(1, 3, 1, 1)
        std = sample.std(dim=(0, 2, 3)).clamp_min(0.05).view(1, 3, 1, 1)  # a flat channel is not blown up

    def prep(images, generator=None):
        return to_float(images, mean, std, args.channels_last, generator, args.translate)

    tudui = Tudui(len(data.classes)).to(device)
    if mean is not None:
        tudui.model[0].padding = (0, 0)  # to_float() pads instead (not a weight: the state_dict is unchanged)
    if args.whiten:  # 512 training images spread over the set (folders are sorted by class), as the model sees them
        whitening_init(tudui.model[0], prep(train_x[::max(1, len(train_x) // 512)][:512]).contiguous())
    if args.channels_last:
        tudui = tudui.to(memory_format=torch.channels_last)
    model = torch.compile(tudui) if args.compile else tudui  # shares tudui's parameters
    loss_fn = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
    if args.optimizer == "nesterov":
        optimizer = torch.optim.SGD(tudui.parameters(), lr=args.lr, momentum=args.momentum, nesterov=True,
                                    weight_decay=args.weight_decay)
    else:
        optimizer = torch.optim.SGD(tudui.parameters(), lr=args.lr)
    steps_per_epoch = max(1, len(train_x) // args.batch_size)
    scheduler = None
    if args.onecycle:
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch, pct_start=0.25,
            anneal_strategy="linear", div_factor=10, final_div_factor=100,
            cycle_momentum=False)  # momentum stays 0.9 (plain SGD has none to cycle)
    generator = torch.Generator(device=device).manual_seed(args.seed)

    def saved_model():  # the plain Tudui that takes ToTensor() images, as p32_test.py feeds it
        return fold_normalization(tudui, mean, std) if mean is not None else tudui

    best = -1.0
    step, train_time = 0, 0.0
    with common.writer("p33_train_fast", args, synthetic=data.synthetic) as writer:
        start = time.perf_counter()
        for epoch in range(1, args.epochs + 1):
            t_epoch = time.perf_counter()
            step, seen = train_one_epoch(model, train_x, train_y, args, optimizer, scheduler, loss_fn, prep,
                                         generator, writer, step)
            if device.type == "cuda":
                torch.cuda.synchronize()
            epoch_time = time.perf_counter() - t_epoch
            train_time += epoch_time
            test_loss, accuracy = evaluate(model, test_x, test_y, prep, args.tta)
            if test_loss != test_loss:  # NaN: the weights blew up, and more epochs will not bring them back
                raise common.LessonError(f"training diverged in epoch {epoch} (the loss is NaN): try a lower "
                                         f"--lr than {args.lr} (batch {args.batch_size})")
            writer.add_scalar("test_loss", test_loss, epoch)
            writer.add_scalar("test_accuracy", accuracy, epoch)
            writer.flush()
            print(f"epoch {epoch}/{args.epochs}: test_loss {test_loss:.4f}, test_accuracy {accuracy:.4f} | "
                  f"{epoch_time:.1f} s/epoch, {seen / epoch_time:,.0f} img/s | training {train_time:.1f} s, "
                  f"with tests {time.perf_counter() - start:.1f} s", flush=True)
            if accuracy > best:
                best = accuracy
                checkpoint.save(args.checkpoint_dir / "best.pth", saved_model(), classes=data.classes,
                                epoch=epoch, test_accuracy=accuracy, lesson="p33_train_fast")
        final = saved_model()
        checkpoint.save(args.checkpoint_dir / "final.pth", final, classes=data.classes, epoch=args.epochs,
                        test_accuracy=accuracy, lesson="p33_train_fast")
        if mean is not None:  # what p32_test.py will see: the folded model on plain [0, 1] images
            few = test_x[:1000]
            with torch.no_grad():
                trained, saved = model.eval()(prep(few)), final.to(device).eval()(to_float(few, None, None, False))
            print(f"the saved model (normalisation folded into the first conv) on plain [0, 1] images: "
                  f"the same prediction for {(trained.argmax(1) == saved.argmax(1)).sum().item()}/{len(few)} "
                  f"test images, logits within {(trained - saved).abs().max().item():.1e}")
        print(f"best test_accuracy {best:.4f}; checkpoints in {args.checkpoint_dir}")
        common.tensorboard_hint(writer)


if __name__ == "__main__":
    common.run(main)
