"""P9 TensorBoard的使用（二） (Using TensorBoard: add_image)

    python lessons/p09_tensorboard_image.py                        # the first drawn ant, then a bee
    python lessons/p09_tensorboard_image.py --images a.jpg b.png   # your own pictures, a step each
    tensorboard --logdir logs/p09_tensorboard_image

add_image(tag, img_tensor, global_step) wants (C, H, W); a numpy array made from a PIL image is
(H, W, C), so the course says dataformats='HWC'. Printed: the array's type and shape, the error
add_image gives without dataformats, and the same picture as a (C, H, W) tensor.
TensorBoard, IMAGES: train (numpy, HWC) and train_tensor (tensor, CHW), the first picture at step 1,
the second at step 2: drag the step slider above a picture to switch.
Differences from the course's code: the pictures are --images (the course edits the path in the
code and re-runs); Image.open(...).convert('RGB'), since a transparent PNG has 4 channels.
"""
from kit import common, folders  # before torch: a Ctrl-C while torch loads is then one line

import numpy as np
import torch
from PIL import Image


def main(argv=None):
    p = common.parser(__doc__, data=False)
    p.add_argument("--images", nargs="+", default=[folders.FIRST_ANT, folders.FIRST_BEE], metavar="IMAGE",
                   help="pictures to log, one step each (default: the first drawn ant and bee)")
    args = p.parse_args(argv)
    for image_path in args.images:  # all checked before anything is written
        folders.check_image(image_path)

    with common.writer("p09_tensorboard_image", args) as writer:
        for step, image_path in enumerate(args.images, start=1):
            img_PIL = Image.open(image_path).convert("RGB")
            img_array = np.array(img_PIL)
            print(type(img_array))
            print(img_array.shape)  # (H, W, C): height, width, 3 colour channels
            if step == 1:  # the course's first try, without dataformats: (H, W, C) is read as (C, H, W)
                try:
                    writer.add_image("train", img_array, step)
                except TypeError as e:
                    print(f"without dataformats='HWC': TypeError: {e}")

            writer.add_image("train", img_array, step, dataformats='HWC')
            img_tensor = torch.from_numpy(img_array).permute(2, 0, 1)  # (H, W, C) -> (C, H, W)
            print(f"as a tensor: {tuple(img_tensor.shape)}, the default dataformats='CHW'")
            writer.add_image("train_tensor", img_tensor, step)
        common.tensorboard_hint(writer)


if __name__ == "__main__":
    common.run(main)
