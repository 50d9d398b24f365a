"""P7 Dataset类代码实战 (Writing a Dataset: ants and bees from image folders)

    python lessons/p07_read_data.py                                       # the drawn ants and bees
    python lessons/p07_read_data.py --data-root path/to/hymenoptera_data  # or the real ones
    tensorboard --logdir logs/p07_read_data

Printed: an item (PIL image, label), each Dataset's length, ants + bees as one Dataset, and the
course's second layout (ants_image/ + ants_label/, the 练手数据集) when ROOT/train has it.
TensorBoard, IMAGES: train_dataset, the first ant at step 0, the first bee at its index (12 here).
Differences from the course's code:
  - the folder is --data-root (default data/hymenoptera_mini), not a hard-coded "dataset/train"
  - file lists are sorted (os.listdir's order varies) and checked: a bad folder is one clear line
  - Image.open(...).convert('RGB'): a PNG with transparency would give 4 channels
"""
import os

from kit import common, folders  # before torch: a Ctrl-C while torch loads is then one line

import numpy as np
from PIL import Image
from torch.utils.data import Dataset


class MyData(Dataset):
    """hymenoptera_data's layout: root_dir/ants/*.jpg, and the label is the folder's name."""

    def __init__(self, root_dir, label_dir):
        self.root_dir = root_dir
        self.label_dir = label_dir
        self.path = os.path.join(self.root_dir, self.label_dir)
        self.img_path = folders.listdir(self.path)  # the course's os.listdir(self.path), sorted and checked

    def __getitem__(self, idx):
        img_name = self.img_path[idx]
        img_item_path = os.path.join(self.root_dir, self.label_dir, img_name)
        img = Image.open(img_item_path).convert("RGB")
        label = self.label_dir
        return img, label

    def __len__(self):
        return len(self.img_path)


class MyLabelData(Dataset):
    """The course's second MyData (read_data.py): ants_image/*.jpg, and ants_label/*.txt holding each label."""

    def __init__(self, root_dir, image_dir, label_dir):
        self.root_dir = root_dir
        self.image_dir = image_dir
        self.label_dir = label_dir
        self.label_path = os.path.join(self.root_dir, self.label_dir)
        self.image_path = os.path.join(self.root_dir, self.image_dir)
        self.image_list = folders.listdir(self.image_path)  # sorted, as the course's .sort() does
        self.label_list = folders.listdir(self.label_path, images=False)
        # 因为label 和 Image文件名相同，进行一样的排序，可以保证取出的数据和label是一一对应的
        folders.check_pairs(self.image_path, self.image_list, self.label_path, self.label_list)

    def __getitem__(self, idx):
        img_name = self.image_list[idx]
        label_name = self.label_list[idx]
        img_item_path = os.path.join(self.root_dir, self.image_dir, img_name)
        label_item_path = os.path.join(self.root_dir, self.label_dir, label_name)
        img = Image.open(img_item_path).convert("RGB")
        with open(label_item_path, "r", encoding="utf-8") as f:
            label = f.readline().strip()  # strip: a label file saved with a newline would give "ants\n"
        return img, label

    def __len__(self):
        return len(self.image_list)  # check_pairs made sure the lists are as long (the course asserts it here)


def main(argv=None):
    p = common.parser(__doc__, data=False)
    folders.add_data_root(p)
    args = p.parse_args(argv)

    root_dir = os.path.join(args.data_root, "train")
    ants_label_dir = "ants"
    bees_label_dir = "bees"
    ants_dataset = MyData(root_dir, ants_label_dir)
    bees_dataset = MyData(root_dir, bees_label_dir)

    img, label = ants_dataset[0]  # __getitem__(0)
    print(img)
    print(label)
    train_dataset = ants_dataset + bees_dataset  # a ConcatDataset: all the ants, then all the bees
    print(f"len(ants_dataset) = {len(ants_dataset)}, len(bees_dataset) = {len(bees_dataset)}, "
          f"len(train_dataset) = {len(train_dataset)}")
    first_bee = len(ants_dataset)
    print(f"train_dataset[{first_bee}] is a {train_dataset[first_bee][1]} picture: the bees follow the ants")

    # the second layout: images and label files side by side, paired by name
    image_ants, label_ants = "ants_image", "ants_label"
    image_bees, label_bees = "bees_image", "bees_label"
    if os.path.isdir(os.path.join(root_dir, image_ants)):
        ants_dataset2 = MyLabelData(root_dir, image_ants, label_ants)
        bees_dataset2 = MyLabelData(root_dir, image_bees, label_bees)
        train_dataset2 = ants_dataset2 + bees_dataset2
        img, label = train_dataset2[0]
        print(f"second layout: {len(train_dataset2)} pictures; {ants_dataset2.image_list[0]} has the label "
              f"{label!r} from {ants_dataset2.label_list[0]}")
    else:
        print(f"no {image_ants}/ in {root_dir}: the second layout (the course's 练手数据集) is skipped")

    with common.writer("p07_read_data", args) as writer:
        for idx in (0, first_bee):
            img, label = train_dataset[idx]
            # a PIL image is (width, height); as a numpy array it is (H, W, C): P9 explains dataformats
            writer.add_image("train_dataset", np.array(img), idx, dataformats="HWC")
        common.tensorboard_hint(writer)


if __name__ == "__main__":
    common.run(main)
