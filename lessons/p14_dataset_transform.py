"""P14 torchvision中的数据集使用 (Using torchvision's data sets: CIFAR10)

    python lessons/p14_dataset_transform.py            # add --quick for a smoke run
    tensorboard --logdir logs/p14_dataset_transform    # then open http://localhost:6006

torchvision.datasets.CIFAR10(root, train, transform, download) downloads CIFAR-10 once (170 MB)
and hands out (image, class index) pairs; transform=ToTensor() makes each image a (3, 32, 32) tensor.
Printed: test_set[0], test_set.classes, and the first image's target and class name.
TensorBoard, IMAGES: test_set, the first 10 test images, one per step.
Differences from the course's code: root is --data-root (default data/); offline, the lesson goes on
with the built-in synthetic shapes (one warning; the run's folder ends in -synthetic), like P15-P32.
"""
from kit import common  # before torch: a Ctrl-C while torch loads is then one line
from kit.data import load_datasets

import torchvision


def main(argv=None):
    args = common.parser(__doc__).parse_args(argv)

    dataset_transform = torchvision.transforms.Compose([
        torchvision.transforms.ToTensor()
    ])
    data = load_datasets(args)  # finds or downloads CIFAR-10; offline, the synthetic shapes instead
    if data.name == "cifar10":  # on disk now, so the course's two lines only read it
        train_set = torchvision.datasets.CIFAR10(root=args.data_root, train=True, transform=dataset_transform,
                                                 download=True)
        test_set = torchvision.datasets.CIFAR10(root=args.data_root, train=False, transform=dataset_transform,
                                                download=True)
    else:  # the same kind of data set: (3, 32, 32) tensors in [0, 1] and class indices
        train_set, test_set = data.train_set, data.test_set

    print(test_set[0])
    print(test_set.classes)
    img, target = test_set[0]
    print(f"{type(img).__name__} {tuple(img.shape)}")  # the course prints img itself: 3072 numbers
    print(target)
    print(test_set.classes[target])
    print(f"{len(train_set)} training and {len(test_set)} test images")

    with common.writer("p14_dataset_transform", args, synthetic=data.synthetic) as writer:
        for i in range(10):
            img, target = test_set[i]
            writer.add_image("test_set", img, i)
        common.tensorboard_hint(writer)


if __name__ == "__main__":
    common.run(main)
