"""P14 torchvision中的数据集使用 (Using torchvision's data sets: CIFAR10)

    python lessons/p14_dataset_transform.py            # add --quick for a smoke run
    tensorboard --logdir logs/p14_dataset_transform    # then open http://localhost:6006

torchvision.datasets.CIFAR10(root, train, transform, download) downloads CIFAR-10 once (170 MB)
and hands out (image, class index) pairs; transform=ToTensor() makes each image a (3, 32, 32) tensor.
Printed: test_set[0], test_set.classes, and the first image's target and class name.
TensorBoard, IMAGES: test_set, the first 10 test images, one per step.
Differences from the course's code (P10_dataset_transform.py): datasets.CIFAR10(args, ...) is the
course's torchvision.datasets.CIFAR10(root, ..., download=True) with root = --data-root (default
data/); offline, the lesson goes on with the built-in synthetic shapes (one warning; the run's
folder ends in -synthetic), like P15-P32. --quick takes 2048 training and 512 test images.
"""
from kit import board, console, datasets, errors, flags  # before torch: a Ctrl-C while torch loads is then one line
from kit.i18n import _

import torchvision
from torch.utils.tensorboard import SummaryWriter


def main(argv=None):
    args = flags.parse(flags.parser(__doc__, batch_size=None, device=False, seed=False), argv)

    dataset_transform = torchvision.transforms.Compose([
        torchvision.transforms.ToTensor()
    ])

    train_set = datasets.CIFAR10(args, train=True, transform=dataset_transform)
    test_set = datasets.CIFAR10(args, train=False, transform=dataset_transform)

    print(test_set[0])
    print(test_set.classes)

    img, target = test_set[0]
    print(f"{type(img).__name__} {tuple(img.shape)}")  # the course prints img itself: 3072 numbers
    print(target)
    print(test_set.classes[target])
    print(_("{train} training and {test} test images").format(train=len(train_set), test=len(test_set)))
    if len(test_set) < 10:  # the course's loop below shows the first 10
        raise errors.LessonError(_("the test set has only {n} images; this lesson shows the first 10").format(
            n=len(test_set)))

    writer = SummaryWriter(board.run_dir("p14_dataset_transform", args))  # the course's SummaryWriter("p10")
    for i in range(10):
        img, target = test_set[i]
        writer.add_image("test_set", img, i)

    writer.close()
    board.tensorboard_hint(writer)


if __name__ == "__main__":
    console.run(main)
