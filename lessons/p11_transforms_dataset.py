"""P11 Transforms的使用（二） (Using transforms: why tensors, and a transform inside a Dataset)

    python lessons/p11_transforms_dataset.py                                       # the drawn ants
    python lessons/p11_transforms_dataset.py --data-root path/to/hymenoptera_data
    tensorboard --logdir logs/p11_transforms_dataset

tensor_trans(img) works because ToTensor defines __call__: an object used like a function.
Why tensors: a tensor carries what training needs (dtype, device, requires_grad, grad), and a
DataLoader stacks tensors of one size into a batch, which it cannot do with PIL images.
Printed: __call__ at work, a tensor's attributes, a Dataset's item and batch without and with
transform=Compose([Resize((256, 256)), ToTensor()]). TensorBoard, IMAGES: train_data, that batch.
Differences from the course's code (P9_transforms.py): the folder is --data-root; MyData calls
self.transform (the course calls the global `transform` by mistake); sorted, checked file lists.
"""
import os

from kit import common, folders  # before torch: a Ctrl-C while torch loads is then one line

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms


class MyData(Dataset):
    """P7's MyData (the label is the folder's name) with the course's transform argument."""

    def __init__(self, root_dir, label_dir, transform=None):
        self.root_dir = root_dir
        self.label_dir = label_dir
        self.path = os.path.join(self.root_dir, self.label_dir)
        self.img_path = folders.listdir(self.path)  # the course's os.listdir(self.path), sorted and checked
        self.transform = transform

    def __getitem__(self, idx):
        img_name = self.img_path[idx]
        img_item_path = os.path.join(self.root_dir, self.label_dir, img_name)
        img = Image.open(img_item_path).convert("RGB")
        if self.transform:
            img = self.transform(img)  # self.transform: the course's code calls the global transform
        label = self.label_dir
        return img, label

    def __len__(self):
        return len(self.img_path)


def main(argv=None):
    p = common.parser(__doc__, data=False)
    folders.add_data_root(p)
    args = p.parse_args(argv)
    root_dir = os.path.join(args.data_root, "train")

    raw_dataset = MyData(root_dir, "ants")  # no transform: items are PIL images
    img, label = raw_dataset[0]

    # __call__: the tool is an object, and calling it runs its __call__ method
    tensor_trans = transforms.ToTensor()
    tensor_img = tensor_trans(img)
    print(f"tensor_trans(img) is tensor_trans.__call__(img): {torch.equal(tensor_img, tensor_trans.__call__(img))}")
    print(f"a tensor carries: dtype {tensor_img.dtype}, device {tensor_img.device}, "
          f"requires_grad {tensor_img.requires_grad}, grad {tensor_img.grad}")

    # without a transform, a DataLoader cannot batch PIL images
    print(f"without transform: raw_dataset[0] = {raw_dataset[0]}")
    try:
        next(iter(DataLoader(raw_dataset, batch_size=4)))
    except TypeError as e:
        print(f"DataLoader(raw_dataset, batch_size=4): TypeError: {e}".splitlines()[0])

    transform = transforms.Compose([transforms.Resize((256, 256)), transforms.ToTensor()])
    ants_dataset = MyData(root_dir, "ants", transform=transform)  # the transform runs in __getitem__
    img, label = ants_dataset[0]
    print(f"with transform: ants_dataset[0] = ({type(img).__name__} {tuple(img.shape)}, {label!r})")
    imgs, labels = next(iter(DataLoader(ants_dataset, batch_size=4)))
    print(f"DataLoader(ants_dataset, batch_size=4): imgs {tuple(imgs.shape)}, labels {list(labels)}")

    with common.writer("p11_transforms_dataset", args) as writer:
        writer.add_images("train_data", imgs)  # (4, 3, 256, 256): the batch, side by side
        common.tensorboard_hint(writer)


if __name__ == "__main__":
    common.run(main)
