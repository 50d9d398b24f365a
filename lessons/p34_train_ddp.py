"""P34 (bonus, beyond the course) 多进程/多机训练 — Tudui on several processes or machines (DDP)

    python lessons/p34_train_ddp.py --quick                                  # one process, no torchrun
    torchrun --nproc_per_node=2 lessons/p34_train_ddp.py --quick             # 2 processes, this machine
    tensorboard --logdir logs/p34_train_ddp                                  # then open http://localhost:6006

Two machines (run the same command on both; NODE0 is the first machine's address, 29500 any free port):

    torchrun --nnodes=2 --nproc_per_node=4 --rdzv-backend=c10d --rdzv-endpoint=NODE0:29500 \\
        --rdzv-id=tudui lessons/p34_train_ddp.py --dataset cifar10

(On Windows use `python -m torch.distributed.run` instead of `torchrun`; the code is the same.)

The course's training loop (P27) with PyTorch's own data-parallel engine:
  - torchrun starts one process per GPU (or several on a CPU) and tells each its RANK,
    LOCAL_RANK and WORLD_SIZE in environment variables; init_process_group() connects them
    (backend "nccl" between GPUs, "gloo" on CPUs).
  - every process holds a full Tudui; DistributedDataParallel (DDP) makes them start equal
    (rank 0's weights are broadcast) and averages the gradients in backward(), so every
    process takes the same optimizer step and the copies stay equal.
  - DistributedSampler gives each process a different 1/WORLD_SIZE of the data;
    sampler.set_epoch(epoch) reshuffles it differently every epoch (forget it and every epoch
    repeats the first epoch's order).
  - --batch-size is the GLOBAL batch: each process takes batch_size / WORLD_SIZE images, so the
    same command trains the same model on 1, 2 or 8 processes (same global batches, same steps,
    equal weights up to float rounding). That is what the test checks.
  - the test accuracy is the sum over processes (all_reduce) of each one's share of the test set.
  - only rank 0 prints, writes TensorBoard logs and saves checkpoints (the weights are the same
    on every rank; the model inside DDP is `model.module`, whose state_dict has the course's keys).

TensorBoard, SCALARS: train_loss (every 100 steps, averaged over all processes), learning_rate,
test_loss and test_accuracy (per epoch, a fraction), as in P27.
Checkpoints: checkpoints/p34_train_ddp/best.pth and final.pth (load with checkpoint.load_tudui
or p32_test.py).

On one 2-core CPU, two processes are not faster than one: DDP pays off with one process per
GPU, or per machine. Differences from the course's train.py: DDP; the rest is P27's recipe.
"""
import contextlib
import os
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Subset
from torch.utils.data.distributed import DistributedSampler

from kit import checkpoint, common
from kit.data import load_data
from model import Tudui


def setup(device_flag):
    """(rank, world_size, device). Under torchrun: join the process group; alone: rank 0 of 1."""
    if "WORLD_SIZE" not in os.environ:  # plain `python lessons/p34_train_ddp.py`
        return 0, 1, common.get_device(device_flag)
    rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    device = common.get_device(device_flag)
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)  # one GPU per process on each machine
        torch.cuda.set_device(device)
    elif device.type == "mps":
        raise common.LessonError("DDP does not run on Apple MPS; use --device cpu")
    # the address of rank 0 comes from torchrun's MASTER_ADDR / MASTER_PORT environment variables
    dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return rank, world_size, device


def main(argv=None):
    p = common.parser(__doc__, batch_size=64)
    p.add_argument("--epochs", type=common.positive_int, default=10, help="epochs (default: 10)")
    p.add_argument("--lr", type=float, default=1e-2, help="SGD learning rate (default: 0.01, the course's)")
    p.add_argument("--max-steps", type=common.positive_int, default=None,
                   help="stop each epoch after this many global batches (smoke tests; default: the whole epoch)")
    p.add_argument("--checkpoint-dir", type=Path, default=common.CHECKPOINT_DIR / "p34_train_ddp",
                   help="where best.pth and final.pth go (default: checkpoints/p34_train_ddp)")
    args = p.parse_args(argv)
    if args.quick:
        args.epochs = min(args.epochs, 2)
    rank, world_size, device = setup(args.device)
    try:
        train(args, rank, world_size, device)
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
        f"device: {common.device_name(device)}")

    data = load_data(args)
    # each process sees every world_size-th image of one shuffled order (the same order on every rank)
    train_sampler = DistributedSampler(data.train_set, num_replicas=world_size, rank=rank, shuffle=True,
                                       seed=args.seed, drop_last=True)
    train_loader = DataLoader(data.train_set, batch_size=args.batch_size // world_size, sampler=train_sampler,
                              num_workers=args.num_workers)
    # the test set is split without padding, so every image is counted exactly once
    test_part = Subset(data.test_set, range(rank, len(data.test_set), world_size))
    test_loader = DataLoader(test_part, batch_size=256, num_workers=args.num_workers)

    tudui = Tudui(len(data.classes)).to(device)
    model = DistributedDataParallel(tudui) if dist.is_initialized() else tudui  # same forward(), synced grads
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)

    def all_sum(*values):  # the sum over all processes of a few numbers
        t = torch.tensor(values, dtype=torch.float64, device=device)
        if dist.is_initialized():
            dist.all_reduce(t)  # every rank gets the sum
        return t.tolist()

    log = common.writer("p34_train_ddp", args, synthetic=data.synthetic) if rank == 0 else contextlib.nullcontext()
    with log as writer:  # writer is None on ranks other than 0
        total_train_step, best, start = 0, -1.0, time.perf_counter()
        for epoch in range(1, args.epochs + 1):
            train_sampler.set_epoch(epoch)  # a new shuffle each epoch, the same one on every rank
            model.train()
            for batch, (imgs, targets) in enumerate(train_loader):
                if batch == args.max_steps:  # every rank stops at the same step (DDP needs them in step)
                    break
                imgs, targets = imgs.to(device), targets.to(device)
                outputs = model(imgs)                       # (32, 3, 32, 32) -> (32, 10) on each of 2 ranks
                loss = loss_fn(outputs, targets)
                optimizer.zero_grad()
                loss.backward()                             # DDP averages the gradients over all processes here
                optimizer.step()
                total_train_step += 1
                if total_train_step % 100 == 0:
                    mean_loss = all_sum(loss.item())[0] / world_size  # every rank must join the all_reduce
                    say(f"step {total_train_step}: train_loss {mean_loss:.4f}")
                    if writer:
                        writer.add_scalar("train_loss", mean_loss, total_train_step)
                        writer.add_scalar("learning_rate", optimizer.param_groups[0]["lr"], total_train_step)

            model.eval()
            loss_sum = correct = 0.0
            with torch.no_grad():
                for imgs, targets in test_loader:
                    imgs, targets = imgs.to(device), targets.to(device)
                    outputs = tudui(imgs)  # no gradients, no sync needed: the plain model
                    loss_sum += loss_fn(outputs, targets).item() * len(targets)
                    correct += (outputs.argmax(1) == targets).sum().item()
            loss_sum, correct = all_sum(loss_sum, correct)
            test_loss, accuracy = loss_sum / len(data.test_set), correct / len(data.test_set)
            say(f"epoch {epoch}/{args.epochs}: test_loss {test_loss:.4f}, test_accuracy {accuracy:.4f} "
                f"({time.perf_counter() - start:.1f} s)", flush=True)
            if rank == 0:  # one writer, one file: the weights are the same on every rank
                writer.add_scalar("test_loss", test_loss, epoch)
                writer.add_scalar("test_accuracy", accuracy, epoch)
                if accuracy > best:
                    best = accuracy
                    checkpoint.save(args.checkpoint_dir / "best.pth", tudui, classes=data.classes, epoch=epoch,
                                    test_accuracy=accuracy, world_size=world_size)
        if rank == 0:
            checkpoint.save(args.checkpoint_dir / "final.pth", tudui, classes=data.classes, epoch=args.epochs,
                            test_accuracy=accuracy, world_size=world_size)
            say(f"best test_accuracy {best:.4f}; checkpoints in {args.checkpoint_dir}")
            common.tensorboard_hint(writer)
    if dist.is_initialized():
        dist.barrier()  # nobody leaves before rank 0 has saved
    print(f"rank {rank} of {world_size}: done", flush=True)


if __name__ == "__main__":
    common.run(main)
