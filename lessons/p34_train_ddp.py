"""P34 (bonus, beyond the course) 多进程/多机训练 — Bonus: Tudui on several processes or machines (DDP)

    python lessons/p34_train_ddp.py --quick                                  # one process, no torchrun
    torchrun --nproc_per_node=2 lessons/p34_train_ddp.py --quick             # 2 processes, this machine
    torchrun --nnodes=2 --nproc_per_node=4 --rdzv-backend=c10d --rdzv-endpoint=NODE0:29500 --rdzv-id=tudui \\
        lessons/p34_train_ddp.py --dataset cifar10                           # the same on each of two machines
    tensorboard --logdir logs/p34_train_ddp                                  # then open http://localhost:6006

The course's training loop (P27) with PyTorch's DistributedDataParallel: one process per GPU (nccl) or
several on a CPU (gloo); each trains its share of every batch, and backward() averages the gradients.
--batch-size is the GLOBAL batch, so 1, 2 or 8 processes train the same model. Only rank 0 prints, logs
and saves; its checkpoints (checkpoints/p34_train_ddp/best.pth, final.pth) load in p32_test.py.
TensorBoard SCALARS: train_loss (every 100 steps, the mean over processes), learning_rate, test_loss, test_accuracy.
A process that hangs ends the run after --timeout seconds, with one line; a nan loss stops it at once.
On Windows use `python -m torch.distributed.run` for torchrun; on one 2-core CPU two processes are not
faster than one. Differences from the course's train.py: DDP with its sampler (which also shuffles).
"""
import contextlib
import datetime
import math
import os
import sys
import time
from pathlib import Path

from kit import checkpoint, common, data, locks  # before torch: a Ctrl-C while torch loads is then one line

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Subset
from torch.utils.data.distributed import DistributedSampler

from model import Tudui


class Diverged(common.LessonError):
    """Every process sees it at the same step (the loss is averaged over all of them): rank 0 says it once."""


def setup(args):
    """(rank, world_size, device). Under torchrun: join the process group; alone: rank 0 of 1."""
    if "WORLD_SIZE" not in os.environ:  # plain `python lessons/p34_train_ddp.py`
        return 0, 1, common.get_device(args.device)
    # torchrun tells each process who it is in environment variables, and rank 0's address in MASTER_ADDR/PORT
    rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", 0))  # which process on this machine: which GPU
    device = common.get_device(args.device)
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    elif device.type == "mps":
        raise common.LessonError("DDP does not run on Apple MPS; use --device cpu")
    # the timeout: how long a process waits for the others in a collective before it gives up (under
    # torchrun, torchrun then stops the other processes and adds its own report of what ended)
    dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo",
                            timeout=datetime.timedelta(seconds=args.timeout))
    return rank, world_size, device


def peer_trouble(error, rank, timeout):
    """One line for a collective that failed because another process is stuck or gone; None otherwise."""
    text = str(error).lower()
    if "timed out" in text or "timeout" in text:
        return f"rank {rank}: no answer from the other processes for {timeout:g} s (--timeout): one is stuck or gone"
    if any(s in text for s in ("connection closed", "connection reset", "broken pipe")):
        return f"rank {rank}: another process ended (its own output says why), so this one stops too"


def main(argv=None):
    p = common.parser(__doc__, batch_size=64)
    p.add_argument("--epochs", type=common.positive_int, default=10, help="epochs (default: 10)")
    p.add_argument("--lr", type=common.positive_float, default=1e-2,
                   help="SGD learning rate (default: 0.01, as the course)")
    p.add_argument("--max-steps", type=common.positive_int, default=None,
                   help="stop each epoch after this many global batches (smoke tests; default: the whole epoch)")
    p.add_argument("--timeout", type=common.positive_float, default=120,
                   help="seconds a process waits for the others before the run ends with one line (default: 120)")
    p.add_argument("--checkpoint-dir", type=Path, default=common.CHECKPOINT_DIR / "p34_train_ddp",
                   help="where best.pth and final.pth go (default: checkpoints/p34_train_ddp)")
    args = p.parse_args(argv)
    args.epochs = min(args.epochs, 2) if args.quick else args.epochs
    rank, world_size, device = setup(args)
    try:
        train(args, rank, world_size, device)
    except Diverged:
        if rank == 0:
            raise
        sys.exit(1)  # the same line as rank 0's: not once per process
    except RuntimeError as e:
        line = peer_trouble(e, rank, args.timeout) if dist.is_initialized() else None
        if line is None:
            raise
        raise common.LessonError(line) from None
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def train(args, rank, world_size, device):
    if args.batch_size % world_size:
        raise common.LessonError(f"--batch-size {args.batch_size} (the global batch) must be a multiple of the "
                                 f"number of processes, {world_size}")
    common.seed_everything(args.seed)  # the same seed everywhere; DDP also copies rank 0's weights to all
    say = print if rank == 0 else (lambda *a, **k: None)
    say(f"{world_size} process(es), backend {dist.get_backend() if dist.is_initialized() else 'none'}, "
        f"device: {common.device_name(device)}", flush=True)
    # only rank 0 writes checkpoints, so only rank 0 holds the folder (a second run into it is refused)
    with locks.hold(args.checkpoint_dir, "checkpoint folder") if rank == 0 else contextlib.nullcontext():
        fit(args, rank, world_size, device, say)
    if dist.is_initialized():
        dist.barrier()  # nobody leaves before rank 0 has saved
    print(f"rank {rank} of {world_size}: done", flush=True)


def fit(args, rank, world_size, device, say):
    data_sets = data.load_datasets(args)
    train_data, test_data = data_sets.train_set, data_sets.test_set
    # each process takes every world_size-th image of one shuffled order, the same order on every rank
    train_sampler = DistributedSampler(train_data, num_replicas=world_size, rank=rank, shuffle=True,
                                       seed=args.seed, drop_last=True)
    options = data.loader_options(args.num_workers, pin_memory=device.type == "cuda")
    train_dataloader = DataLoader(train_data, batch_size=args.batch_size // world_size, sampler=train_sampler,
                                  **options)
    # the test set split without padding, so that every image is counted exactly once
    test_part = Subset(test_data, range(rank, len(test_data), world_size))
    test_dataloader = DataLoader(test_part, batch_size=256, **options)

    tudui = Tudui(len(data_sets.classes)).to(device)
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

    log = common.writer("p34_train_ddp", args, synthetic=data_sets.synthetic) if rank == 0 else contextlib.nullcontext()
    with log as writer:  # writer is None on ranks other than 0
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
                    raise Diverged(f"the loss became {mean_loss} at step {total_train_step + 1}: try a lower "
                                   f"--lr than {args.lr}")
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
                raise Diverged(f"the test loss became {test_loss} after epoch {epoch}: try a lower --lr than {args.lr}")
            say(f"epoch {epoch}/{args.epochs}: test_loss {test_loss:.4f}, test_accuracy {accuracy:.4f} "
                f"({time.perf_counter() - start:.1f} s)", flush=True)
            if rank == 0:  # one writer, one file: the weights are the same on every rank
                writer.add_scalar("test_loss", test_loss, epoch)
                writer.add_scalar("test_accuracy", accuracy, epoch)
                if accuracy > best:  # tudui, not model: its state_dict has the course's keys (model.0.weight...)
                    best = accuracy
                    checkpoint.save(args.checkpoint_dir / "best.pth", tudui, classes=data_sets.classes, epoch=epoch,
                                    test_accuracy=accuracy, world_size=world_size)
        if rank == 0:
            checkpoint.save(args.checkpoint_dir / "final.pth", tudui, classes=data_sets.classes, epoch=args.epochs,
                            test_accuracy=accuracy, world_size=world_size)
            say(f"best test_accuracy {best:.4f}; checkpoints in {args.checkpoint_dir}")
            common.tensorboard_hint(writer)


if __name__ == "__main__":
    common.run(main)
