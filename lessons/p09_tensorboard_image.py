"""P9 TensorBoard的使用（二） (Using TensorBoard: add_image)

    python lessons/p09_tensorboard_image.py                        # the first drawn ant, then a bee
    python lessons/p09_tensorboard_image.py --images a.jpg b.png   # your own pictures, a step each
    tensorboard --logdir logs/p09_tensorboard_image

add_image(tag, img_tensor, global_step) wants (C, H, W); a numpy array made from a PIL image is
(H, W, C), so the course says dataformats='HWC'. Printed for each picture: its path and step, the
array's type and shape, and the same picture as a (C, H, W) tensor; once, the error add_image gives
without dataformats. TensorBoard, IMAGES: train (numpy, HWC) and train_tensor (tensor, CHW), the
first picture at step 1, the second at step 2: drag the step slider above a picture to switch.
Differences from the course's code (P8_Tensorboard.py): the pictures are --images (the course edits
the path and the step in the code and re-runs); images.open_image for Image.open: RGB as a viewer
shows it (a transparent PNG has 4 channels, a 16-bit one would be all white).
"""
from kit import board, console, errors, flags, images  # before torch: a Ctrl-C while torch loads is then one line
from kit.i18n import _

import numpy as np
import torch
from torch.utils.tensorboard import SummaryWriter


def main(argv=None):
    p = flags.parser(__doc__, data=False, device=False, seed=False, quick=False)
    first_bee = flags.MINI / "train" / "bees_image" / "bee_00.jpg"
    p.add_argument("--images", nargs="+", default=[flags.FIRST_ANT, first_bee], metavar="IMAGE",
                   help=_("pictures to log, one step each (default: the first drawn ant and bee)"))
    args = flags.parse(p, argv)
    for image_path in args.images:  # all checked before anything is written
        images.check(image_path)  # one line if it is missing, not an image, or too big

    writer = SummaryWriter(board.run_dir("p09_tensorboard_image", args))  # the course's SummaryWriter("logs")
    for step, image_path in enumerate(args.images, start=1):  # the course: one path, step 1; then a bee, step 2
        print(_("step {step}: {path}").format(step=step, path=errors.shown(image_path, relative=True)))
        img_PIL = images.open_image(image_path)  # the course's Image.open + .convert('RGB'), right for every image
        img_array = np.array(img_PIL)
        print("  type(img_array):", type(img_array))
        print("  img_array.shape:", img_array.shape, _("(H, W, C): height, width, 3 colour channels"))
        if step == 1:  # the course's first try, without dataformats: (H, W, C) is read as (C, H, W)
            try:
                writer.add_image("train", img_array, step)
            except TypeError as e:
                print("  " + _("without dataformats='HWC':"), f"TypeError: {e}")

        writer.add_image("train", img_array, step, dataformats='HWC')
        img_tensor = torch.from_numpy(img_array).permute(2, 0, 1)  # (H, W, C) -> (C, H, W)
        print("  img_tensor.shape:", tuple(img_tensor.shape), _("(C, H, W): the default dataformats='CHW'"))
        writer.add_image("train_tensor", img_tensor, step)

    writer.close()
    board.tensorboard_hint(writer)


if __name__ == "__main__":
    console.run(main)
