"""P33 (bonus, beyond the course) 训练提速 — Bonus: the same Tudui, trained fast

    python lessons/p33_train_fast.py --quick                      # smoke run, seconds
    python lessons/p33_train_fast.py --dataset folder --data-root ../shared/datasets/cifar10-jpg   # ~73%
    tensorboard --logdir logs/p33_train_fast                      # then open http://localhost:6006

On 2 CPU cores: the course's 30-epoch 66.7% in one epoch (--epochs 1, ~45 s), ~73% in the default 4.
Printed per epoch: test_accuracy, s/epoch, img/s; at the end, how exactly the saved model matches the trained one.
TensorBoard SCALARS: train_loss, learning_rate (the one-cycle shape), test_loss, test_accuracy.
Differences from the course's train.py (P27), each commented where it happens, measured in benchmarks/README.md;
the model is the course's Tudui, and best.pth / final.pth load in p32_test.py and in the course's code:
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

from kit import checkpoint, common, locks, tensors  # before torch: a Ctrl-C while torch loads is then one line
from kit.data import load_datasets

import torch
import torch.nn.functional as F
from torch import nn

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
                raise common.LessonError(f"the loss became {value} at step {step}: try a lower --lr than "
                                         f"{args.lr} (batch {args.batch_size})")
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
    p = common.parser(__doc__, batch_size=128)
    p.add_argument("--epochs", type=common.positive_int, default=4, help="epochs (default: 4)")
    p.add_argument("--lr", type=common.positive_float, default=0.06,
                   help="peak learning rate (default: 0.06, measured best for batch 128; higher can diverge)")
    p.add_argument("--momentum", type=common.non_negative_float, default=0.9, help="SGD momentum (default: 0.9)")
    p.add_argument("--weight-decay", type=common.non_negative_float, default=5e-4, help="(default: 5e-4)")
    p.add_argument("--clip", type=common.non_negative_float, default=CLIP,
                   help=f"clip the gradient norm to this; 0: off (default: {CLIP})")
    for flag, what in [("augment", "random crop + flip"), ("normalize", "per-channel normalisation"),
                       ("whiten", "the whitening initialisation of the first conv"),
                       ("channels-last", "the NHWC memory layout"), ("tta", "flip test-time augmentation"),
                       ("keep-memory", "keeping freed memory for the next step (glibc, Linux)")]:
        p.add_argument(f"--no-{flag}", dest=flag.replace("-", "_"), action="store_false", help=f"switch off {what}")
    p.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None,
                   help="bfloat16 autocast (default: on with CUDA, off on a CPU, where it is slower)")
    p.add_argument("--compile", action="store_true", help="torch.compile the model (the first epoch pays for it)")
    p.add_argument("--gpu-batch-size", type=common.positive_int, default=128,
                   help="--batch-size on CUDA (default: 128, the CPU's measured value; a GPU's best is not measured)")
    p.add_argument("--gpu-lr", type=common.positive_float, default=0.06,
                   help="--lr on CUDA (default: 0.06, the CPU's measured value; a GPU's best is not measured)")
    p.add_argument("--cache-dir", type=Path, default=tensors.CACHE_DIR, help="decoded-data cache (default: data/cache)")
    p.add_argument("--checkpoint-dir", type=Path, default=common.CHECKPOINT_DIR / "p33_train_fast",
                   help="where best.pth and final.pth go (default: checkpoints/p33_train_fast)")
    args = p.parse_args(argv)
    args.log_every = 10 if args.quick else 100
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.keep_memory:  # no page faults for memory that every step frees and takes again
        keep_freed_memory()
    common.seed_everything(args.seed)
    device = common.get_device(args.device)
    if device.type == "cuda":
        args.batch_size, args.lr = args.gpu_batch_size, args.gpu_lr
        torch.backends.cudnn.benchmark = True  # the shapes never change: let cuDNN pick its fastest kernels
    args.bf16 = device.type == "cuda" if args.bf16 is None else args.bf16
    print(f"device: {common.device_name(device)}; batch {args.batch_size}, lr {args.lr}, "
          f"bf16 autocast {'on' if args.bf16 else 'off'}, torch.compile {'on' if args.compile else 'off'}")

    with locks.hold(args.checkpoint_dir, "checkpoint folder"):  # one run at a time writes best.pth
        train(args, device)


def train(args, device):
    t0 = time.perf_counter()
    data = load_datasets(args)  # resolves --dataset (auto/cifar10/folder/synthetic) like every lesson
    # the whole set as uint8 on the device (150 MB for CIFAR-10's 50,000 images): a batch is a slice of it,
    # with no DataLoader, PIL or ToTensor per image (what each part bought: benchmarks/README.md)
    train_x, train_y = tensors.as_tensors(data.train_set, args.cache_dir)
    test_x, test_y = tensors.as_tensors(data.test_set, args.cache_dir)
    train_x, train_y, test_x, test_y = (t.to(device) for t in (train_x, train_y, test_x, test_y))
    args.batch_size = min(args.batch_size, len(train_x))
    print(f"data ({data.name}): train {tuple(train_x.shape)}, test {tuple(test_x.shape)} uint8, "
          f"ready in {time.perf_counter() - t0:.1f} s")

    # per-channel normalisation: every input channel centred and equally loud, so one lr suits all weights
    mean, std = tensors.channel_stats(train_x) if args.normalize else (None, None)

    def prep(images, generator=None):
        return tensors.to_float(images, mean, std, args.channels_last, generator)

    tudui = Tudui(len(data.classes)).to(device)
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

    best, step, train_time = -1.0, 0, 0.0
    with common.writer("p33_train_fast", args, synthetic=data.synthetic) as writer:
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
                raise common.LessonError(f"training diverged in epoch {epoch} (the test loss is {test_loss}): "
                                         f"try a lower --lr than {args.lr} (batch {args.batch_size})")
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
        if mean is not None:  # what p32_test.py will see: the folded model on plain [0, 1] images, in float32
            few = test_x[:1000]
            with torch.no_grad():
                trained = tudui.eval()(prep(few))
                saved = final.to(device).eval()(tensors.to_float(few, None, None, False))
            print(f"the saved model (normalisation folded into the first conv) on plain [0, 1] images: "
                  f"the same prediction for {(trained.argmax(1) == saved.argmax(1)).sum().item()}/{len(few)} "
                  f"test images, logits within {(trained - saved).abs().max().item():.1e}")
        print(f"best test_accuracy {best:.4f}; checkpoints in {args.checkpoint_dir}")
        common.tensorboard_hint(writer)


if __name__ == "__main__":
    common.run(main)
