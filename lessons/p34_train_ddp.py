"""P34 (bonus, beyond the course) 多进程/多机训练 — Bonus: Tudui on several processes or machines (DDP)

    python lessons/p34_train_ddp.py --quick                                  # one process, no torchrun
    python lessons/p34_train_ddp.py --nproc-per-node 2 --quick               # 2 processes: torchrun's launcher
    torchrun --nproc_per_node=2 lessons/p34_train_ddp.py --quick             # the same, with the torchrun command
    torchrun --nnodes=2 --nproc_per_node=4 --rdzv-backend=c10d --rdzv-endpoint=NODE0:29500 --rdzv-id=tudui \\
        lessons/p34_train_ddp.py --dataset cifar10                           # the same on each of two machines
    tensorboard --logdir logs/p34_train_ddp                                  # then open http://localhost:6006

The course's training loop (P27) with PyTorch's DistributedDataParallel: one process per GPU (nccl) or
several on a CPU (gloo); each trains its share of every batch, and backward() averages the gradients.
--batch-size is the GLOBAL batch, so 1, 2 or 8 processes train the same model. Only rank 0 prints, logs
and saves; its checkpoints (checkpoints/p34_train_ddp/best.pth, final.pth) load in p32_test.py.
TensorBoard SCALARS: train_loss (every 100 steps, the mean over processes), learning_rate, test_loss, test_accuracy.
A process that hangs or dies ends the run (after --timeout seconds) with one line, a nan loss at once;
with --nproc-per-node our line comes last (the torchrun command prints its own report after it). On
Windows use `python -m torch.distributed.run` for torchrun; on one 2-core CPU two processes are not faster
than one. Differences from the course's train.py: DDP with its sampler (which also shuffles).
"""
import atexit
import contextlib
import datetime
import math
import os
import signal
import socket
import sys
import time
from pathlib import Path

# kit before torch: a Ctrl-C while torch loads is then one line
from kit import board, checkpoint, console, datasets, errors, flags, launcher, locks
from kit.i18n import N_, _

import torch
import torch.distributed as dist
import torchvision
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Subset
from torch.utils.data.distributed import DistributedSampler
from torch.utils.tensorboard import SummaryWriter  # torch's own class, as in the course

from model import Tudui


# --timeout: a few days at most (torch's timedelta overflows on a huge number of seconds)
TIMEOUT = flags.number_type(float, lambda v: 0 < v <= 3 * 86400, N_("must be more than 0 and at most 259200 (3 days)"))
NPROC = flags.number_type(int, lambda v: 1 <= v <= 64, N_("must be from 1 to 64"))


class Diverged(errors.LessonError):
    """Every process sees it at the same step (the loss is averaged over all of them): rank 0 says it once."""


def setup(args):
    """(rank, world_size, device). Under torchrun: join the process group; alone: rank 0 of 1."""
    device = args.device  # flags.parse: auto picks CUDA, then Apple MPS, then the CPU
    if not launcher.started_by_torchrun():  # plain `python lessons/p34_train_ddp.py` (without --nproc-per-node)
        return 0, 1, device
    # torchrun tells each process who it is in environment variables, and rank 0's address in MASTER_ADDR/PORT
    rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", 0))  # which process on this machine: which GPU
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    elif device.type == "mps":
        raise errors.LessonError(_("DDP does not run on Apple MPS; use --device cpu"))
    # the timeout: how long a process waits for the others, to join and then in each collective, before it
    # gives up (under torchrun, torchrun then stops the other processes and adds its own report of what ended)
    try:
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo",
                                timeout=datetime.timedelta(seconds=args.timeout))
    except dist.DistError as e:  # torch's words: "Timed out after 4 seconds waiting for clients. 1/2 clients joined."
        raise errors.LessonError(not_joined(e, rank, world_size, args.timeout)) from None
    # every process's machine and pid: a stuck one is ended by the others on its machine (see peer_trouble)
    peers = [None] * world_size
    dist.all_gather_object(peers, (socket.gethostname(), os.getpid()))
    args.neighbours = [pid for host, pid in peers if host == socket.gethostname() and pid != os.getpid()]
    return rank, world_size, device


def not_joined(error, rank, world_size, timeout):
    """One line for a process group that did not form: the others never came, or rank 0 was not there."""
    where = f"{os.environ.get('MASTER_ADDR')}:{os.environ.get('MASTER_PORT')}"
    if "timed out" not in str(error).lower():  # a wrong address, a port in use ...
        return _("rank {rank}: no process group at {where}: {why}").format(
            rank=rank, where=where, why=errors.first_line(error))
    if rank == 0:
        return _("rank 0 waited {timeout:g} s (--timeout) at {where} for the other processes of WORLD_SIZE={n}, "
                 "but not all came: start them all (torchrun starts them for you)").format(
            timeout=timeout, where=where, n=world_size)
    return _("rank {rank} found no rank 0 at {where} in {timeout:g} s (--timeout): start it too (torchrun starts "
             "them all), and check MASTER_ADDR and MASTER_PORT").format(rank=rank, where=where, timeout=timeout)


def peer_trouble(error, rank, args):
    """(one line, whether this process saw the cause) for a collective that failed because another process is
    stuck or gone; None otherwise."""
    text = str(error).lower() if dist.is_initialized() else ""
    if "timed out" in text or "timeout" in text:
        # torchrun would end a stuck process only 30 s after this one ends (it waits that long for its SIGTERM,
        # which a stuck process never acts on): the processes on this machine are ended here, after this line
        atexit.register(end_processes, args.neighbours)
        return _("rank {rank}: no answer from the other processes for {timeout:g} s (--timeout): one is stuck, "
                 "so the run ends").format(rank=rank, timeout=args.timeout) + kept(args), True
    if any(s in text for s in ("connection closed", "connection reset", "broken pipe")):
        return _("rank {rank}: another process ended (killed? its own output or torchrun's report says how), so "
                 "this one stops too").format(rank=rank) + kept(args), False


def kept(args):
    """What rank 0 saved before the run ended ("" on the other ranks, and before the first save)."""
    return _("; best.pth (epoch {epoch}) is kept in {folder}").format(
        epoch=args.best_epoch, folder=errors.shown(args.checkpoint_dir)) if getattr(args, "best_epoch", 0) else ""


def end_processes(pids, grace=1.0):
    """What torchrun does to the processes left when one ends: SIGTERM, then SIGKILL (grace: 1 s, not 30)."""
    for sig in (signal.SIGTERM, getattr(signal, "SIGKILL", signal.SIGTERM)):  # Windows: SIGTERM ends it at once
        for pid in pids:
            with contextlib.suppress(OSError):  # ended already
                os.kill(pid, sig)
        time.sleep(grace if sig == signal.SIGTERM else 0)


def main(argv=None):
    p = flags.parser(__doc__, batch_size=64)
    p.add_argument("--epochs", type=flags.positive_int, default=10, help=_("epochs (default: 10)"))
    p.add_argument("--lr", type=flags.positive_float, default=1e-2,
                   help=_("SGD learning rate (default: 0.01, as the course)"))
    p.add_argument("--max-steps", type=flags.positive_int, default=None,
                   help=_("stop each epoch after this many global batches (smoke tests; default: the whole epoch)"))
    p.add_argument("--nproc-per-node", type=NPROC, metavar="N",
                   help=_("start this many processes on this machine, as `torchrun --standalone --nproc-per-node N` "
                          "does (default: one process, or torchrun's)"))
    p.add_argument("--timeout", type=TIMEOUT, default=120,
                   help=_("seconds a process waits for the others before the run ends with one line (default: 120)"))
    p.add_argument("--checkpoint-dir", type=Path, default=flags.CHECKPOINT_DIR / "p34_train_ddp",
                   help=_("where best.pth and final.pth go (default: checkpoints/p34_train_ddp)"))
    args = flags.parse(p, argv)  # the same seed in every process; args.device is a torch.device
    args.epochs = min(args.epochs, 2) if args.quick else args.epochs
    if args.nproc_per_node and not launcher.started_by_torchrun():  # each process it starts runs this same command
        return launcher.run(__file__, args.nproc_per_node, sys.argv[1:] if argv is None else argv)
    rank, world_size, device = setup(args)
    try:
        train(args, rank, world_size, device)
    except (errors.LessonError, RuntimeError) as e:
        if isinstance(e, Diverged) and rank != 0:
            sys.exit(1)  # the same line as rank 0's: not once per process
        trouble = (str(e), True) if isinstance(e, errors.LessonError) else peer_trouble(e, rank, args)
        if trouble is None:  # not ours to explain (out of memory: console.run's line; a bug: its traceback)
            raise
        line, own = trouble
        launcher.tell(line, own, kept(args))
        raise e if isinstance(e, errors.LessonError) else errors.LessonError(line) from None
    except KeyboardInterrupt as e:  # under torchrun, a SIGTERM comes from torchrun: another process ended
        if "TORCHELASTIC_RUN_ID" in os.environ and getattr(e, "signum", None) == signal.SIGTERM:
            e.detail = _("rank {rank}: torchrun stops every process when one of them ends").format(
                rank=rank) + kept(args)
            launcher.tell(e.detail, own=False, kept=kept(args))
        elif rank == 0 and kept(args):  # Ctrl-C: what is kept, as in P27
            e.detail = kept(args).removeprefix("; ")
        raise
    finally:
        if dist.is_initialized():
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # torchrun's, on its way, must not cut this line short
            dist.destroy_process_group()


def train(args, rank, world_size, device):
    if args.batch_size % world_size:
        raise errors.LessonError(_("--batch-size {batch} (the global batch) must be a multiple of the number of "
                                   "processes, {n}").format(batch=args.batch_size, n=world_size))
    say = print if rank == 0 else (lambda *a, **k: None)  # only rank 0 prints the run's lines
    say(_("{n} process(es), backend {backend}, device: {device}").format(
        n=world_size, backend=dist.get_backend() if dist.is_initialized() else "none",
        device=flags.device_name(device)), flush=True)
    # only rank 0 writes checkpoints, so only rank 0 holds the folder (a second run into it is refused)
    with locks.hold(args.checkpoint_dir) if rank == 0 else contextlib.nullcontext():
        fit(args, rank, world_size, device, say)
    if dist.is_initialized():
        dist.barrier()  # nobody leaves before rank 0 has saved
    print(_("rank {rank} of {n}: done").format(rank=rank, n=world_size), flush=True)


def fit(args, rank, world_size, device, say):
    # 准备数据集: CIFAR-10 (offline: the synthetic shapes, warned about once, by rank 0)
    train_data = datasets.CIFAR10(args, train=True, transform=torchvision.transforms.ToTensor())
    test_data = datasets.CIFAR10(args, train=False, transform=torchvision.transforms.ToTensor())
    # each process takes every world_size-th image of one shuffled order, the same order on every rank
    train_sampler = DistributedSampler(train_data, num_replicas=world_size, rank=rank, shuffle=True,
                                       seed=args.seed, drop_last=True)
    options = datasets.loader_options(args.num_workers, pin_memory=device.type == "cuda")
    train_dataloader = DataLoader(train_data, batch_size=args.batch_size // world_size, sampler=train_sampler,
                                  **options)
    # the test set split without padding, so that every image is counted exactly once
    test_part = Subset(test_data, range(rank, len(test_data), world_size))
    test_dataloader = DataLoader(test_part, batch_size=256, **options)

    tudui = Tudui(len(train_data.classes)).to(device)
    # DDP: the same forward(); rank 0's weights are copied to all; backward() averages the gradients
    model = DistributedDataParallel(tudui, device_ids=[device.index] if device.type == "cuda" else None) \
        if dist.is_initialized() else tudui  # device.index: LOCAL_RANK, this process's GPU
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)

    def all_sum(*values):  # the sum over all processes of a few numbers; every process must call it
        t = torch.tensor(values, dtype=torch.float64, device=device)
        if dist.is_initialized():
            dist.all_reduce(t)
        return t.tolist()

    # only rank 0 logs: one writer, one run folder (writer is None on the other ranks)
    with SummaryWriter(board.run_dir("p34_train_ddp", args)) if rank == 0 else contextlib.nullcontext() as writer:
        total_train_step, best, start = 0, -1.0, time.perf_counter()
        for epoch in range(1, args.epochs + 1):
            train_sampler.set_epoch(epoch)  # a new shuffle each epoch (without it, every epoch repeats the first)
            model.train()
            for batch, (imgs, targets) in enumerate(train_dataloader):
                if batch == args.max_steps:  # every rank stops at the same step (DDP needs them in step)
                    break
                imgs, targets = imgs.to(device, non_blocking=True), targets.to(device, non_blocking=True)
                outputs = model(imgs)                       # (32, 3, 32, 32) -> (32, 10) on each of 2 ranks
                loss = loss_fn(outputs, targets)
                # the mean loss over all processes, every step: a nan on any one of them stops all of them
                # at the same step, before it reaches the weights (one number: cheap next to the batch)
                mean_loss = all_sum(loss.item())[0] / world_size
                if not math.isfinite(mean_loss):
                    raise Diverged(_("the loss became {value} at step {step}: try a lower --lr than {lr}").format(
                        value=mean_loss, step=total_train_step + 1, lr=args.lr))
                optimizer.zero_grad()
                loss.backward()                             # DDP averages the gradients over all processes here
                optimizer.step()
                total_train_step += 1
                if total_train_step % 100 == 0:
                    say(f"step {total_train_step}: train_loss {mean_loss:.4f}")
                    if writer:
                        writer.add_scalar("train_loss", mean_loss, total_train_step)
                        writer.add_scalar("learning_rate", optimizer.param_groups[0]["lr"], total_train_step)

            model.eval()
            total_test_loss = total_accuracy = 0.0
            with torch.no_grad():
                for imgs, targets in test_dataloader:
                    imgs, targets = imgs.to(device, non_blocking=True), targets.to(device, non_blocking=True)
                    outputs = tudui(imgs)  # no gradients, no sync needed: the plain model
                    total_test_loss += loss_fn(outputs, targets).item() * len(targets)
                    total_accuracy += (outputs.argmax(1) == targets).sum().item()
            total_test_loss, total_accuracy = all_sum(total_test_loss, total_accuracy)  # every process's share
            test_loss, accuracy = total_test_loss / len(test_data), total_accuracy / len(test_data)
            if not math.isfinite(test_loss):  # the last steps blew the weights up: never saved as best
                raise Diverged(_("the test loss became {value} after epoch {epoch}: try a lower --lr than {lr}").format(
                    value=test_loss, epoch=epoch, lr=args.lr))
            say(_("epoch {epoch}/{epochs}: test_loss {loss:.4f}, test_accuracy {accuracy:.4f} ({seconds:.1f} s)")
                .format(epoch=epoch, epochs=args.epochs, loss=test_loss, accuracy=accuracy,
                        seconds=time.perf_counter() - start), flush=True)
            if rank == 0:  # one writer, one file: the weights are the same on every rank
                writer.add_scalar("test_loss", test_loss, epoch)
                writer.add_scalar("test_accuracy", accuracy, epoch)
                if accuracy > best:  # tudui, not model: its state_dict has the course's keys (model.0.weight...)
                    best = accuracy
                    checkpoint.save(args.checkpoint_dir / "best.pth", tudui, classes=train_data.classes, epoch=epoch,
                                    test_accuracy=accuracy, world_size=world_size)
                    args.best_epoch = epoch  # for the last line, if the run ends early
    if rank == 0:
        checkpoint.save(args.checkpoint_dir / "final.pth", tudui, classes=train_data.classes, epoch=args.epochs,
                        test_accuracy=accuracy, world_size=world_size)
        say(_("best test_accuracy {best:.4f}; checkpoints in {folder}").format(
            best=best, folder=errors.shown(args.checkpoint_dir)))
        board.tensorboard_hint(writer)


if __name__ == "__main__":
    console.run(main)
