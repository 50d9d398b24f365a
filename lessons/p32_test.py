"""P32 完整的模型验证套路 (The complete validation routine: give a trained model your own images)

    python lessons/p27_train.py --quick          # first, if you have no checkpoint yet (seconds)
    python lessons/p32_test.py                   # the sample photos in data/samples/, newest checkpoint
    python lessons/p32_test.py dog.png photos/ --checkpoint checkpoints/p27_train/best.pth
    tensorboard --logdir logs/p32_test           # IMAGES: the 32x32 each file became; TEXT: predictions

Printed: the course's steps on the first image (print(image) ... output.argmax(1)), then a table of every
image (files and folders; default data/samples/) with its class name and top-3 probabilities.
Differences from the course's test.py:
  - the checkpoint is read safely (weights_only=True) with map_location; class names come from it;
  - every kind of image is converted as a viewer shows it (.convert('RGB') clips 16-bit images to white,
    turns transparent areas black and ignores a photo's EXIF rotation); unreadable files are refused;
  - many files at once, in batches; a model trained on the synthetic shapes is named as such.
"""
from pathlib import Path

from kit import board, checkpoint, console, flags, images, photos  # before torch: a Ctrl-C while torch loads is then one line
from kit.errors import shown
from kit.i18n import _

import torch
import torchvision
from PIL import Image
from torch.utils.tensorboard import SummaryWriter


def main(argv=None):
    p = flags.parser(__doc__, data=False, seed=False, quick=False)
    p.add_argument("images", nargs="*", type=Path, help=_("image files or folders (default: the samples in "
                                                          "data/samples/)"))
    p.add_argument("--checkpoint", type=Path, help=_("a checkpoint file, or a folder: its newest best.pth (default: "
                                                     "the newest best.pth under checkpoints/)"))
    p.add_argument("--batch-size", type=flags.positive_int, default=64, help=_("images per batch (default: 64)"))
    args = flags.parse(p, argv)
    device = args.device

    # the course has one image_path; here every image file in the files and folders given, each checked
    # first: a bad one is refused in one line, and the others go on
    files, refused = photos.readable(args.images or [flags.DATA_DIR / "samples"])

    image_path = files[0]  # the course: image_path = "../imgs/airplane.png"
    print(_("the course's test.py, step by step, on {path}:").format(path=shown(image_path)))
    image = Image.open(image_path)
    print(image)
    image = images.to_rgb(image)  # the course's image.convert('RGB'), right also for 16-bit, transparent, rotated
    transform = torchvision.transforms.Compose([torchvision.transforms.Resize((32, 32)),
                                                torchvision.transforms.ToTensor()])

    image = transform(image)  # (H, W) RGB picture -> (3, 32, 32) tensor in [0, 1], squashed as the course does
    print(image.shape)

    # the course: model = torch.load("tudui_29_gpu.pth", map_location=torch.device('cpu')), which unpickles
    # (runs) whatever the file holds; load_tudui rebuilds only tensors and an allow-listed Tudui, on `device`
    ckpt_path = checkpoint.newest(args.checkpoint or flags.CHECKPOINT_DIR)  # a file, or a folder's newest best.pth
    model, classes = checkpoint.load_tudui(ckpt_path, device)
    print(_("checkpoint: {path}").format(path=shown(ckpt_path)))
    print(model)
    print(_("{n} classes: {classes}").format(n=len(classes), classes=", ".join(classes)))
    if photos.warn_if_synthetic(classes):  # its classes are shapes: photos get meaningless answers
        args.dataset = "synthetic"  # and its run folder says so: logs/p32_test/<time>-synthetic
    image = torch.reshape(image, (1, 3, 32, 32))  # the model takes batches: (3, 32, 32) -> (1, 3, 32, 32)
    print(image.shape)
    model.eval()  # as the course (load_tudui did it already): Dropout/BatchNorm layers switch to inference
    with torch.no_grad():  # no training here: no gradients, less memory
        output = model(image.to(device))  # (1, 3, 32, 32) -> (1, number of classes)
    print(output)

    print(output.argmax(1))
    print(_("output.argmax(1) is class {index}: {name}").format(index=output.argmax(1).item(),
                                                                name=classes[output.argmax(1).item()]) + "\n")

    # beyond the course: every image at once, in batches, with class names and top-3 probabilities
    rows = photos.predict(model, files, transform, classes, device, args.batch_size, refused)

    with SummaryWriter(board.run_dir("p32_test", args)) as writer:
        photos.log_predictions(writer, rows, refused)
    board.tensorboard_hint(writer)


if __name__ == "__main__":
    console.run(main)
