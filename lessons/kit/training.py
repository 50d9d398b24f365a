"""The training routine of P27-P31 (the course's train.py), shared by p27_train, p30_train_gpu_1, p31_train_gpu_2.

The course copies train.py three times and changes a few lines each time. Here the loop lives once,
and each lesson keeps the lines it is about: P27 builds the model, the loss and the optimizer;
P30 moves them and every batch with `.cuda()`; P31 with `.to(device)`. Every lesson hands `fit` a
`to_device(imgs, targets)` function: that is where the batch moves, and the lesson shows it.

    training.add_flags(p, "p27_train")      # --epochs --lr --momentum --augment --resume --checkpoint-dir ...
    args = training.parse_args(p, argv)     # fills in the --quick defaults
    training.fit("p27_train", args, data, tudui, loss_fn, optimizer, to_device)

fit() below reads like the course's loop: 第 N 轮训练开始, the training steps (训练次数/Loss every 100
steps, `train_loss`), the test steps (整体测试集上的Loss / 正确率, `test_loss`, `test_accuracy`), a
save per epoch. Around it, what real training needs:
  - checkpoints: <checkpoint-dir>/epoch_N.pth after every epoch and best.pth when the test accuracy
    is the best so far, written atomically by checkpoint.save with the optimizer state, the epoch,
    the best accuracy, the class names and the random-number states;
  - --resume: continues after the last epoch_N.pth, with the random states restored (the global
    torch RNG for the weights and augmentation, and the train loader's shuffle generator), so the
    curves equal an uninterrupted run with the same seed. It logs into the SAME TensorBoard run
    folder (when that is still under --logdir; otherwise a new one) with SummaryWriter(purge_step=T+1),
    T = the training steps done when the checkpoint was written: the train_loss points the
    interrupted run logged after T are hidden, and the resumed run draws them anew. (Only a kill in
    the instant between logging epoch N's test scalars and writing epoch_N.pth leaves a second,
    identical, point at step N: the resumed run recomputes the same value.) Other settings than the
    checkpoint's (--lr, --batch-size...) are allowed, with a warning that the curves will differ;
  - a new run without --resume moves an earlier run's epoch_N.pth and best.pth to <dir>/previous/;
  - Ctrl-C: the finished epochs are already saved; one line, exit code 130. A kill at any moment
    leaves the previous checkpoint intact (temp file, then rename);
  - a progress bar per epoch on a terminal (one summary line per epoch when the output is a file);
  - at the end: per-class accuracy, a confusion matrix and a grid of test images with their true and
    predicted class names (IMAGES tab), and the hyperparameters with the final metrics (HPARAMS tab).

TensorBoard steps: `train_loss` at the total number of training steps (100, 200, ...) as the course;
`test_loss`, `test_accuracy` (a fraction in [0, 1]), `learning_rate` and `per_class_accuracy/<class>`
at the epoch number, counted from 1 (the course's total_test_step starts at 0): point N is epoch_N.pth.
"""
import random
import re
import shutil
import sys
import time
from pathlib import Path

import torch
from PIL import Image, ImageDraw, ImageFont
from torchvision import transforms
from torchvision.transforms.functional import pil_to_tensor

from kit import checkpoint, common

# --augment: a random 32x32 crop of the image padded by 4 pixels, and a mirror image half the time
AUGMENT = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip()])


def add_flags(p, lesson):
    """The training flags; the defaults are the course's (SGD, lr 1e-2, 10 epochs; batch 64 is common's)."""
    p.add_argument("--epochs", type=common.positive_int, default=None,
                   help="epochs to train (default: 10 as the course; 2 with --quick)")
    p.add_argument("--lr", type=positive_float, default=1e-2, help="learning rate (default: 1e-2 as the course)")
    p.add_argument("--momentum", type=non_negative_float, default=None,
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
    if args.epochs is None:
        args.epochs = 2 if args.quick else 10
    if args.momentum is None:
        args.momentum = 0.9 if args.quick else 0.0
    if args.log_every is None:
        args.log_every = 10 if args.quick else 100
    return args


def positive_float(text):
    value = float(text)
    if not value > 0:
        raise ValueError(text)  # argparse turns it into "invalid positive_float value"
    return value


def non_negative_float(text):
    value = float(text)
    if not value >= 0:
        raise ValueError(text)
    return value


def fit(lesson, args, data, tudui, loss_fn, optimizer, to_device, every_100_steps=None):
    """Train for args.epochs, test after each epoch, save, log; returns the exit code (130 after Ctrl-C).

    to_device(imgs, targets) -> (imgs, targets) moves a batch to where tudui is.
    every_100_steps(total_train_step) -> str, optional: appended to the 训练次数 line (P30's timing).
    """
    from torch.utils.tensorboard import SummaryWriter  # imported late: it takes a second

    device = next(tudui.parameters()).device
    ckpt_dir = Path(args.checkpoint_dir)
    print(f"训练数据集的长度为：{len(data.train_set)}  (training images)")
    print(f"测试数据集的长度为：{len(data.test_set)}  (test images)")
    print(f"device: {common.device_name(device)}")
    remove_temp_files(ckpt_dir)
    if args.resume:
        state = resume(ckpt_dir, tudui, optimizer, data, args)
    else:
        set_aside_earlier_run(ckpt_dir)
        state = {"epoch": 0, "total_train_step": 0, "best_accuracy": 0.0, "log_dir": None}
    total_train_step = state["total_train_step"]  # the course's name; it counts batches over all epochs
    best_accuracy = state["best_accuracy"]
    log_dir = Path(state["log_dir"]) if state["log_dir"] else None
    if log_dir and log_dir.is_dir() and Path(args.logdir).resolve() in log_dir.parents:
        # the same run folder, so the curves continue; points after the checkpoint are hidden
        writer = SummaryWriter(state["log_dir"], purge_step=total_train_step + 1)
        print(f"TensorBoard: continuing the run in {state['log_dir']}")
    else:
        writer = common.writer(lesson, args, synthetic=data.synthetic)
    with writer:
        confusion, test_loss, test_accuracy = None, None, None
        epoch = state["epoch"]
        started = time.perf_counter()
        try:
            for epoch in range(state["epoch"] + 1, args.epochs + 1):
                print(f"-------第 {epoch} 轮训练开始 (epoch {epoch}/{args.epochs})-------")

                # 训练步骤开始 (training)
                tudui.train()  # the course calls it too: it matters for Dropout and BatchNorm layers
                progress = Progress(len(data.train_loader), epoch)
                for imgs, targets in data.train_loader:  # shuffled (the course's train loader was not)
                    imgs, targets = to_device(imgs, targets)
                    outputs = tudui(imgs)              # (64, 3, 32, 32) -> (64, 10)
                    loss = loss_fn(outputs, targets)   # the mean over the batch

                    # 优化器优化模型: clear old gradients, compute new ones, take a step
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()

                    total_train_step = total_train_step + 1
                    progress.update(len(imgs), loss)
                    if total_train_step % args.log_every == 0:
                        # .item(): a plain float; logging the tensor would keep it (and its graph) alive
                        line = f"训练次数：{total_train_step}, Loss: {loss.item():.4f}"
                        if every_100_steps:
                            line += every_100_steps(total_train_step)
                        progress.write(line)
                        writer.add_scalar("train_loss", loss.item(), total_train_step)
                progress.close()

                # 测试步骤开始 (testing)
                test_loss, test_accuracy, confusion = test(tudui, loss_fn, data.test_loader, to_device,
                                                           len(data.classes))
                print(f"整体测试集上的Loss: {test_loss:.4f}  (test loss, mean per image)")
                print(f"整体测试集上的正确率: {test_accuracy:.4f}  (test accuracy)")
                writer.add_scalar("test_loss", test_loss, epoch)
                writer.add_scalar("test_accuracy", test_accuracy, epoch)
                writer.add_scalar("learning_rate", optimizer.param_groups[0]["lr"], epoch)
                for name, acc in zip(data.classes, per_class_accuracy(confusion)):
                    writer.add_scalar(f"per_class_accuracy/{tag(name)}", acc, epoch)
                writer.flush()  # on disk before epoch_N.pth says the epoch is complete

                is_best = test_accuracy > best_accuracy
                best_accuracy = max(best_accuracy, test_accuracy)
                meta = {"optimizer": optimizer.state_dict(), "epoch": epoch, "best_accuracy": best_accuracy,
                        "test_accuracy": test_accuracy, "test_loss": test_loss,
                        "total_train_step": total_train_step, "rng": rng_states(data),
                        "log_dir": str(Path(writer.log_dir).resolve()), "hparams": hparams(args, data)}
                if is_best:  # best.pth first: epoch_N.pth is the mark that epoch N is complete
                    checkpoint.save(ckpt_dir / "best.pth", tudui, classes=data.classes, **meta)
                saved = checkpoint.save(ckpt_dir / f"epoch_{epoch}.pth", tudui, classes=data.classes, **meta)
                print(f"模型已保存 (saved {saved}{' and best.pth' if is_best else ''})")
        except KeyboardInterrupt:
            last = ckpt_dir / f"epoch_{epoch - 1}.pth"
            done = f"epoch {epoch - 1} is saved as {last}" if epoch > 1 else "no epoch was complete"
            if sys.stdout.isatty():
                print()  # end the progress bar's line
            print(f"interrupted in epoch {epoch}: {done}; continue with --resume", file=sys.stderr)
            return 130
        ran = args.epochs - state["epoch"]
        if ran > 0:
            seconds = time.perf_counter() - started
            print(f"{ran} epoch{'s' if ran > 1 else ''} in {seconds / 60:.1f} min ({seconds / ran:.1f} s per epoch) "
                  f"on {common.device_name(device)}")
        else:
            print(f"all {args.epochs} epochs were done already (epoch_{state['epoch']}.pth)")
            test_loss, test_accuracy, confusion = test(tudui, loss_fn, data.test_loader, to_device, len(data.classes))
        report(writer, tudui, data, to_device, confusion, epoch)
        writer.add_hparams(hparams(args, data),
                           {"hparam/test_accuracy": test_accuracy, "hparam/best_accuracy": best_accuracy,
                            "hparam/test_loss": test_loss},
                           run_name=".", global_step=args.epochs)  # ".": in this run's folder, not a new one
        print(f"best test accuracy: {best_accuracy:.4f} (best.pth in {ckpt_dir})")
        common.tensorboard_hint(writer)
    return 0


def test(tudui, loss_fn, test_loader, to_device, num_classes):
    """(mean loss per image, accuracy as a float, confusion matrix) on the test set.

    The course printed the SUM of the batch means as 整体测试集上的Loss (it grows with the number of
    batches) and the accuracy as a tensor; here both are plain averages over the images.
    """
    tudui.eval()  # evaluation behaviour for Dropout/BatchNorm
    total_test_loss = 0.0
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.long)  # row: true class, column: predicted
    with torch.no_grad():  # no gradients needed: faster, less memory
        for imgs, targets in test_loader:
            imgs, targets = to_device(imgs, targets)
            outputs = tudui(imgs)                           # (64, 10)
            loss = loss_fn(outputs, targets)                # mean over this batch
            total_test_loss += loss.item() * len(targets)   # so the smaller last batch weighs right
            pairs = targets.cpu() * num_classes + outputs.argmax(1).cpu()  # (64,): true * n + predicted
            confusion += torch.bincount(pairs, minlength=num_classes ** 2).view(num_classes, num_classes)
    test_data_size = int(confusion.sum())
    total_accuracy = int(confusion.diag().sum())
    return total_test_loss / test_data_size, total_accuracy / test_data_size, confusion


def per_class_accuracy(confusion):
    """Of the test images of each class, the fraction predicted right (0 for a class with no test images)."""
    return (confusion.diag() / confusion.sum(1).clamp_min(1)).tolist()


def tag(name):
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_") or "class"


def hparams(args, data):
    return {"lr": args.lr, "batch_size": args.batch_size, "momentum": args.momentum, "epochs": args.epochs,
            "augment": args.augment, "dataset": data.name, "seed": args.seed}


# ---- checkpoints and resuming ---------------------------------------------------------------

def rng_states(data):
    """Every random-number state the next epoch draws from."""
    states = {"torch": torch.get_rng_state(),                      # weights init, augmentation
              "shuffle": data.train_loader.generator.get_state(),  # the order of the training images
              "python": random.getstate()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states, data):
    torch.set_rng_state(states["torch"])
    data.train_loader.generator.set_state(states["shuffle"])
    random.setstate(states["python"])
    if "cuda" in states and torch.cuda.is_available() and len(states["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(states["cuda"])


def epoch_files(ckpt_dir):
    """{N: path} of the epoch_N.pth files in ckpt_dir."""
    found = {}
    for path in Path(ckpt_dir).glob("epoch_*.pth"):
        m = re.fullmatch(r"epoch_(\d+)\.pth", path.name)
        if m:
            found[int(m.group(1))] = path
    return found


def resume(ckpt_dir, tudui, optimizer, data, args):
    """Load the last epoch_N.pth into tudui and optimizer, restore the random states; returns the loop state."""
    files = epoch_files(ckpt_dir)
    if not files:
        raise common.LessonError(f"--resume: there is no epoch_N.pth in {ckpt_dir} to continue from "
                                 "(check --checkpoint-dir, or leave out --resume to start)")
    path = files[max(files)]
    ckpt = checkpoint.load(path)  # tensors on the CPU; load_state_dict copies them to tudui's device
    if not all(k in ckpt for k in ("optimizer", "rng", "epoch", "total_train_step")):
        raise common.LessonError(f"{path} holds weights only, no training state: it cannot be resumed")
    if ckpt["classes"] != data.classes:
        raise common.LessonError(f"{path} was trained on the classes {ckpt['classes']}, but this data has "
                                 f"{data.classes}: resume with the same --dataset and --data-root")
    checkpoint.check_compatible(tudui, ckpt["model"], path)
    tudui.load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])  # momentum buffers go to the parameters' device
    set_rng_states(ckpt["rng"], data)
    old, new = ckpt.get("hparams", {}), hparams(args, data)
    changed = [f"{k} {old[k]} -> {new[k]}" for k in new if k != "epochs" and k in old and old[k] != new[k]]
    if changed:
        for group in optimizer.param_groups:  # the flags of this run win over the checkpoint's
            group["lr"], group["momentum"] = args.lr, args.momentum
        print(f"warning: resuming with other settings ({', '.join(changed)}): the curves will differ "
              "from an uninterrupted run")
    print(f"resuming after epoch {ckpt['epoch']} from {path} (best test accuracy so far "
          f"{ckpt.get('best_accuracy', 0.0):.4f})")
    return {"epoch": ckpt["epoch"], "total_train_step": ckpt["total_train_step"],
            "best_accuracy": ckpt.get("best_accuracy", 0.0), "log_dir": ckpt.get("log_dir")}


def set_aside_earlier_run(ckpt_dir):
    """A fresh run moves an earlier run's checkpoints to <dir>/previous/, so --resume never mixes two runs."""
    old = [p for p in [*epoch_files(ckpt_dir).values(), Path(ckpt_dir) / "best.pth"] if p.is_file()]
    if not old:
        return
    previous = Path(ckpt_dir) / "previous"
    shutil.rmtree(previous, ignore_errors=True)
    previous.mkdir()
    for p in old:
        p.rename(previous / p.name)
    print(f"note: moved the {len(old)} checkpoints of an earlier run to {previous} "
          "(use --resume to continue a run instead)")


def remove_temp_files(ckpt_dir):
    """Half-written temp files of a save that was killed (the real files are intact)."""
    for p in Path(ckpt_dir).glob("*.pth.*.tmp"):
        p.unlink(missing_ok=True)


# ---- the progress bar -----------------------------------------------------------------------

class Progress:
    """One epoch's progress: a line redrawn in place on a terminal, one summary line in a file or pipe."""

    def __init__(self, total, epoch, stream=None):
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self.total, self.epoch = total, epoch
        self.steps = self.images = self.width = 0
        self.loss_sum = 0.0
        self.start = self.drawn = time.perf_counter()

    def update(self, n_images, loss):
        self.steps += 1
        self.images += n_images
        self.loss_sum += loss.detach()  # stays on the GPU: reading it (.item()) waits for the GPU
        if self.tty and (time.perf_counter() - self.drawn > 0.2 or self.steps == self.total):
            self.draw()

    def text(self):
        seconds = time.perf_counter() - self.start
        loss = float(self.loss_sum) / max(self.steps, 1)
        bar = "#" * (20 * self.steps // max(self.total, 1))
        return (f"epoch {self.epoch} [{bar:<20}] {self.steps}/{self.total} steps, loss {loss:.4f}, "
                f"{self.images / max(seconds, 1e-9):.0f} images/s, {seconds:.1f} s")

    def draw(self):
        text = self.text()
        self.stream.write("\r" + text.ljust(self.width))  # spaces, not escape codes: old Windows consoles too
        self.stream.flush()
        self.width, self.drawn = len(text), time.perf_counter()

    def write(self, line):
        """Print a line without mixing it into the bar."""
        if self.tty and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
        print(line, file=self.stream, flush=True)
        if self.tty and self.width:
            self.draw()

    def close(self):
        if self.tty:
            self.draw()
            self.stream.write("\n")
        else:
            print(self.text(), file=self.stream)
        self.stream.flush()


# ---- the final report ----------------------------------------------------------------------

def report(writer, tudui, data, to_device, confusion, epoch):
    """Per-class accuracy (printed), the confusion matrix and a grid of predictions (IMAGES tab)."""
    print("per-class test accuracy:")
    for name, acc in zip(data.classes, per_class_accuracy(confusion)):
        print(f"  {name:<20} {acc:.4f}")
    writer.add_image("confusion_matrix", confusion_image(confusion, data.classes), epoch)
    n = min(16, len(data.test_set))
    imgs = torch.stack([data.test_set[i][0] for i in range(n)])  # (16, 3, 32, 32), the first test images
    targets = torch.tensor([data.test_set[i][1] for i in range(n)])
    tudui.eval()
    with torch.no_grad():
        predicted = tudui(to_device(imgs, targets)[0]).argmax(1).cpu()
    writer.add_image("test_predictions", predictions_image(imgs, targets, predicted, data.classes), epoch)


def confusion_image(confusion, classes):
    """Rows: true class, columns: predicted; shaded by the fraction of the row, with the counts."""
    n, font = len(classes), ImageFont.load_default()
    cell = 34
    labels = [f"{i} {name}"[:24] for i, name in enumerate(classes)]
    left = 12 + max(font.getbbox(s)[2] for s in labels)
    top = 36
    img = Image.new("RGB", (left + n * cell + 8, top + n * cell + 8), "white")
    draw = ImageDraw.Draw(img)
    draw.text((4, 4), "rows: true class, columns: predicted class", fill="black", font=font)
    fraction = confusion / confusion.sum(1, keepdim=True).clamp_min(1)
    for j in range(n):
        draw.text((left + j * cell + 4, top - 14), str(j), fill="black", font=font)
    for i in range(n):
        draw.text((4, top + i * cell + cell // 2 - 6), labels[i], fill="black", font=font)
        for j in range(n):
            f = float(fraction[i, j])
            shade = (int(255 * (1 - f)), int(255 * (1 - 0.6 * f)), 255)  # white -> blue
            x, y = left + j * cell, top + i * cell
            draw.rectangle([x, y, x + cell - 1, y + cell - 1], fill=shade, outline=(200, 200, 200))
            draw.text((x + 3, y + cell // 2 - 6), str(int(confusion[i, j])), fill="white" if f > 0.5 else "black",
                      font=font)
    return pil_to_tensor(img)  # (3, H, W) uint8


def predictions_image(imgs, targets, predicted, classes):
    """A grid of images, each with 'true: ...' and 'pred: ...' below, green when right, red when wrong."""
    font, size, cols = ImageFont.load_default(), 96, 4
    tile_w, tile_h = 130, size + 30
    rows = (len(imgs) + cols - 1) // cols
    sheet = Image.new("RGB", (cols * tile_w, rows * tile_h), "white")
    draw = ImageDraw.Draw(sheet)
    for k, (img, t, p) in enumerate(zip(imgs, targets.tolist(), predicted.tolist())):
        x, y = (k % cols) * tile_w, (k // cols) * tile_h
        pic = Image.fromarray((img.clamp(0, 1) * 255).byte().permute(1, 2, 0).numpy())  # (3, 32, 32) -> (32, 32, 3)
        sheet.paste(pic.resize((size, size), Image.NEAREST), (x + (tile_w - size) // 2, y))
        colour = (0, 140, 0) if t == p else (210, 0, 0)
        draw.text((x + 4, y + size + 2), f"true: {classes[t]}"[:26], fill="black", font=font)
        draw.text((x + 4, y + size + 15), f"pred: {classes[p]}"[:26], fill=colour, font=font)
    return pil_to_tensor(sheet)
