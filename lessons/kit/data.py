"""CIFAR-10 for every lesson: the real data set, your own image folders, or a synthetic stand-in.

    data = load_data(args)          # args from common.parser(): --dataset, --data-root, ...
    data = load_datasets(args)      # the same without loaders: P27-P31 build their own DataLoaders
    data.train_set, data.test_set   # Datasets yielding (3, 32, 32) float tensors in [0, 1] and a class index
    data.train_loader               # shuffled, as training needs
    data.test_loader                # in order
    data.classes                    # class names, e.g. ['airplane', 'automobile', ...]
    data.synthetic                  # True when the synthetic stand-in is used

--dataset cifar10    torchvision's CIFAR10 under data/ (downloaded when missing, about 170 MB).
--dataset folder     ROOT/train/<class>/* and ROOT/test/<class>/* (torchvision's ImageFolder layout),
                     resized to 32x32: the real CIFAR-10 as JPEGs, or your own photos.
--dataset synthetic  10 classes of shapes and stripes, made from a fixed seed in a second,
                     learnable by Tudui, so the curves still mean something offline.
--dataset auto       cifar10 when it is on disk or downloads; otherwise one warning and synthetic.
--quick              a deterministic subset (2,048 train / 512 test images), for smoke runs.
"""
from dataclasses import dataclass

import torch
import torchvision
from PIL import Image, UnidentifiedImageError
from torch.utils.data import DataLoader, Dataset, Subset
from torchvision import transforms

from kit import locks
from kit.common import SYNTHETIC_FALLBACK, LessonError, download_timeout

QUICK_TRAIN, QUICK_TEST = 2048, 512
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


@dataclass
class Data:
    train_set: Dataset
    test_set: Dataset
    classes: list
    name: str  # "cifar10", "folder" or "synthetic"
    train_loader: DataLoader = None  # load_data() fills these; load_datasets() leaves them to the lesson
    test_loader: DataLoader = None

    @property
    def synthetic(self):
        return self.name == "synthetic"


def load_data(args, train_transform=None):
    """Datasets and loaders for args.dataset; train_transform (e.g. augmentation) acts on (3, 32, 32) tensors."""
    data = load_datasets(args, train_transform)
    # shuffle the training data (the course's train.py forgot); a seeded generator makes runs repeatable
    data.train_loader = DataLoader(data.train_set, batch_size=args.batch_size, shuffle=True,
                                   generator=torch.Generator().manual_seed(getattr(args, "seed", 0)),
                                   **loader_options(args.num_workers))
    data.test_loader = DataLoader(data.test_set, batch_size=args.batch_size, shuffle=False,
                                  **loader_options(args.num_workers))
    return data


def loader_options(num_workers, pin_memory=False):
    """DataLoader options beyond the course's: keep worker processes alive between epochs (starting them
    again each epoch costs seconds, far more on Windows and macOS), and pinned memory for a CUDA GPU."""
    return {"num_workers": num_workers, "persistent_workers": num_workers > 0, "pin_memory": pin_memory}


def load_datasets(args, train_transform=None):
    """The train and test Datasets (no loaders yet): CIFAR-10, your folders, or the synthetic stand-in."""
    extra = [train_transform] if train_transform else []
    name = args.dataset
    if name in ("auto", "cifar10"):
        try:
            train_set, test_set = cifar10(args.data_root, extra)
            name = "cifar10"
        except (OSError, RuntimeError, ValueError, LessonError) as e:  # offline, firewall, disk full, bad archive
            if name == "cifar10":
                raise LessonError(f"CIFAR-10 could not be loaded or downloaded into {args.data_root}: {e}") from None
            print(f"warning: CIFAR-10 is not in {args.data_root} and could not be downloaded ({short(e)}); "
                  f"{SYNTHETIC_FALLBACK} (runs marked -synthetic)", flush=True)
            name = "synthetic"
    if name == "folder":
        train_set, test_set = image_folder(args.data_root, extra)
    elif name == "synthetic":
        n_train, n_test = (QUICK_TRAIN, QUICK_TEST) if args.quick else (50_000, 10_000)
        train_set = SyntheticCIFAR10(n_train, seed=0, transform=transforms.Compose(extra) if extra else None)
        test_set = SyntheticCIFAR10(n_test, seed=1)
    classes = train_set.classes
    if args.quick:
        train_set, test_set = subset(train_set, QUICK_TRAIN), subset(test_set, QUICK_TEST)
    return Data(train_set, test_set, list(classes), name)


def cifar10(root, extra):
    tf = transforms.Compose([transforms.ToTensor(), *extra])
    try:  # on disk already? (no network touched)
        return (torchvision.datasets.CIFAR10(root, train=True, transform=tf),
                torchvision.datasets.CIFAR10(root, train=False, transform=transforms.ToTensor()))
    except RuntimeError:
        pass
    # One download at a time into a folder: a second lesson (the tour runs two at once) waits, then finds
    # the files there. A cifar-10-python.tar.gz copied into the folder by hand is used as it is:
    # torchvision checks its md5 and extracts it without touching the network.
    with locks.hold(root, "data folder", wait=True), download_timeout():
        return (torchvision.datasets.CIFAR10(root, train=True, transform=tf, download=True),
                torchvision.datasets.CIFAR10(root, train=False, transform=transforms.ToTensor(), download=True))


def image_folder(root, extra):
    # ImageFolder's loader already does Image.open(f).convert('RGB'), so PNGs with alpha and grayscale work
    resize = [transforms.Resize((32, 32)), transforms.ToTensor()]
    sets = []
    for split, tf in (("train", resize + extra), ("test", resize)):
        folder = root / split
        if not folder.is_dir():
            raise LessonError(f"no folder {folder} (--dataset folder wants ROOT/train/<class>/ and ROOT/test/<class>/)")
        try:
            sets.append(torchvision.datasets.ImageFolder(folder, transform=transforms.Compose(tf), loader=load_image))
        except FileNotFoundError as e:  # no class folders, or no images in them
            raise LessonError(f"{folder}: {e}") from None
    if sets[0].classes != sets[1].classes:
        raise LessonError(f"{root}: train/ and test/ have different class folders")
    return sets


def load_image(path):
    """ImageFolder's own loader (open, then .convert('RGB')), naming the file that cannot be read.

    A broken file (a truncated JPEG, a text file named .jpg) stops the lesson with one line naming it,
    rather than being skipped: skipping would train on a set other than the folder, and the learner
    would learn of it from a warning lost among the progress lines. Also from a DataLoader worker
    (--num-workers 2): LessonError keeps its one line when the main process raises it again.
    """
    try:
        with open(path, "rb") as f:
            return Image.open(f).convert("RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:  # what PIL raises for bad files
        why = "not a picture format PIL knows" if isinstance(e, UnidentifiedImageError) else short(e)
        raise LessonError(f"{path} is not a readable image ({why}): delete or replace it") from None


def subset(dataset, n):
    """A fixed random subset of n items (the same every run), keeping .classes."""
    if len(dataset) <= n:
        return dataset
    idx = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0))[:n]
    sub = Subset(dataset, idx.tolist())
    sub.classes = dataset.classes
    return sub


def short(e):
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    return text[:120]


class SyntheticCIFAR10(Dataset):
    """CIFAR-10-shaped pictures of 10 shapes and patterns: bright shape, dark background, noise.

    Position, size, colours and stripe width vary per image, so a model has to learn the shape,
    and the class names say honestly what is drawn.
    """
    classes = ["disc", "ring", "square", "frame", "plus", "cross", "triangle",
               "horizontal stripes", "vertical stripes", "checkerboard"]

    def __init__(self, n, seed=0, transform=None):
        self.data, self.targets = make_shapes(n, seed)  # (n, 3, 32, 32) uint8, list of int
        self.transform = transform

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, i):
        img = self.data[i].float() / 255  # the same as ToTensor() on a real image
        if self.transform:
            img = self.transform(img)
        return img, self.targets[i]


def make_shapes(n, seed):
    g = torch.Generator().manual_seed(seed)
    labels = (torch.arange(n) % 10)[torch.randperm(n, generator=g)]
    u = lambda *shape: torch.rand(n, *shape, generator=g)  # noqa: E731  one random draw per image
    cx, cy, s = 10 + 12 * u(1, 1), 10 + 12 * u(1, 1), 6 + 5 * u(1, 1)  # centre and half-size
    period, phase = (4 + 5 * u(1, 1)).floor(), 8 * u(1, 1)            # stripe width and offset
    # colours as bytes, like a real image: bright shape 128..230 on a dark background 0..115
    fg, bg = (128 + 102 * u(3, 1, 1)).to(torch.uint8), (115 * u(3, 1, 1)).to(torch.uint8)
    yy, xx = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    mask = torch.empty(n, 32, 32, dtype=torch.bool)
    for k in range(10):  # draw each class's shape on its own images only
        i = (labels == k).nonzero().squeeze(1)
        dx, dy, s_, p_, f_ = xx - cx[i], yy - cy[i], s[i], period[i], phase[i]  # (m, 32, 32)
        r, box = (dx**2 + dy**2).sqrt(), torch.maximum(dx.abs(), dy.abs())
        mask[i] = [
            lambda: r <= s_,                                                          # disc
            lambda: (r - s_).abs() <= 1.5,                                            # ring
            lambda: box <= s_,                                                        # square
            lambda: (box - s_).abs() <= 1.5,                                          # frame
            lambda: ((dx.abs() <= 2) | (dy.abs() <= 2)) & (box <= s_),                # plus
            lambda: (((dx - dy).abs() <= 2) | ((dx + dy).abs() <= 2)) & (box <= s_),  # cross
            lambda: (dy.abs() <= s_) & (dx.abs() <= (dy + s_) / 2),                   # triangle
            lambda: ((yy + f_) / p_).floor() % 2 == 0,                                # horizontal stripes
            lambda: ((xx + f_) / p_).floor() % 2 == 0,                                # vertical stripes
            lambda: (((xx + f_) / p_).floor() + ((yy + f_) / p_).floor()) % 2 == 0,   # checkerboard
        ][k]()
    img = torch.where(mask.unsqueeze(1), fg, bg)                              # (n, 3, 32, 32) uint8
    img += torch.randint(0, 25, (n, 1, 32, 32), dtype=torch.uint8, generator=g)  # noise; stays <= 255
    return img, labels.tolist()
