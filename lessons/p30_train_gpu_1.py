"""P30-31 利用GPU训练 (GPU training, way 1: .cuda(); the course's train_gpu_1.py)

    python lessons/p30_train_gpu_1.py                # P27's routine on an NVIDIA GPU (the CPU without one)
    python lessons/p30_train_gpu_1.py --device cpu   # the same on the CPU: compare the times it prints
    tensorboard --logdir logs/p30_train_gpu_1        # the same tabs as P27

This is p27_train.py plus the lesson's lines: `.cuda()` on the model, the loss function and every batch
(imgs and targets, in training and testing), each behind `if use_cuda:` (the course asks
`torch.cuda.is_available()` each time), so the same script still runs without a GPU. Every 100 steps it
prints the time since the start, as the video does.
Differences from the course's train_gpu_1.py: those of P27, and two GPU habits from PyTorch's examples:
  - pin_memory=True in the DataLoaders and .cuda(non_blocking=True): the copies overlap with GPU work;
  - --device cpu switches the GPU off, to compare.
"""
import time

from kit import console, datasets, flags, reports, runs  # before torch: a Ctrl-C while torch loads is then one line
from kit.i18n import _
from kit.progress import Progress

import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter

from model import Tudui


def p28_accuracy():
    """P28 正确率: argmax(1) picks each image's class; (preds == targets).sum() counts the right ones."""
    outputs = torch.tensor([[0.1, 0.2],
                            [0.05, 0.4]])  # 2 images (rows) x 2 classes (columns)
    print(outputs.argmax(1))  # tensor([1, 1]): each image's best class (argmax(0) would go down the columns)
    preds = outputs.argmax(1)
    targets = torch.tensor([0, 1])
    print((preds == targets).sum())  # tensor(1): one image of the two is right


def main(argv=None):
    p = flags.parser(__doc__)  # --device auto takes CUDA when torch.cuda.is_available(); cpu leaves it unused
    args = runs.parse_args(p, "p30_train_gpu_1", argv)  # also --epochs, --lr, --augment, --resume, --checkpoint-dir ...
    use_cuda = args.device.type == "cuda"  # the course asks torch.cuda.is_available() before each .cuda()
    if use_cuda:
        print(_("CUDA is available: training on {gpu}").format(gpu=torch.cuda.get_device_name()))
    else:
        print(_("no CUDA GPU in use (torch.cuda.is_available() is {available}; device {device}): the `if use_cuda:` "
                "lines skip every .cuda(), so this trains on the CPU (for Apple's MPS: p31_train_gpu_2.py)").format(
            available=torch.cuda.is_available(), device=args.device))

    p28_accuracy()  # P28 正确率, on two made-up outputs: what the test step below counts

    # 准备数据集
    train_transform = torchvision.transforms.ToTensor()  # offline: the synthetic shapes; --dataset folder: yours
    if args.augment:  # random crops and flips of each PIL image, then ToTensor
        train_transform = torchvision.transforms.Compose([*runs.AUGMENT, torchvision.transforms.ToTensor()])
    train_data = datasets.CIFAR10(args, train=True, transform=train_transform)
    test_data = datasets.CIFAR10(args, train=False, transform=torchvision.transforms.ToTensor())

    # length 长度
    train_data_size = len(train_data)
    test_data_size = len(test_data)
    print("训练数据集的长度为：{}".format(train_data_size))
    print("测试数据集的长度为：{}".format(test_data_size))

    # 利用 DataLoader 来加载数据集
    order = torch.Generator().manual_seed(args.seed)  # shuffled for training, in an order --resume can repeat
    train_dataloader = DataLoader(train_data, batch_size=args.batch_size, shuffle=True, generator=order,
                                  **datasets.loader_options(args.num_workers, pin_memory=use_cuda))
    test_dataloader = DataLoader(test_data, batch_size=args.batch_size,
                                 **datasets.loader_options(args.num_workers, pin_memory=use_cuda))

    # 创建网络模型
    tudui = Tudui(num_classes=len(train_data.classes))  # one output per class: 10 for CIFAR-10
    if use_cuda:
        tudui = tudui.cuda()

    # 损失函数
    loss_fn = nn.CrossEntropyLoss()
    if use_cuda:
        loss_fn = loss_fn.cuda()  # it has no weights, so this changes nothing; the course does it anyway

    # 优化器
    learning_rate = args.lr  # 1e-2 = 1 x (10)^(-2) = 1 / 100 = 0.01
    optimizer = torch.optim.SGD(tudui.parameters(), lr=learning_rate, momentum=args.momentum)

    # 设置训练网络的一些参数
    # 记录训练的次数
    total_train_step = 0
    # 记录测试的次数
    total_test_step = 0
    # 训练的轮数
    epoch = args.epochs

    # 添加tensorboard
    # the course's SummaryWriter("../logs_train") mixes every run in one folder: here a new folder per run (--resume
    # continues the interrupted run's); runs.Run holds --checkpoint-dir for this run; `with` does writer.close()
    with (runs.Run("p30_train_gpu_1", args, train_data) as run,
          SummaryWriter(run.log_dir, purge_step=run.purge_step) as writer):
        if args.resume:  # the weights, optimizer, step counters and random states of the last epoch_N.pth
            total_train_step, total_test_step = run.resume(tudui, optimizer, train_dataloader, writer)

        start_time = time.time()  # the video's timing
        for i in range(total_test_step, epoch):
            print("-------第 {} 轮训练开始-------".format(i + 1))

            # 训练步骤开始
            tudui.train()
            progress = Progress(len(train_dataloader), i + 1)  # a bar on a terminal, lines in a file
            for data in train_dataloader:
                imgs, targets = data
                if use_cuda:
                    imgs = imgs.cuda(non_blocking=True)
                    targets = targets.cuda(non_blocking=True)
                outputs = tudui(imgs)              # (64, 3, 32, 32) -> (64, 10)
                loss = loss_fn(outputs, targets)   # the mean over the batch

                # 优化器优化模型
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()

                total_train_step = total_train_step + 1
                progress.update(len(imgs), loss)
                if total_train_step % args.log_every == 0:
                    end_time = time.time()  # loss.item() waits for the GPU, so the time is honest
                    progress.write("训练次数：{}, Loss: {}".format(total_train_step, loss.item()))
                    writer.add_scalar("train_loss", loss.item(), total_train_step)
                    progress.write(_("{seconds:.2f} s since the start ({device})").format(
                        seconds=end_time - start_time, device="GPU" if use_cuda else "CPU"))
                    runs.stop_if_diverged(loss.item(), total_train_step)  # NaN/inf: stop in one line
            progress.close()

            # 测试步骤开始
            tudui.eval()
            total_test_loss = 0
            total_accuracy = 0
            confusion = reports.Confusion(train_data.classes)  # which classes it confuses, for the report at the end
            with torch.no_grad():
                for data in test_dataloader:
                    imgs, targets = data
                    if use_cuda:
                        imgs = imgs.cuda(non_blocking=True)
                        targets = targets.cuda(non_blocking=True)
                    outputs = tudui(imgs)
                    loss = loss_fn(outputs, targets)
                    total_test_loss = total_test_loss + loss.item() * len(targets)  # the last batch is smaller
                    accuracy = (outputs.argmax(1) == targets).sum()
                    total_accuracy = total_accuracy + accuracy.item()  # .item(): a number, not a tensor
                    confusion.add(outputs, targets)

            total_test_loss = total_test_loss / test_data_size  # the mean per image (the course: a sum of means)
            test_accuracy = total_accuracy / test_data_size
            print("整体测试集上的Loss: {}".format(total_test_loss))
            print("整体测试集上的正确率: {}".format(test_accuracy))
            total_test_step = total_test_step + 1  # = the epoch just finished
            writer.add_scalar("test_loss", total_test_loss, total_test_step)
            writer.add_scalar("test_accuracy", test_accuracy, total_test_step)
            writer.add_scalar("learning_rate", optimizer.param_groups[0]["lr"], total_test_step)
            reports.per_class_scalars(writer, confusion, total_test_step)
            writer.flush()  # on disk before epoch_N.pth says the epoch is complete

            # 保存模型
            # the course's torch.save(tudui, "tudui_{}.pth".format(i)) pickles the whole model; here the state_dict
            # through a temp file: epoch_N.pth, and best.pth while the test accuracy is the best so far
            run.save(tudui, optimizer, train_dataloader, epoch=total_test_step, total_train_step=total_train_step,
                     test_accuracy=test_accuracy, test_loss=total_test_loss)
            print("模型已保存")

        reports.final_report(writer, tudui, test_data, confusion, total_test_step)
        run.finish(writer, torch.device("cuda" if use_cuda else "cpu"))
    return 0


if __name__ == "__main__":
    console.run(main)
