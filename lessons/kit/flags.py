"""The command line every lesson shares (flags, the repo's folders, seed, device). torch is imported only in parse():
`python -m lessons` uses the paths and the number types and must start at once.

    p = flags.parser(__doc__, steps=(10, 3))  # --dataset, ..., --steps 10 (3 --quick); data=False ... leave some out
    p.add_argument(...)                        # the lesson's own flags
    args = flags.parse(p, argv)                # parsed; seeded; args.device is a torch.device; --quick applied
"""
import argparse
import os
import random
from pathlib import Path

from kit import i18n
from kit.errors import LessonError
from kit.i18n import N_, _

REPO = Path(__file__).resolve().parents[2]
DATA_DIR, LOG_DIR, CHECKPOINT_DIR = REPO / "data", REPO / "logs", REPO / "checkpoints"
MINI = DATA_DIR / "hymenoptera_mini"  # the drawn ants and bees of P7-P13 (see its README)
FIRST_ANT = MINI / "train" / "ants_image" / "ant_00.jpg"


def parser(doc, *, data=True, batch_size=64, steps=None, device=True, seed=True, quick=True):
    """An ArgumentParser with only the shared flags a lesson uses (data=False, device=False, seed=False, quick=False
    leave those out); steps=(default, with --quick) adds --steps."""
    p = argparse.ArgumentParser(description=_(doc), formatter_class=argparse.RawDescriptionHelpFormatter)
    if data:
        p.add_argument("--dataset", default="auto", choices=["auto", "cifar10", "synthetic", "folder"],
                       help=_("auto: CIFAR-10 if on disk or downloadable, else synthetic (default: auto)"))
        p.add_argument("--data-root", type=Path, default=DATA_DIR,
                       help=_("where CIFAR-10 is kept, or ROOT of ROOT/train/<class>/ and ROOT/test/<class>/ "
                              "for --dataset folder (default: data/ in the repo)"))
    if data and batch_size:  # batch_size=None: the lesson has no DataLoader (P14, P33): no --batch-size, --num-workers
        p.add_argument("--batch-size", type=positive_int, default=batch_size,
                       help=_("images per batch (default: %(default)s)"))
        p.add_argument("--num-workers", type=non_negative_int, default=0,
                       help=_("DataLoader worker processes; 0 loads in the main process (default: 0)"))
    if steps:
        p.add_argument("--steps", type=positive_int, default=steps[0],
                       help=_("batches to run (default: {n}; {quick} with --quick)").format(n=steps[0], quick=steps[1]))
        p.set_defaults(quick_steps=steps[1])
    p.add_argument("--logdir", type=Path, default=LOG_DIR, help=_("TensorBoard log folder (default: the repo's logs/)"))
    if device:
        p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"],
                       help=_("auto picks CUDA, then Apple MPS, then CPU (default: auto)"))
    if seed:
        p.add_argument("--seed", type=seed_number, default=0, help=_("random seed (default: 0)"))
    if quick:
        p.add_argument("--quick", action="store_true", help=_("smoke run: a few batches on little data, in seconds"))
    add_lang(p)
    return p


def add_lang(p):
    """--lang, which every lesson and `python -m lessons` take: kit.i18n reads it before anything is printed."""
    p.add_argument("--lang", choices=i18n.LANGUAGES,
                   help=_("the language of the messages: zh (中文) or en (default: the system's)"))


def add_image(p):
    """--image, for the lessons that transform one picture (P10, P12, P13)."""
    p.add_argument("--image", type=Path, default=FIRST_ANT, help=_("the picture (default: the first drawn ant)"))


def parse(p, argv=None):
    """Parse, then do what the shared flags ask: --quick caps --steps, --seed seeds, --device is resolved."""
    args = p.parse_args(argv)
    if args.lang:
        i18n.use(args.lang)
    if getattr(args, "quick", False) and hasattr(args, "quick_steps"):
        args.steps = min(args.steps, args.quick_steps)
    if hasattr(args, "seed"):
        seed_everything(args.seed)
    if hasattr(args, "device"):
        args.device = get_device(args.device)
    return args


def number_type(kind, ok, rule):
    """An argparse type: a bad value is one line ("argument --lr: must be more than 0, got -1"), exit code 2."""
    def check(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError((_("{text!r} is not a whole number") if kind is int else
                                              _("{text!r} is not a number")).format(text=text)) from None
        if not ok(value):
            raise argparse.ArgumentTypeError(_("{rule}, got {text}").format(rule=_(rule), text=text))
        return value
    return check


positive_int = number_type(int, lambda v: 1 <= v <= 2**31, N_("must be from 1 to 2147483648"))
non_negative_int = number_type(int, lambda v: 0 <= v <= 2**31, N_("must be from 0 to 2147483648"))
positive_float = number_type(float, lambda v: 0 < v < float("inf"), N_("must be more than 0 (and finite)"))
non_negative_float = number_type(float, lambda v: 0 <= v < float("inf"), N_("must be 0 or more (and finite)"))
seed_number = number_type(int, lambda v: 0 <= v < 2**32, N_("must be from 0 to 4294967295"))


def seed_everything(seed):
    import torch
    random.seed(seed)
    torch.manual_seed(seed)  # also seeds CUDA


def get_device(name="auto"):
    """`auto` picks CUDA, then Apple's MPS, then the CPU; asking for one that is absent is an error."""
    import torch
    have = {"cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available(), "cpu": True}  # auto's order
    name = next(n for n in have if have[n]) if name == "auto" else name
    if not have.get(name, True):
        raise LessonError(_("--device {name} was asked for, but this machine has none (try --device cpu)")
                          .format(name=name))
    return torch.device(name)


def device_name(device):
    """The hardware in words, for honest timings."""
    import torch
    if device.type in ("cuda", "mps"):
        return torch.cuda.get_device_name(device) if device.type == "cuda" else "Apple MPS"
    return _("CPU ({cores} cores, {threads} threads)").format(cores=os.cpu_count(), threads=torch.get_num_threads())
