"""P7 Dataset类代码实战 (Writing a Dataset: ants and bees from image folders)

    python lessons/p07_read_data.py                                       # the drawn ants and bees
    python lessons/p07_read_data.py --data-root path/to/hymenoptera_data  # or the real ones, or 练手数据集

The video's MyData (the label is the folder's name: ROOT/train/ants/), then the course's read_data.py
MyData, here MyLabelData (ants_image/ + ants_label/, the 练手数据集), items {'img': tensor, 'label': text};
--data-root may hold either layout or both. Printed: an item, each Dataset's length, ants + bees as one
Dataset, the label read from its file. TensorBoard (tensorboard --logdir logs/p07_read_data), IMAGES:
train_dataset and train_label_dataset, the first ant at step 0, the first bee at its index (12 here).
Differences from the course's code:
  - the folder is --data-root (default data/hymenoptera_mini), not a hard-coded "dataset/train"
  - the file lists are sorted and checked: a bad folder is one clear line naming it
  - images.open_image for Image.open: RGB as a viewer shows it (transparent, 16-bit, rotated photos)
  - label files are read as UTF-8 or UTF-16 (what Windows' Notepad saves), and stripped
"""
import os

from kit import board, console, errors, flags, folders, images  # before torch: a Ctrl-C while it loads is one line
from kit.i18n import _

import numpy as np
from torch.utils.data import Dataset
from torch.utils.tensorboard import SummaryWriter
from torchvision import transforms


class MyData(Dataset):

    def __init__(self, root_dir, label_dir):
        self.root_dir = root_dir
        self.label_dir = label_dir
        self.path = os.path.join(self.root_dir, self.label_dir)
        self.img_path = folders.listdir(self.path)  # the course's os.listdir(self.path), every file checked
        self.img_path.sort()  # not in the video: os.listdir's order differs between systems (read_data.py sorts)

    def __getitem__(self, idx):
        img_name = self.img_path[idx]
        img_item_path = os.path.join(self.root_dir, self.label_dir, img_name)
        img = images.open_image(img_item_path)  # the course's Image.open + .convert('RGB'), right for every image
        label = self.label_dir
        return img, label

    def __len__(self):
        return len(self.img_path)


class MyLabelData(Dataset):  # read_data.py calls it MyData too: the label comes from a file

    def __init__(self, root_dir, image_dir, label_dir, transform):
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

        img = self.transform(img)
        sample = {'img': img, 'label': label}
        return sample

    def __len__(self):
        assert len(self.image_list) == len(self.label_list)
        return len(self.image_list)


def main(argv=None):
    p = flags.parser(__doc__, data=False, device=False, seed=False, quick=False)
    folders.add_data_root(p)
    args = flags.parse(p, argv)
    hymenoptera, practice = folders.layouts(args.data_root)  # which of the two layouts it holds (one line if neither)

    root_dir = os.path.join(args.data_root, "train")  # the course's "dataset/train"
    if hymenoptera:  # the video: hymenoptera_data, the label is the folder's name
        ants_label_dir = "ants"
        bees_label_dir = "bees"
        ants_dataset = MyData(root_dir, ants_label_dir)
        bees_dataset = MyData(root_dir, bees_label_dir)
        img, label = ants_dataset[0]
        print(img)
        print(label)
        # a ConcatDataset: all the ants, then all the bees
        train_dataset = ants_dataset + bees_dataset
        print(f"len(ants_dataset) = {len(ants_dataset)}, len(bees_dataset) = {len(bees_dataset)}, "
              f"len(train_dataset) = {len(train_dataset)}")
        first_bee = len(ants_dataset)
        print(f"train_dataset[{first_bee}][1] = {train_dataset[first_bee][1]!r}: " + _("the bees follow the ants"))
    else:
        print(_("no ants/ or bees/ in {root}: the video's layout (hymenoptera_data) is skipped").format(
            root=errors.shown(root_dir)))

    # read_data.py: images and label files side by side (the course's 练手数据集)
    transform = transforms.Compose([transforms.Resize((256, 256)), transforms.ToTensor()])
    image_ants = "ants_image"
    label_ants = "ants_label"
    if practice:
        ants_label_dataset = MyLabelData(root_dir, image_ants, label_ants, transform)
        image_bees = "bees_image"
        label_bees = "bees_label"
        bees_label_dataset = MyLabelData(root_dir, image_bees, label_bees, transform)
        train_label_dataset = ants_label_dataset + bees_label_dataset
        sample = train_label_dataset[0]
        print(f"len(train_label_dataset) = {len(train_label_dataset)}; train_label_dataset[0]: "
              f"'img' {tuple(sample['img'].shape)}, 'label' {sample['label']!r} "
              + _("from {name}").format(name=errors.shown(ants_label_dataset.label_list[0])))
    else:
        print(_("no {folder}/ in {root}: the second layout (the course's 练手数据集) is skipped").format(
            folder=image_ants, root=errors.shown(root_dir)))

    writer = SummaryWriter(board.run_dir("p07_read_data", args))  # the course's SummaryWriter("logs")
    for idx in (0, first_bee) if hymenoptera else ():
        img, label = train_dataset[idx]
        # a PIL image is (width, height); as a numpy array it is (H, W, C): P9 explains dataformats
        writer.add_image("train_dataset", np.array(img), idx, dataformats="HWC")
    for idx in (0, len(ants_label_dataset)) if practice else ():
        writer.add_image("train_label_dataset", train_label_dataset[idx]['img'], idx)  # a (3, 256, 256) tensor
    writer.close()
    board.tensorboard_hint(writer)


if __name__ == "__main__":
    console.run(main)
