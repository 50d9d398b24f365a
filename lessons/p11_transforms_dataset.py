"""P11 Transforms的使用（二） (Using transforms: why tensors, and a transform inside a Dataset)

    python lessons/p11_transforms_dataset.py                          # the drawn ants and bees
    python lessons/p11_transforms_dataset.py --data-root path/to/练手数据集
    tensorboard --logdir logs/p11_transforms_dataset

tensor_trans(img) works because ToTensor defines __call__: an object used like a function.
Why tensors: a tensor carries what training needs (dtype, device, requires_grad, grad), and a
DataLoader stacks tensors of one size into a batch, which it cannot do with PIL images.
Printed: __call__ at work, a tensor's attributes, a Dataset's item and batch without and with
transform=Compose([Resize((256, 256)), ToTensor()]). TensorBoard, IMAGES: train_data, that batch.
Differences from the course's code (P9_transforms.py): the folder is --data-root (ROOT/train/ants_image/
and ants_label/, the course's layout; with only ROOT/train/ants/ and bees/, P7's layout, FolderData);
MyData calls self.transform (the course calls the global `transform` by mistake); Resize((256, 256)),
not Resize(400); sorted, checked file lists; images.open_image; labels read as UTF-8 or UTF-16.
"""
import os

from kit import board, console, errors, flags, folders, images  # before torch: a Ctrl-C while it loads is one line
from kit.i18n import _

import torch
from torch.utils.data import Dataset, DataLoader
from torch.utils.tensorboard import SummaryWriter
from torchvision import transforms


class MyData(Dataset):

    def __init__(self, root_dir, image_dir, label_dir, transform=None):
        self.root_dir = root_dir
        self.image_dir = image_dir
        self.label_dir = label_dir
        self.label_path = os.path.join(self.root_dir, self.label_dir)
        self.image_path = os.path.join(self.root_dir, self.image_dir)
        self.image_list = folders.listdir(self.image_path)  # the course's os.listdir(...), every file checked
        self.label_list = folders.listdir(self.label_path, images=False)
        self.transform = transform
        # 因为label 和 Image文件名相同，进行一样的排序，可以保证取出的数据和label是一一对应的
        self.image_list.sort()
        self.label_list.sort()
        folders.check_pairs(self.image_path, self.image_list, self.label_path, self.label_list)  # one line if not

    def __getitem__(self, idx):
        img_name = self.image_list[idx]
        label_name = self.label_list[idx]
        img_item_path = os.path.join(self.root_dir, self.image_dir, img_name)
        label_item_path = os.path.join(self.root_dir, self.label_dir, label_name)
        img = images.open_image(img_item_path)  # the course's Image.open + .convert('RGB'), right for every image
        # the course's open(label_item_path).readline(): the system's encoding, a newline kept ("ants\n")
        label = folders.read_label(label_item_path)

        if self.transform:
            img = self.transform(img)  # self.transform: the course's code calls the global transform

        return img, label

    def __len__(self):
        assert len(self.image_list) == len(self.label_list)
        return len(self.image_list)


class FolderData(MyData):  # P7's layout (hymenoptera_data): ROOT/train/ants/*.jpg, the label is the folder's name

    def __init__(self, root_dir, image_dir, transform=None):
        self.image_dir, self.transform = image_dir, transform
        self.image_path = os.path.join(root_dir, image_dir)
        self.image_list = self.label_list = sorted(folders.listdir(self.image_path))

    def __getitem__(self, idx):
        img = images.open_image(os.path.join(self.image_path, self.image_list[idx]))
        return (self.transform(img) if self.transform else img), self.image_dir


def main(argv=None):
    p = flags.parser(__doc__, data=False, device=False, seed=False, quick=False)
    folders.add_data_root(p)
    args = flags.parse(p, argv)
    hymenoptera, practice = folders.layouts(args.data_root)  # which of the two layouts it holds (one line if neither)

    # Resize((256, 256)), not the course's Resize(400): that keeps each picture's shape, and a batch needs one size
    transform = transforms.Compose([transforms.Resize((256, 256)), transforms.ToTensor()])
    root_dir = os.path.join(args.data_root, "train")  # the course's "dataset/train"
    if practice:
        image_ants = "ants_image"
        label_ants = "ants_label"
        ants_dataset = MyData(root_dir, image_ants, label_ants, transform=transform)
        image_bees = "bees_image"
        label_bees = "bees_label"
        bees_dataset = MyData(root_dir, image_bees, label_bees, transform=transform)
        raw_dataset = MyData(root_dir, image_ants, label_ants)  # no transform: items are PIL images
    else:
        print(_("no ants_image/ in {root}: P7's layout instead, the label is the folder's name").format(
            root=errors.shown(root_dir)))
        ants_dataset = FolderData(root_dir, "ants", transform=transform)
        bees_dataset = FolderData(root_dir, "bees", transform=transform)
        raw_dataset = FolderData(root_dir, "ants")  # no transform: items are PIL images
    img, label = raw_dataset[0]
    # 1. __call__: the tool is an object, and calling it runs its __call__ method
    tensor_trans = transforms.ToTensor()
    tensor_img = tensor_trans(img)
    print(_("tensor_trans(img) is tensor_trans.__call__(img): {same}").format(
        same=torch.equal(tensor_img, tensor_trans.__call__(img))))
    # 2. why tensors: what a tensor carries, and what a DataLoader needs
    print(_("a tensor carries: dtype {dtype}, device {device}, requires_grad {requires_grad}, grad {grad}").format(
        dtype=tensor_img.dtype, device=tensor_img.device, requires_grad=tensor_img.requires_grad, grad=tensor_img.grad))
    print(_("without transform:"), f"raw_dataset[0] = {raw_dataset[0]}")
    try:
        next(iter(DataLoader(raw_dataset, batch_size=4)))
    except TypeError as e:
        print("DataLoader(raw_dataset, batch_size=4):", f"TypeError: {e}".splitlines()[0])

    img, label = ants_dataset[0]  # the transform ran in __getitem__
    print(_("with transform:"), f"ants_dataset[0] = ({type(img).__name__} {tuple(img.shape)}, {label!r})")
    train_dataset = ants_dataset + bees_dataset
    imgs, labels = next(iter(DataLoader(train_dataset, batch_size=4)))
    print(f"DataLoader(ants_dataset + bees_dataset, batch_size=4): imgs {tuple(imgs.shape)}, labels {list(labels)}")

    writer = SummaryWriter(board.run_dir("p11_transforms_dataset", args))
    writer.add_images("train_data", imgs)  # (4, 3, 256, 256): the batch, side by side
    writer.close()
    board.tensorboard_hint(writer)


if __name__ == "__main__":
    console.run(main)
