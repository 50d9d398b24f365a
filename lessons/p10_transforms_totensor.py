"""P10 Transforms的使用（一） (Using transforms: ToTensor)

    python lessons/p10_transforms_totensor.py                  # the first drawn ant
    python lessons/p10_transforms_totensor.py --image my.jpg   # or your own picture
    tensorboard --logdir logs/p10_transforms_totensor

A transform is a class: make the tool (tensor_trans = transforms.ToTensor()), then use it on a
picture (tensor_img = tensor_trans(img)). ToTensor turns a PIL image or numpy array, (H, W, C)
uint8 in 0..255, into a (C, H, W) float32 tensor in [0, 1]: each value divided by 255.
Printed: the tensor, shape, dtype and range before and after, one pixel worked out by hand.
TensorBoard, IMAGES: Tensor_img, the tensor as it is (no dataformats: it is already CHW).
Differences from the course's code (Transforms.py, typed in the video; the course repo has no copy):
the picture is --image; images.open_image (RGB as a viewer shows it); np.array(img) stands in for
the course's cv2.imread (an extra install, and it gives BGR: blue and red swapped).
"""
from kit import board, console, flags, images  # before torch: a Ctrl-C while torch loads is then one line
from kit.i18n import _

import numpy as np
import torch
from torch.utils.tensorboard import SummaryWriter
from torchvision import transforms


def main(argv=None):
    p = flags.parser(__doc__, data=False, device=False, seed=False, quick=False)
    flags.add_image(p)
    args = flags.parse(p, argv)

    # python的用法 -》 tensor数据类型
    # 通过 transforms.ToTensor去看两个问题
    # 1、transforms该如何使用(python)
    # 2、为什么我们需要Tensor数据类型
    img_path = args.image  # the course's "dataset/train/ants_image/0013035.jpg"
    img = images.open_image(img_path)  # the course's Image.open(img_path) + .convert('RGB'), right for every image
    print(img)

    writer = SummaryWriter(board.run_dir("p10_transforms_totensor", args))  # the course's SummaryWriter("logs")

    # the tool, then the tool used on a picture: PIL (H, W, C) -> tensor (C, H, W)
    tensor_trans = transforms.ToTensor()
    tensor_img = tensor_trans(img)
    print(tensor_img)

    img_array = np.array(img)
    print(f"numpy:  {img_array.shape} {img_array.dtype}, " + _("values {low}..{high}").format(
        low=img_array.min(), high=img_array.max()))
    print(f"tensor: {tuple(tensor_img.shape)} {tensor_img.dtype}, " + _("values {low}..{high}").format(
        low=f"{tensor_img.min().item():.4f}", high=f"{tensor_img.max().item():.4f}"))
    red = int(img_array[0, 0, 0])  # the top-left pixel's red value; the tensor has it at [0][0][0]
    print(_("top-left red: {red} in the array, {red} / 255 = {scaled:.4f}, tensor_img[0][0][0] = {value:.4f}").format(
        red=red, scaled=red / 255, value=tensor_img[0][0][0].item()))
    print(_("ToTensor on the numpy array gives the same tensor: {same}").format(
        same=torch.equal(tensor_trans(img_array), tensor_img)))

    writer.add_image("Tensor_img", tensor_img)

    writer.close()
    board.tensorboard_hint(writer)


if __name__ == "__main__":
    console.run(main)
