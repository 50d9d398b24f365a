"""P33 (bonus, beyond the course) 训练提速 — Bonus: the same Tudui, trained fast

    python lessons/p33_train_fast.py --quick                      # smoke run, seconds
    python lessons/p33_train_fast.py --dataset folder --data-root ../shared/datasets/cifar10-jpg   # ~73%
    tensorboard --logdir logs/p33_train_fast                      # SCALARS train_loss, learning_rate, test_*

On 2 CPU cores: the course's 30-epoch 66.7% in one epoch (--epochs 1, ~45 s), ~73% in the default 4.
Printed per epoch: test_accuracy, s/epoch, img/s; at the end, how exactly the saved model matches the trained one.
Differences from the course's train.py (P27), each commented where it happens, measured in benchmarks/README.md
(best.pth / final.pth are the course's Tudui: they load in p32_test.py and in the course's code):
  the data set as one uint8 tensor (folders decoded once into data/cache/), crop + flip of whole batches;
  normalisation folded into conv1 when saving; conv1 starts as a whitening filter bank; channels_last;
  Nesterov SGD + weight decay, one-cycle lr, label smoothing, gradient clipping, flip test-time augmentation.
  Switch one off to see what it buys: --no-augment, --no-normalize, --no-whiten, --clip 0, ... (see --help)
On CUDA: the data on the GPU, bf16 autocast (--no-bf16), --compile (off); --gpu-batch-size / --gpu-lr
default to the CPU's measured 128 / 0.06: the GPU's best values are not yet measured.
"""
import argparse
import ctypes
import math
import time
from pathlib import Path

# kit before torch: a Ctrl-C while torch loads is then one line
from kit import board, checkpoint, console, datasets, errors, fast_data, flags, locks
from kit.i18n import N_, _

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.tensorboard import SummaryWriter  # torch's own class, as in the course

from model import Tudui

CLIP = 3.0  # gradient-norm cap: without it, whitening + lr 0.06 diverged (NaN) on the synthetic data
LABEL_SMOOTHING = 0.2  # soft targets: a less over-confident model


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
    hands big freed blocks straight back to the OS, and the next step page-faults them in again."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # Windows, macOS, Alpine: nothing to tune here
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # from glibc's <malloc.h>
    return bool(libc.mallopt(M_MMAP_THRESHOLD, 256 << 20) and libc.mallopt(M_TRIM_THRESHOLD, 1 << 30))


def train_one_epoch(model, train_x, train_y, args, optimizer, scheduler, loss_fn, prep, generator, writer, step):
    model.train()
    n = len(train_x) - len(train_x) % args.batch_size
    perm = torch.randperm(len(train_x), device=train_x.device, generator=generator)
    for start in range(0, n, args.batch_size):  # the last, partial batch is dropped: a new order each epoch
        idx = perm[start:start + args.batch_size]
        imgs, targets = prep(train_x[idx], generator if args.augment else None), train_y[idx]
        with torch.autocast(train_x.device.type, torch.bfloat16, enabled=args.bf16):
            outputs = model(imgs)                                  # (128, 3, 36, 36) -> (128, 10)
            loss = loss_fn(outputs, targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if args.clip:  # a cap on the gradient's length: one bad step cannot blow the weights up
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()
        scheduler.step()
        step += 1
        if step % args.log_every == 0:  # .item() waits for the GPU: not on every step
            value = loss.item()
            if not math.isfinite(value):  # the weights blew up; more steps will not bring them back
                raise errors.LessonError(_("the loss became {value} at step {step}: try a lower --lr than {lr} "
                                           "(batch {batch})").format(value=value, step=step, lr=args.lr,
                                                                     batch=args.batch_size))
            writer.add_scalar("train_loss", value, step)
        writer.add_scalar("learning_rate", optimizer.param_groups[0]["lr"], step)
    return step, n


@torch.no_grad()
def evaluate(model, test_x, test_y, prep, tta, bf16, batch_size=250):
    """Mean loss and accuracy; batches of 250 keep the activations in a CPU's caches (faster than 1,000)."""
    model.eval()
    loss_sum = correct = torch.zeros((), device=test_x.device)  # summed on the device: one sync at the end
    for start in range(0, len(test_x), batch_size):
        imgs, targets = prep(test_x[start:start + batch_size]), test_y[start:start + batch_size]
        with torch.autocast(test_x.device.type, torch.bfloat16, enabled=bf16):
            outputs = model(imgs).float()
            if tta:
                outputs = (outputs + model(imgs.flip(3)).float()) / 2  # the image and its mirror image
        loss_sum = loss_sum + F.cross_entropy(outputs, targets, reduction="sum")
        correct = correct + (outputs.argmax(1) == targets).sum()
    return loss_sum.item() / len(test_x), correct.item() / len(test_x)


def parse_args(argv):
    p = flags.parser(__doc__, batch_size=None)  # no DataLoader, so no --num-workers: P33 adds --batch-size itself
    p.add_argument("--batch-size", type=flags.positive_int, default=128,
                   help=_("images per batch (default: %(default)s)"))
    p.add_argument("--epochs", type=flags.positive_int, default=4, help=_("epochs (default: 4)"))
    p.add_argument("--lr", type=flags.positive_float, default=0.06,
                   help=_("peak learning rate (default: 0.06, measured best for batch 128; higher can diverge)"))
    p.add_argument("--momentum", type=flags.non_negative_float, default=0.9, help=_("SGD momentum (default: 0.9)"))
    p.add_argument("--weight-decay", type=flags.non_negative_float, default=5e-4, help="(default: 5e-4)")
    p.add_argument("--clip", type=flags.non_negative_float, default=CLIP,
                   help=_("clip the gradient norm to this; 0: off (default: {clip})").format(clip=CLIP))
    for flag, text in [("augment", N_("switch off random crop + flip")),
                       ("normalize", N_("switch off per-channel normalisation")),
                       ("whiten", N_("switch off the whitening initialisation of the first conv")),
                       ("channels-last", N_("switch off the NHWC memory layout")),
                       ("tta", N_("switch off flip test-time augmentation")),
                       ("keep-memory", N_("switch off keeping freed memory for the next step (glibc, Linux)"))]:
        p.add_argument(f"--no-{flag}", dest=flag.replace("-", "_"), action="store_false", help=_(text))
    p.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None,
                   help=_("bfloat16 autocast (default: on with CUDA, off on a CPU, where it is slower)"))
    p.add_argument("--compile", action="store_true", help=_("torch.compile the model (the first epoch pays for it)"))
    p.add_argument("--gpu-batch-size", type=flags.positive_int, default=128,
                   help=_("--batch-size on CUDA (default: 128, the CPU's measured value; a GPU's best: not measured)"))
    p.add_argument("--gpu-lr", type=flags.positive_float, default=0.06,
                   help=_("--lr on CUDA (default: 0.06, the CPU's measured value; a GPU's best is not measured)"))
    p.add_argument("--cache-dir", type=Path, default=fast_data.CACHE_DIR,
                   help=_("decoded-data cache (default: data/cache)"))
    p.add_argument("--checkpoint-dir", type=Path, default=flags.CHECKPOINT_DIR / "p33_train_fast",
                   help=_("where best.pth and final.pth go (default: checkpoints/p33_train_fast)"))
    args = flags.parse(p, argv)  # seeds; args.device is a torch.device
    args.log_every = 10 if args.quick else 100
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.keep_memory:  # no page faults for memory that every step frees and takes again
        keep_freed_memory()
    device = args.device  # flags.parse: auto picks CUDA, then Apple MPS, then the CPU
    if device.type == "cuda":
        args.batch_size, args.lr = args.gpu_batch_size, args.gpu_lr
        torch.backends.cudnn.benchmark = True  # the shapes never change: let cuDNN pick its fastest kernels
    args.bf16 = device.type == "cuda" if args.bf16 is None else args.bf16
    on_off = {True: _("on"), False: _("off")}
    print(_("device: {device}; batch {batch}, lr {lr}, bf16 autocast {bf16}, torch.compile {compile}").format(
        device=flags.device_name(device), batch=args.batch_size, lr=args.lr, bf16=on_off[args.bf16],
        compile=on_off[args.compile]))

    with locks.hold(args.checkpoint_dir):  # one run at a time writes best.pth
        train(args, device)


def train(args, device):
    t0 = time.perf_counter()
    # 准备数据集: CIFAR-10 (offline: the synthetic shapes; --dataset folder: your own classes), no transform:
    train_set = datasets.CIFAR10(args, train=True)
    test_set = datasets.CIFAR10(args, train=False)
    # the whole set as uint8 on the device (150 MB for CIFAR-10's 50,000 images): a batch is a slice of it,
    # with no DataLoader, PIL or ToTensor per image (what each part bought: benchmarks/README.md)
    train_x, train_y = fast_data.as_tensors(train_set, args.cache_dir)
    test_x, test_y = fast_data.as_tensors(test_set, args.cache_dir)
    train_x, train_y, test_x, test_y = (t.to(device) for t in (train_x, train_y, test_x, test_y))
    args.batch_size = min(args.batch_size, len(train_x))
    print(_("data ({name}): train {train}, test {test} uint8, ready in {seconds:.1f} s").format(
        name=args.dataset, train=tuple(train_x.shape), test=tuple(test_x.shape), seconds=time.perf_counter() - t0))

    # per-channel normalisation: every input channel centred and equally loud, so one lr suits all weights
    mean, std = fast_data.channel_stats(train_x) if args.normalize else (None, None)

    def prep(images, generator=None):
        return fast_data.to_float(images, mean, std, args.channels_last, generator)

    tudui = Tudui(len(train_set.classes)).to(device)
    if mean is not None:
        tudui.model[0].padding = (0, 0)  # to_float() pads instead (not a weight: the state_dict is unchanged)
    if args.whiten:  # from 512 images spread over the set (image folders are sorted by class)
        whitening_init(tudui.model[0], prep(train_x[::max(1, len(train_x) // 512)][:512]).contiguous())
    if args.channels_last:  # NHWC: the layout the convolution kernels are fastest with, on CPUs and GPUs
        tudui = tudui.to(memory_format=torch.channels_last)
    model = torch.compile(tudui) if args.compile else tudui  # shares tudui's parameters
    loss_fn = nn.CrossEntropyLoss(label_smoothing=LABEL_SMOOTHING)
    optimizer = torch.optim.SGD(tudui.parameters(), lr=args.lr, momentum=args.momentum, nesterov=args.momentum > 0,
                                weight_decay=args.weight_decay)
    # one cycle: warm up to --lr over the first 25% of the steps, then down to --lr / 1000: a run of any
    # length ends at a low learning rate, so even a one-epoch run ends well
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.lr, total_steps=args.epochs * (len(train_x) // args.batch_size), pct_start=0.25,
        anneal_strategy="linear", div_factor=10, final_div_factor=100, cycle_momentum=False)
    generator = torch.Generator(device=device).manual_seed(args.seed)

    def saved_model():  # the plain Tudui that takes ToTensor() images, as p32_test.py feeds it
        return fold_normalization(tudui, mean, std) if mean is not None else tudui

    def save(name, epoch, accuracy, model):
        checkpoint.save(args.checkpoint_dir / name, model, classes=train_set.classes, epoch=epoch,
                        test_accuracy=accuracy, lesson="p33_train_fast")

    best, step, train_time = -1.0, 0, 0.0
    with SummaryWriter(board.run_dir("p33_train_fast", args)) as writer:  # logs/p33_train_fast/<time>[-synthetic]/
        start = time.perf_counter()
        for epoch in range(1, args.epochs + 1):
            t_epoch = time.perf_counter()
            step, seen = train_one_epoch(model, train_x, train_y, args, optimizer, scheduler, loss_fn, prep,
                                         generator, writer, step)
            if device.type == "cuda":
                torch.cuda.synchronize()  # the GPU runs behind the Python code: wait for it before timing
            epoch_time = time.perf_counter() - t_epoch
            train_time += epoch_time
            test_loss, accuracy = evaluate(model, test_x, test_y, prep, args.tta, args.bf16)
            if not math.isfinite(test_loss):  # never saved as best: the weights blew up
                raise errors.LessonError(_("training diverged in epoch {epoch} (the test loss is {loss}): try a "
                                           "lower --lr than {lr} (batch {batch})").format(
                    epoch=epoch, loss=test_loss, lr=args.lr, batch=args.batch_size))
            writer.add_scalar("test_loss", test_loss, epoch)
            writer.add_scalar("test_accuracy", accuracy, epoch)
            writer.flush()
            print(_("epoch {epoch}/{epochs}: test_loss {loss:.4f}, test_accuracy {accuracy:.4f} | {epoch_s:.1f} "
                    "s/epoch, {speed} img/s | training {train_s:.1f} s, with tests {total_s:.1f} s").format(
                epoch=epoch, epochs=args.epochs, loss=test_loss, accuracy=accuracy, epoch_s=epoch_time,
                speed=f"{seen / epoch_time:,.0f}", train_s=train_time, total_s=time.perf_counter() - start), flush=True)
            if accuracy > best:
                best = accuracy
                save("best.pth", epoch, accuracy, saved_model())
        final = saved_model()
        save("final.pth", args.epochs, accuracy, final)
        if mean is not None:  # what p32_test.py will see: the folded model on plain [0, 1] images, in float32
            few = test_x[:1000]
            with torch.no_grad():
                trained = tudui.eval()(prep(few))
                saved = final.to(device).eval()(fast_data.to_float(few, None, None, False))
            print(_("the saved model (normalisation folded into the first conv) on plain [0, 1] images: the same "
                    "prediction for {same}/{n} test images, logits within {diff:.1e}").format(
                same=(trained.argmax(1) == saved.argmax(1)).sum().item(), n=len(few),
                diff=(trained - saved).abs().max().item()))
        print(_("best test_accuracy {best:.4f}; checkpoints in {folder}").format(
            best=best, folder=errors.shown(args.checkpoint_dir)))
    board.tensorboard_hint(writer)


if __name__ == "__main__":
    console.run(main)
