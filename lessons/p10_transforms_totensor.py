"""P10 Transforms的使用（一） (Using transforms: ToTensor)

    python lessons/p10_transforms_totensor.py                  # the first drawn ant
    python lessons/p10_transforms_totensor.py --image my.jpg   # or your own picture
    tensorboard --logdir logs/p10_transforms_totensor

A transform is a class: make the tool (tensor_trans = transforms.ToTensor()), then use it on a
picture (tensor_img = tensor_trans(img)). ToTensor turns a PIL image or numpy array, (H, W, C)
uint8 in 0..255, into a (C, H, W) float32 tensor in [0, 1]: each value divided by 255.
Printed: the tensor, shape, dtype and range before and after, one pixel worked out by hand.
TensorBoard, IMAGES: Tensor_img, the tensor as it is (no dataformats: it is already CHW).
Differences from the course's code: the picture is --image; .convert('RGB'); np.array(img) stands
in for the course's cv2.imread (an extra install, and it gives BGR: blue and red swapped).
"""
from kit import common, folders  # before torch: a Ctrl-C while torch loads is then one line

import numpy as np
import torch
from PIL import Image
from torchvision import transforms


def main(argv=None):
    p = common.parser(__doc__, data=False)
    p.add_argument("--image", default=folders.FIRST_ANT, help="the picture (default: the first drawn ant)")
    args = p.parse_args(argv)

    img_path = args.image
    folders.check_image(img_path)
    img = Image.open(img_path).convert("RGB")
    print(img)  # a PIL image knows its size as (width, height)

    tensor_trans = transforms.ToTensor()  # the tool
    tensor_img = tensor_trans(img)        # used on a picture: PIL (H, W, C) -> tensor (C, H, W)
    print(tensor_img)

    img_array = np.array(img)
    print(f"numpy:  {img_array.shape} {img_array.dtype}, values {img_array.min()}..{img_array.max()}")
    print(f"tensor: {tuple(tensor_img.shape)} {tensor_img.dtype}, "
          f"values {tensor_img.min().item():.4f}..{tensor_img.max().item():.4f}")
    red = int(img_array[0, 0, 0])  # the top-left pixel's red value; the tensor has it at [0][0][0]
    print(f"top-left red: {red} in the array, {red} / 255 = {red / 255:.4f}, "
          f"tensor_img[0][0][0] = {tensor_img[0][0][0].item():.4f}")
    print(f"ToTensor on the numpy array gives the same tensor: {torch.equal(tensor_trans(img_array), tensor_img)}")

    with common.writer("p10_transforms_totensor", args) as writer:
        writer.add_image("Tensor_img", tensor_img)
        common.tensorboard_hint(writer)


if __name__ == "__main__":
    common.run(main)
