"""P27-29 完整的模型训练套路 (The complete training routine: the course's train.py)

    python lessons/p27_train.py             # the course: 10 epochs of CIFAR-10, SGD lr 0.01, batch 64
    python lessons/p27_train.py --quick     # a smoke run: 2 epochs on 2,048 images (momentum 0.9), seconds
    python lessons/p27_train.py --resume    # continue after the last complete epoch (after Ctrl-C, say)
    python lessons/p27_train.py --dataset folder --data-root my_photos   # your own classes
    tensorboard --logdir logs/p27_train     # then open http://localhost:6006

The routine: prepare the data, build the model, pick a loss and an optimizer, then for each epoch
train on every batch, test on the whole test set, log, save. This file builds the pieces; the epoch
loop is lessons/training.py (fit and test), because P30 and P31 run the very same loop on a GPU:
read fit() there next, it follows the course's train.py line by line.

Printed: 训练次数/Loss every 100 steps, 整体测试集上的Loss and 整体测试集上的正确率 after each epoch,
a progress bar (steps, loss, images/s; one line per epoch when the output is not a terminal), and at
the end the per-class accuracy and the time per epoch with the hardware named.

TensorBoard:
  SCALARS  train_loss        every 100 steps (step = total training steps, as the course)
           test_loss         mean loss per test image, per epoch (step = epoch, counted from 1)
           test_accuracy     fraction right in [0, 1], per epoch
           learning_rate, per_class_accuracy/<class>   per epoch
  IMAGES   confusion_matrix  rows = true class, columns = predicted, at the end
           test_predictions  the first 16 test images with true and predicted class (green right, red wrong)
  HPARAMS  lr, batch_size, momentum, epochs, augment, dataset, seed -> final and best test accuracy

Checkpoints: checkpoints/p27_train/epoch_N.pth after epoch N, and best.pth whenever the test accuracy
is the best so far (weights, class names, optimizer state, epoch, random states). P32 loads best.pth.
A new run (without --resume) moves an earlier run's files to checkpoints/p27_train/previous/.
--resume continues in the same TensorBoard run, with the same curves as an uninterrupted run.
Ctrl-C keeps every finished epoch and exits with code 130; a kill never leaves a broken checkpoint.

Differences from the course's train.py, each a known trap:
  - the training data is shuffled (the course's DataLoader was not: every epoch saw the same batches);
  - 整体测试集上的Loss is the mean per image (the course printed the sum of batch means);
  - the accuracy is a float, and loss.item() is logged (not tensors);
  - model.train() before training and model.eval() + torch.no_grad() for testing;
  - state_dict checkpoints with the class names instead of torch.save(tudui) (a pickled class);
  - the test scalars' step is the epoch from 1 (the course's total_test_step starts at 0).
"""
import torch
from torch import nn

from kit import common, training
from kit.data import load_data
from model import Tudui


def main(argv=None):
    p = common.parser(__doc__)
    training.add_flags(p, "p27_train")
    args = training.parse_args(p, argv)
    common.seed_everything(args.seed)
    device = common.get_device(args.device)  # P27 uses a GPU when there is one; P30 and P31 explain how

    # 准备数据集: CIFAR-10 (or your folders, or the synthetic stand-in); the training loader is shuffled
    data = load_data(args, train_transform=training.AUGMENT if args.augment else None)

    # 创建网络模型: one output per class (10 for CIFAR-10, as many as the folders for --dataset folder)
    tudui = Tudui(num_classes=len(data.classes)).to(device)

    # 损失函数
    loss_fn = nn.CrossEntropyLoss()

    # 优化器
    learning_rate = args.lr  # 1e-2 = 1 x 10^(-2) = 0.01
    optimizer = torch.optim.SGD(tudui.parameters(), lr=learning_rate, momentum=args.momentum)

    def to_device(imgs, targets):  # each batch goes where the model is
        return imgs.to(device), targets.to(device)

    # 训练: for each epoch, train on every batch, then test, log and save (lessons/training.py)
    return training.fit("p27_train", args, data, tudui, loss_fn, optimizer, to_device)


if __name__ == "__main__":
    common.run(main)
