"""What the course's train.py lacks and real training needs, for P27, P30 and P31: checkpoints, --resume,
one run per checkpoint folder, a stop on divergence, and the closing summary.

    with runs.Run("p27_train", args, data_sets) as run, run.writer() as writer:
        if args.resume:
            total_train_step, total_test_step = run.resume(tudui, optimizer, train_dataloader)
        ...                                                   # the course's loop
        runs.stop_if_diverged(loss.item(), total_train_step)  # a NaN/inf loss ends the run in one line
        run.save(tudui, optimizer, train_dataloader, total_train_step, total_test_step, accuracy, test_loss)
        run.finish(writer, device)                            # times, best accuracy, HPARAMS, the TensorBoard command

Checkpoints: <checkpoint-dir>/epoch_N.pth after epoch N and best.pth while the test accuracy is the best so
far, written through a temp file and a rename (a kill leaves the previous file intact), with the optimizer,
the step counters, the class names and every random state. The folder is locked for the run (kit.locks):
a second run into it is refused. A new run moves an earlier run's files to <dir>/previous/.
--resume loads the last epoch_N.pth and continues in the same TensorBoard run folder with
SummaryWriter(purge_step=T+1), T = the steps done then: points the interrupted run logged after T are
hidden and drawn anew, so the curves equal an uninterrupted run with the same seed. Ctrl-C: the finished
epochs are saved; one line, exit code 130.
"""
import math
import random
import re
import shutil
import sys
import time
from pathlib import Path

import torch
from torchvision import transforms

from kit import checkpoint, common, locks

# --augment: a random 32x32 crop of the image padded by 4 pixels, and a mirror image half the time
AUGMENT = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip()])


def add_flags(p, lesson):
    """The training flags; the defaults are the course's (SGD, lr 1e-2, 10 epochs; batch 64 is common's)."""
    p.add_argument("--epochs", type=common.positive_int, default=None,
                   help="epochs to train (default: 10 as the course; 2 with --quick)")
    p.add_argument("--lr", type=common.positive_float, default=1e-2, help="learning rate (default: 1e-2 as the course)")
    p.add_argument("--momentum", type=common.non_negative_float, default=None,
                   help="SGD momentum (default: 0 as the course; 0.9 with --quick, so that its 64 steps learn)")
    p.add_argument("--augment", action="store_true", help="random crop (padding 4) and horizontal flip when training")
    p.add_argument("--resume", action="store_true",
                   help="continue after the last epoch_N.pth in --checkpoint-dir, in the same TensorBoard run")
    p.add_argument("--checkpoint-dir", type=Path, default=common.CHECKPOINT_DIR / lesson,
                   help=f"where epoch_N.pth and best.pth go (default: checkpoints/{lesson} in the repo)")
    p.add_argument("--log-every", type=common.positive_int, default=None,
                   help="print and log train_loss every N steps (default: 100 as the course; 10 with --quick)")
    return p


def parse_args(p, argv):
    args = p.parse_args(argv)
    args.epochs = args.epochs or (2 if args.quick else 10)
    args.momentum = args.momentum if args.momentum is not None else (0.9 if args.quick else 0.0)
    args.log_every = args.log_every or (10 if args.quick else 100)
    return args


def stop_if_diverged(loss, step):
    """A NaN or infinite loss never comes back: stop now, before anything is saved from it."""
    if not math.isfinite(loss):
        raise common.LessonError(f"the loss became {loss} at step {step}: training diverged, and nothing from "
                                 "this epoch was saved; try a lower --lr")


class Run:
    def __init__(self, lesson, args, data_sets):
        self.lesson, self.args, self.classes = lesson, args, list(data_sets.classes)
        self.dir = Path(args.checkpoint_dir)
        self.hparams = {"lr": args.lr, "batch_size": args.batch_size, "momentum": args.momentum,
                        "epochs": args.epochs, "augment": args.augment, "dataset": data_sets.name, "seed": args.seed}
        self.synthetic = data_sets.synthetic
        self.best_accuracy, self.epoch_done, self.epochs_run, self.ckpt = 0.0, 0, 0, None

    def __enter__(self):
        self._lock = locks.hold(self.dir, "checkpoint folder")
        self._lock.__enter__()  # refused in one line while another live run trains into this folder
        for p in self.dir.glob("*.pth.*.tmp"):  # half-written files of a killed run (we hold the folder now)
            p.unlink(missing_ok=True)
        if self.args.resume:
            self.ckpt = self._last_checkpoint()
        else:
            self._set_aside_earlier_run()
        self.started = time.perf_counter()
        return self

    def __exit__(self, kind, error, tb):
        self._lock.__exit__(kind, error, tb)
        if kind is KeyboardInterrupt:
            if sys.stdout.isatty():
                print()  # end the progress bar's line
            n = self.epoch_done
            done = f"epoch {n} is saved as {self.dir / f'epoch_{n}.pth'}" if n else "no epoch was complete"
            print(f"interrupted in epoch {n + 1}: {done}; continue with --resume", file=sys.stderr)
            raise SystemExit(130) from None
        return False

    def writer(self):
        """The TensorBoard writer: a new run folder, or with --resume the interrupted run's, continued."""
        log_dir = Path(self.ckpt["log_dir"]) if self.ckpt and self.ckpt.get("log_dir") else None
        if log_dir and log_dir.is_dir() and Path(self.args.logdir).resolve() in log_dir.parents:
            print(f"TensorBoard: continuing the run in {log_dir}")
            writer = common.writer(self.lesson, self.args, run_dir=log_dir,
                                   purge_step=self.ckpt["total_train_step"] + 1)
        else:
            writer = common.writer(self.lesson, self.args, synthetic=self.synthetic)
        self.log_dir = str(Path(writer.log_dir).resolve())
        return writer

    def resume(self, tudui, optimizer, train_dataloader):
        """Load the last epoch_N.pth into tudui and optimizer, restore the random states;
        returns (total_train_step, total_test_step) to continue from."""
        ckpt, path = self.ckpt, self.ckpt_path
        checkpoint.check_compatible(tudui, ckpt["model"], path)
        checkpoint.check_finite(ckpt["model"], path)
        tudui.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])  # momentum buffers go to the parameters' device
        set_rng_states(ckpt["rng"], train_dataloader)
        old = ckpt.get("hparams", {})
        changed = [f"{k} {old[k]} -> {v}" for k, v in self.hparams.items() if k != "epochs" and old.get(k, v) != v]
        if changed:
            for group in optimizer.param_groups:  # the flags of this run win over the checkpoint's
                group["lr"], group["momentum"] = self.args.lr, self.args.momentum
            print(f"warning: resuming with other settings ({', '.join(changed)}): the curves will differ "
                  "from an uninterrupted run")
        self.best_accuracy = ckpt.get("best_accuracy", 0.0)
        self.epoch_done = ckpt["epoch"]
        print(f"resuming after epoch {ckpt['epoch']} from {path} (best test accuracy so far {self.best_accuracy:.4f})")
        return ckpt["total_train_step"], ckpt["epoch"]

    def save(self, tudui, optimizer, train_dataloader, total_train_step, epoch, test_accuracy, test_loss):
        """epoch_N.pth, and best.pth first when this is the best test accuracy so far."""
        stop_if_diverged(test_loss, total_train_step)
        checkpoint.check_finite(tudui.state_dict(), f"the model after epoch {epoch}")
        is_best = test_accuracy > self.best_accuracy
        self.best_accuracy = max(self.best_accuracy, test_accuracy)
        meta = {"optimizer": optimizer.state_dict(), "epoch": epoch, "best_accuracy": self.best_accuracy,
                "test_accuracy": test_accuracy, "test_loss": test_loss, "total_train_step": total_train_step,
                "rng": rng_states(train_dataloader), "log_dir": self.log_dir,
                "hparams": self.hparams}
        if is_best:  # best.pth first: epoch_N.pth is the mark that epoch N is complete
            checkpoint.save(self.dir / "best.pth", tudui, classes=self.classes, **meta)
        saved = checkpoint.save(self.dir / f"epoch_{epoch}.pth", tudui, classes=self.classes, **meta)
        self.epoch_done, self.epochs_run = epoch, self.epochs_run + 1
        self.final = {"hparam/test_accuracy": test_accuracy, "hparam/best_accuracy": self.best_accuracy,
                      "hparam/test_loss": test_loss}
        print(f"模型已保存 (saved {saved}{' and best.pth' if is_best else ''})")

    def finish(self, writer, device):
        """The time per epoch with the hardware named, the best accuracy, the HPARAMS tab, the TensorBoard command."""
        if self.epochs_run:
            seconds = time.perf_counter() - self.started
            print(f"{self.epochs_run} epoch{'s' if self.epochs_run > 1 else ''} in {seconds / 60:.1f} min "
                  f"({seconds / self.epochs_run:.1f} s per epoch) on {common.device_name(device)}")
            writer.add_hparams(self.hparams, self.final, run_name=".", global_step=self.args.epochs)  # ".": this run
        print(f"best test accuracy: {self.best_accuracy:.4f} (best.pth in {self.dir})")
        common.tensorboard_hint(writer)

    # ---- the checkpoint folder -------------------------------------------------------------

    def _last_checkpoint(self):
        files = {int(m.group(1)): p for p in self.dir.glob("epoch_*.pth")
                 if (m := re.fullmatch(r"epoch_(\d+)\.pth", p.name))}
        if not files:
            raise common.LessonError(f"--resume: there is no epoch_N.pth in {self.dir} to continue from "
                                     "(check --checkpoint-dir, or leave out --resume to start)")
        self.ckpt_path = files[max(files)]
        ckpt = checkpoint.load(self.ckpt_path)  # tensors on the CPU; load_state_dict copies them to the device
        if not all(k in ckpt for k in ("optimizer", "rng", "epoch", "total_train_step")):
            raise common.LessonError(f"{self.ckpt_path} holds weights only, no training state: it cannot be resumed")
        if ckpt["epoch"] >= self.args.epochs:
            raise common.LessonError(f"all {self.args.epochs} epochs of this run are done already ({self.ckpt_path}); "
                                     f"to train longer, add --epochs {ckpt['epoch'] + 5}, say")
        if ckpt["classes"] != self.classes:
            raise common.LessonError(f"{self.ckpt_path} was trained on the classes {ckpt['classes']}, but this data "
                                     f"has {self.classes}: resume with the same --dataset and --data-root")
        return ckpt

    def _set_aside_earlier_run(self):
        """A fresh run moves an earlier run's checkpoints to <dir>/previous/, so --resume never mixes two runs."""
        old = [p for p in [*self.dir.glob("epoch_*.pth"), self.dir / "best.pth"] if p.is_file()]
        if old:
            previous = self.dir / "previous"
            shutil.rmtree(previous, ignore_errors=True)
            previous.mkdir()
            for p in old:
                p.rename(previous / p.name)
            print(f"note: moved the {len(old)} checkpoints of an earlier run to {previous} "
                  "(use --resume to continue a run instead)")


def rng_states(train_dataloader):
    """Every random-number state the next epoch draws from."""
    states = {"torch": torch.get_rng_state(),                     # weights init, augmentation
              "shuffle": train_dataloader.generator.get_state(),  # the order of the training images
              "python": random.getstate()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states, train_dataloader):
    torch.set_rng_state(states["torch"])
    train_dataloader.generator.set_state(states["shuffle"])
    random.setstate(states["python"])
    if "cuda" in states and torch.cuda.is_available() and len(states["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(states["cuda"])
