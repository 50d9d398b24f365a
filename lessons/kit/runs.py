"""What real training needs beyond the course's train.py (P27, P30, P31): checkpoints (state_dicts with the optimizer,
the step counters, the class names and the random states, written safely), --resume (the file checked first; the
curves equal an uninterrupted run's), one run per folder (earlier runs kept), a stop on divergence, a summary."""
import contextlib
import logging
import math
import sys
import time
from pathlib import Path

import torch
from torchvision import transforms

from kit import board, checkpoint, flags, locks
from kit.errors import LessonError, first_line, shown
from kit.i18n import _
from model import Tudui

AUGMENT = [transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip()]  # --augment: PIL image in and out
STATE = {"epoch": int, "total_train_step": int, "best_accuracy": (int, float), "log_dir": str, "classes": list}


def parse_args(p, lesson, argv):
    """Add the training flags (the defaults are the course's: SGD, lr 1e-2, 10 epochs) and parse."""
    add = p.add_argument
    add("--epochs", type=flags.positive_int, help=_("epochs to train (default: 10 as the course; 2 with --quick)"))
    add("--lr", type=flags.positive_float, default=1e-2, help=_("learning rate (default: 1e-2 as the course)"))
    add("--momentum", type=flags.non_negative_float, help=_("SGD momentum (default: 0 as the course; 0.9 with --quick)"))
    add("--augment", action="store_true", help=_("random crops and horizontal flips of the training images"))
    add("--resume", action="store_true", help=_("continue after the last epoch_N.pth in --checkpoint-dir"))
    add("--checkpoint-dir", type=Path, default=flags.CHECKPOINT_DIR / lesson,
        help=_("where epoch_N.pth and best.pth go (default: checkpoints/{lesson})").format(lesson=lesson))
    add("--log-every", type=flags.positive_int, help=_("print and log train_loss every N steps (default: 100; 10 "
                                                        "with --quick)"))
    args = flags.parse(p, argv)
    args.epochs = args.epochs or (2 if args.quick else 10)
    args.momentum = (0.9 if args.quick else 0.0) if args.momentum is None else args.momentum
    args.log_every = args.log_every or (10 if args.quick else 100)
    return args


def stop_if_diverged(loss, step):
    if not math.isfinite(loss):  # it never comes back: stop now, before anything is saved from it
        raise LessonError(_("the loss became {loss} at step {step}: training diverged, and nothing from this epoch "
                            "was saved; try a lower --lr").format(loss=loss, step=step))


class Run:
    def __init__(self, lesson, args, train_data):
        self.lesson, self.args, self.classes, self.dir = lesson, args, list(train_data.classes), args.checkpoint_dir
        self.hparams = {"lr": args.lr, "batch_size": args.batch_size, "momentum": args.momentum,
                        "epochs": args.epochs, "augment": args.augment, "dataset": args.dataset, "seed": args.seed}
        self.best_accuracy, self.epoch_done, self.epochs_run, self.purge_step, self.relog = 0.0, 0, 0, None, {}

    def __enter__(self):
        with contextlib.ExitStack() as stack:  # a refusal below lets go of the folder again
            stack.enter_context(locks.hold(self.dir, _("checkpoint folder")))
            for p in self.dir.glob("*.pth.*.tmp"):  # half-written files of a killed run (the folder is ours now)
                p.unlink()
            self.ckpt = self._last_checkpoint() if self.args.resume else None
            old = Path(self.ckpt["log_dir"]) if self.ckpt else None
            if old and old.is_dir() and Path(self.args.logdir).resolve() in old.parents:
                # hide all from step N = the next epoch on (test_*'s step): a kill after they were written, before
                # epoch_N.pth was, cannot double them; the saved epochs' train_loss from step N is logged again
                self.log_dir, self.purge_step = str(old), self.ckpt["epoch"] + 1
                self.relog = logged(old, "train_loss", self.purge_step, self.ckpt["total_train_step"])
                print(_("TensorBoard: continuing the run in {folder}").format(folder=shown(old)))
            else:
                self.log_dir = board.run_dir(self.lesson, self.args)
            self._release, self.started = stack.pop_all().close, time.perf_counter()
        return self

    def __exit__(self, kind, error, tb):
        self._release()
        if isinstance(error, KeyboardInterrupt):  # Ctrl-C, SIGTERM, SIGHUP: console.run prints "interrupted: ..."
            print(end="\n" if sys.stdout.isatty() else "")  # end the progress bar's line
            n, m, path = self.epoch_done, self.args.epochs, shown(self.dir / f"epoch_{self.epoch_done}.pth")
            error.detail = (_("after epoch {n} of {m}: {path} is saved; continue with --resume") if 0 < n < m else
                            _("after all {m} epochs: {path} is saved") if n else
                            _("in epoch 1 of {m}: no epoch was complete, nothing is saved")).format(n=n, m=m, path=path)

    def resume(self, tudui, optimizer, train_dataloader, writer):
        """The last epoch_N.pth (checked) into tudui, optimizer, the random states and writer: the steps done."""
        ckpt = self.ckpt
        tudui.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])  # momentum buffers go to the parameters' device
        for group in optimizer.param_groups:  # this run's flags win over the checkpoint's
            group["lr"], group["momentum"] = self.args.lr, self.args.momentum
        torch.set_rng_state(ckpt["rng"]["torch"])  # the next epoch's random draws: augmentation, and
        train_dataloader.generator.set_state(ckpt["rng"]["shuffle"])  # the order of the training images
        for step, value in self.relog.items():
            writer.add_scalar("train_loss", value, step)
        self.best_accuracy, self.epoch_done = ckpt["best_accuracy"], ckpt["epoch"]
        print(_("resuming after epoch {epoch} from {path} (best test accuracy so far {best:.4f})").format(
            epoch=ckpt["epoch"], path=shown(self.ckpt_path), best=self.best_accuracy))
        return ckpt["total_train_step"], ckpt["epoch"]

    def save(self, tudui, optimizer, train_dataloader, *, epoch, total_train_step, test_accuracy, test_loss):
        """best.pth when this is the best test accuracy so far, then epoch_N.pth: the mark that epoch N is done."""
        stop_if_diverged(test_loss, total_train_step)
        if not self.args.resume and not self.epochs_run:  # only now, with an epoch to save: an earlier run's files
            set_aside([*self.dir.glob("epoch_*.pth"), self.dir / "best.pth"])
        is_best, self.best_accuracy = test_accuracy > self.best_accuracy, max(self.best_accuracy, test_accuracy)
        rng = {"torch": torch.get_rng_state(), "shuffle": train_dataloader.generator.get_state()}  # see resume()
        meta = {"optimizer": optimizer.state_dict(), "epoch": epoch, "best_accuracy": self.best_accuracy, "rng": rng,
                "test_accuracy": test_accuracy, "test_loss": test_loss, "total_train_step": total_train_step,
                "log_dir": str(Path(self.log_dir).resolve()), "hparams": self.hparams}
        for name in ["best.pth"] * is_best + [f"epoch_{epoch}.pth"]:
            checkpoint.save(self.dir / name, tudui, classes=self.classes, **meta)
        self.epoch_done, self.epochs_run, self.meta = epoch, self.epochs_run + 1, meta

    def finish(self, writer, device):
        """The time per epoch on the hardware named, the best accuracy, the HPARAMS tab, the TensorBoard command."""
        if self.epochs_run:
            each = (time.perf_counter() - self.started) / self.epochs_run
            print(_("{each:.1f} s per epoch on {device}").format(each=each, device=flags.device_name(device)))
            final = {"hparam/" + k: self.meta[k] for k in ("test_accuracy", "best_accuracy", "test_loss")}
            writer.add_hparams(self.hparams, final, run_name=".", global_step=self.args.epochs)  # ".": this run
        print(_("best test accuracy: {best:.4f} ({path})").format(best=self.best_accuracy, path=shown(
            self.dir / "best.pth")))
        board.tensorboard_hint(writer)

    def _last_checkpoint(self):
        """The last epoch_N.pth, all of it tried on stand-ins first: a changed or foreign file is one line."""
        files = {int(p.stem[6:]): p for p in self.dir.glob("epoch_*.pth") if p.stem[6:].isdigit()}
        if not files:
            raise LessonError(_("--resume: there is no epoch_N.pth in {folder} to continue from (check "
                                "--checkpoint-dir, or leave out --resume to start)").format(folder=shown(self.dir)))
        self.ckpt_path = path = files[max(files)]
        if "rng" not in (ckpt := checkpoint.load(path)):  # tensors on the CPU; load_state_dict moves them
            raise LessonError(_("{path} holds weights only, no training state to resume").format(path=shown(path)))
        why = next((_("its {key} is {value!r}").format(key=k, value=ckpt.get(k)) for k, kind in STATE.items()
                    if isinstance(ckpt.get(k), bool) or not isinstance(ckpt.get(k), kind)), None)
        if not why:
            checkpoint.check_compatible(tudui := Tudui(len(ckpt["classes"])), ckpt["model"], path)
            checkpoint.check_finite(ckpt["model"], path)
            optimizer, part = torch.optim.SGD(tudui.parameters(), lr=1), _("the optimizer's state")
            try:
                optimizer.load_state_dict(ckpt["optimizer"])
                for name, p in tudui.named_parameters():
                    if (buf := optimizer.state[p].get("momentum_buffer", p)).shape != p.shape:
                        raise ValueError(_("the momentum of {name} is {shape}, not {want}").format(
                            name=name, shape=tuple(buf.shape), want=tuple(p.shape)))
                part = _("the random state")
                for key in ("torch", "shuffle"):
                    torch.Generator().set_state(ckpt["rng"][key])
            except Exception as e:  # whatever a changed file breaks deep inside torch
                why = _("{part} does not fit ({error})").format(part=part, error=first_line(e, 100))
        if why:
            raise LessonError(_("{path} cannot be resumed: {why}, a changed or foreign file; move it out of the "
                                "folder to resume from the epoch before").format(path=shown(path), why=why))
        if ckpt["epoch"] >= self.args.epochs:
            raise LessonError(_("all {m} epochs are done already ({path}); to train longer, add --epochs {more}, "
                                "say").format(m=self.args.epochs, path=shown(path), more=ckpt["epoch"] + 5))
        if ckpt["classes"] != self.classes:
            raise LessonError(_("{path} was trained on the classes {old}, but this data has {new}: resume with the "
                                "same --dataset and --data-root").format(path=shown(path), old=ckpt["classes"],
                                                                         new=self.classes))
        return ckpt


def logged(log_dir, tag, first, last):
    """{step: value} of a scalar in a run folder as TensorBoard shows it (earlier resumes' purges done), for the steps
    first to last."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # only --resume needs it
    logging.getLogger("tensorboard").setLevel(logging.ERROR)  # its notes on those purges are not for learners
    (events := EventAccumulator(str(log_dir), size_guidance={"scalars": 0})).Reload()
    found = events.Scalars(tag) if tag in events.Tags()["scalars"] else []
    # TensorBoard reads a run's event files in name order, which begins with the second each was made: the resumed
    # writer's file must sort after the interrupted run's, or its purge is read first and hides nothing
    made = [int(part) for f in Path(log_dir).glob("events.out.tfevents.*") if (part := f.name.split(".")[3]).isdigit()]
    while time.time() < max(made, default=0) + 1:
        time.sleep(0.05)
    return {e.step: e.value for e in found if first <= e.step <= last}


def set_aside(files):
    """An earlier run's files into previous-<time of its last save>/ beside them: nothing deleted, nothing mixed."""
    if files := [p for p in files if p.is_file()]:
        stamp = time.strftime("previous-%Y%m%d-%H%M%S", time.localtime(max(p.stat().st_mtime for p in files)))
        folder = next(f for n in range(1, 999) if not (f := files[0].parent / (stamp + f"-{n}" * (n > 1))).exists())
        folder.mkdir()
        for p in files:
            p.rename(folder / p.name)
        print(_("note: moved the earlier run's checkpoints to {folder} (each earlier run keeps a previous-* folder "
                "there: delete those you no longer need)").format(folder=shown(folder)))
