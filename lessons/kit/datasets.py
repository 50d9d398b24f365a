"""The course's CIFAR10 line: --dataset cifar10 (downloaded), folder (ROOT/train/<class>/*), synthetic or auto."""
import contextlib
import os
import socket
import urllib.error

import torch
import torchvision
from torchvision.datasets.folder import IMG_EXTENSIONS as IMAGES

from kit import console, locks, synthetic
from kit.errors import LessonError, first_line, shown
from kit.i18n import N_, _
from kit.images import open_image as load_image  # ImageFolder's loader: a broken file is one line naming it

QUICK_TRAIN, QUICK_TEST = 2048, 512
DOWNLOAD_TIMEOUT = 15  # seconds without a byte before a download gives up
SYNTHETIC_FALLBACK = N_("using the built-in synthetic data set instead")  # the tour looks for these words
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def CIFAR10(args, train=True, transform=None):  # noqa: N802  (named as torchvision's class, which it returns)
    """torchvision's CIFAR10, your folders or the synthetic set; args.dataset says which then (board marks it)."""
    if args.dataset in ("auto", "cifar10"):
        try:
            dataset, args.dataset = cifar10(args.data_root, train, transform), "cifar10"
        except (OSError, RuntimeError, ValueError, LessonError) as e:  # offline, firewall, disk full, bad archive
            if args.dataset == "cifar10":
                raise LessonError(_("CIFAR-10 could not be loaded or downloaded into {root}: {why}").format(
                    root=shown(args.data_root), why=why_offline(e))) from None
            warn_offline(args.data_root, e)
            args.dataset = "synthetic"
    quick, n = getattr(args, "quick", False), (QUICK_TRAIN if train else QUICK_TEST)
    if args.dataset == "folder":
        dataset = image_folder(args.data_root, train, transform)
    elif args.dataset == "synthetic":  # seed 0 for the training set, 1 for the test set
        dataset = synthetic.SyntheticCIFAR10(n if quick else 50_000 if train else 10_000, 0 if train else 1, transform)
    return subset(dataset, n) if quick else dataset


def loader_options(num_workers, pin_memory=False):  # beyond the course: workers kept between epochs, pinned memory
    return {"num_workers": num_workers, "persistent_workers": num_workers > 0, "pin_memory": pin_memory,
            "multiprocessing_context": console.worker_context() if num_workers else None}  # Ctrl-C: kit/console.py


def cifar10(root, train, transform):
    with contextlib.suppress(RuntimeError):  # on disk already? (no network touched)
        return torchvision.datasets.CIFAR10(root, train=train, transform=transform)
    with locks.hold(root, N_("data folder"), wait=True), download_timeout():
        return torchvision.datasets.CIFAR10(root, train=train, transform=transform, download=True)


@contextlib.contextmanager
def download_timeout(seconds=DOWNLOAD_TIMEOUT):  # inside it a stalled connection (a firewall's drops) gives up
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(old)


def why_offline(error):  # a download failure in a few words, without urllib's own wording
    text = str(error)
    return (_("the download timed out") if isinstance(error, TimeoutError) or "timed out" in text else _("no network")
            if isinstance(error, urllib.error.URLError) or "urlopen" in text else first_line(error, 80))


def warn_offline(root, error):  # one line, once per process tree (LESSONS_WARNED is inherited), by rank 0 only
    if not os.environ.get("LESSONS_WARNED") and os.environ.get("RANK", "0") == "0":
        os.environ["LESSONS_WARNED"] = "1"
        print(_("warning: CIFAR-10 is not in {root} and could not be downloaded ({why}); {fallback} (runs marked "
                "-synthetic)").format(root=shown(root), why=why_offline(error), fallback=_(SYNTHETIC_FALLBACK)))


def image_folder(root, train, transform):
    """ROOT/train, or ROOT/test (else ROOT/val) as an ImageFolder, resized to 32x32."""
    splits = [root / n for n in ("train", "test", "val") if os.path.isdir(root / n)]
    folder, other = (next((f for f in splits if (f.name == "train") == want), None) for want in (train, not train))
    if folder is None:
        raise LessonError(_("no folder {folder} (--dataset folder wants ROOT/train/<class>/ and ROOT/test/<class>/ "
                            "or ROOT/val/<class>/)").format(folder=shown(root / ("train" if train else "test"))))
    if folder.name == "val":
        print(_("test set: {folder} (there is no test/ folder)").format(folder=shown(folder)))
    steps = [torchvision.transforms.Resize((32, 32))] + ([transform] if transform is not None else [])
    dataset = ImageFolder(folder, transform=torchvision.transforms.Compose(steps), loader=load_image)
    if other and [shown(d) for d in sorted(next(os.walk(other, onerror=ImageFolder.unreadable))[1])] != dataset.classes:
        raise LessonError(_("{root}: {a}/ and {b}/ have different class folders").format(
            root=shown(root), a=folder.name, b=other.name))
    return dataset


class ImageFolder(torchvision.datasets.ImageFolder):
    """torchvision's, each folder read once (its walk goes round link loops: `a/up -> ..` reads all, labelled a)."""

    def find_classes(self, directory):
        top, self.seen, self.found = os.fspath(directory), set(), []
        self.once(top)  # class folders: all marked as read before any is walked (`a/b -> ../b` is then skipped)
        names = [d for d in sorted(next(os.walk(top, onerror=self.unreadable))[1]) if self.once(os.path.join(top, d))]
        for label, name in enumerate(names):
            for folder, dirs, files in os.walk(os.path.join(top, name), onerror=self.unreadable, followlinks=True):
                dirs[:] = [d for d in sorted(dirs) if self.once(os.path.join(folder, d))]
                self.found += [(os.path.join(folder, f), label) for f in sorted(files) if f.lower().endswith(IMAGES)]
        empty = [n for i, n in enumerate(names) if i not in {label for _path, label in self.found}]
        if empty or not names:  # torchvision's own words would list every extension it knows
            raise LessonError(_("no images in {folder} (--dataset folder wants <split>/<class>/<image files>: .jpg, "
                                ".png ...)").format(folder=shown(os.path.join(top, *empty[:1]))))
        classes = [shown(n) for n in names]  # printable: the bytes of a name that are not UTF-8 as U+FFFD
        return classes, {c: i for i, c in enumerate(classes)}

    def make_dataset(self, *args, **kwargs):
        return self.found

    def once(self, folder):
        try:
            key = os.stat(folder)[1:3]  # (inode, device): the same folder through any link
        except OSError as e:  # a folder that may be listed but not entered (no x permission)
            self.unreadable(e)
        if key not in self.seen:
            self.seen.add(key)
            return True
        print(_("note: skipped {link}, a link to a folder read already (a loop?)").format(link=shown(folder)))
        return False

    @staticmethod
    def unreadable(error):
        raise LessonError(_("cannot read {path} ({why}): check its permissions, or move it out of the data folder")
                          .format(path=shown(error.filename), why=_(error.strerror) or first_line(error))) from None


def subset(dataset, n):
    """A fixed random subset of n items (the same every run), keeping .classes."""
    if len(dataset) <= n:
        return dataset
    idx = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0))[:n]
    sub = torch.utils.data.Subset(dataset, idx.tolist())
    sub.classes = dataset.classes
    return sub
