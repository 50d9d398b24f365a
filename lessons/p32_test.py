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

from kit import checkpoint, common, images  # before torch: a Ctrl-C while torch loads is then one line

import torch
import torchvision
from PIL import Image


def main(argv=None):
    p = common.parser(__doc__, data=False)
    p.add_argument("images", nargs="*", type=Path,
                   help="image files or folders (default: the samples in data/samples/)")
    p.add_argument("--checkpoint", type=Path, help="checkpoint to load (default: the newest best.pth "
                                                   "under checkpoints/)")
    p.add_argument("--batch-size", type=common.positive_int, default=64, help="images per batch (default: 64)")
    args = p.parse_args(argv)  # --quick is accepted for uniformity; predicting is already quick
    common.seed_everything(args.seed)
    device = common.get_device(args.device)

    # the course has one image_path; here every image file in the files and folders given, each checked
    # first: a bad one is refused in one line, and the others go on
    files, refused = images.readable(args.images or [common.DATA_DIR / "samples"])

    image_path = files[0]  # the course: image_path = "../imgs/airplane.png"
    print(f"\nthe course's test.py, step by step, on {image_path}:")
    image = Image.open(image_path)
    print(image)
    image = images.to_rgb(image)  # the course's image.convert('RGB'), right also for 16-bit, transparent, rotated

    transform = torchvision.transforms.Compose([torchvision.transforms.Resize((32, 32)),  # squashes, as the course
                                                torchvision.transforms.ToTensor()])        # [0, 255] -> [0, 1]

    image = transform(image)  # (H, W) RGB picture -> (3, 32, 32) tensor
    print(image.shape)

    # the course: model = torch.load("tudui_29_gpu.pth", map_location=torch.device('cpu')), which unpickles
    # (runs) whatever the file holds; load_tudui rebuilds only tensors and an allow-listed Tudui, on `device`
    ckpt_path = args.checkpoint or checkpoint.newest(common.CHECKPOINT_DIR)
    model, classes = checkpoint.load_tudui(ckpt_path, device)
    print(f"checkpoint: {ckpt_path}")
    print(model)
    print(f"{len(classes)} classes: {', '.join(classes)}")
    synthetic = images.warn_if_synthetic(classes)  # its classes are shapes: photos get meaningless answers
    image = torch.reshape(image, (1, 3, 32, 32))  # the model takes batches: (3, 32, 32) -> (1, 3, 32, 32)
    print(image.shape)
    model.eval()  # as the course (load_tudui did it already): Dropout/BatchNorm layers switch to inference
    with torch.no_grad():  # no training here: no gradients, less memory
        output = model(image.to(device))  # (1, 3, 32, 32) -> (1, number of classes)
    print(output)

    print(output.argmax(1))
    print(f"output.argmax(1) is class {output.argmax(1).item()}: {classes[output.argmax(1).item()]}\n")

    # beyond the course: every image at once, in batches, with class names and top-3 probabilities
    rows = images.predict(model, files, transform, classes, device, args.batch_size, refused)

    with common.writer("p32_test", args, synthetic=synthetic) as writer:
        images.log_predictions(writer, rows, refused)
        common.tensorboard_hint(writer)
    return 0


if __name__ == "__main__":
    common.run(main)
