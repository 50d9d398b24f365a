"""P13 常见的Transforms（二） (Common transforms: Compose, RandomCrop)

    python lessons/p13_transforms_compose.py                                 # the first drawn ant
    python lessons/p13_transforms_compose.py --image my.jpg --crop-size 300  # or your own picture
    tensorboard --logdir logs/p13_transforms_compose

Compose([t1, t2]) runs t1, then t2 on what t1 gave: each transform must take what the one before
it returns. Resize(512) sets the short side to 512, keeping the shape; RandomCrop(size) cuts a
size x size piece at a random place, a new one each call.
Printed: which transforms take a PIL image and which a tensor, and the types through a Compose.
TensorBoard, IMAGES: Resize at step 1 (P12 logged step 0), RandomCrop at steps 0-9: drag the
step slider to see ten crops.
Differences from the course's code (UsefulTransforms.py, typed in the video): --image; images.open_image;
crops are 128 pixels (--crop-size), not 512, which is larger than the drawn 256x192 pictures; the
crops are seeded (--seed).
"""
from kit import board, console, errors, flags, images  # before torch: a Ctrl-C while torch loads is then one line
from kit.i18n import _

from torch.utils.tensorboard import SummaryWriter
from torchvision import transforms


def output_type(trans, x):
    """What a transform returns for x: 'Image', 'Tensor', or the TypeError it raises."""
    try:
        return type(trans(x)).__name__
    except TypeError:
        return "TypeError"


def main(argv=None):
    p = flags.parser(__doc__, data=False, device=False, quick=False)  # --seed: RandomCrop draws random numbers
    flags.add_image(p)
    p.add_argument("--crop-size", type=flags.positive_int, default=128, help=_("RandomCrop's size (default: 128)"))
    args = flags.parse(p, argv)
    img = images.open_image(args.image)  # the course's Image.open(...) + .convert('RGB'), right for every image
    if args.crop_size > min(img.size):
        raise errors.LessonError(_("--crop-size {size} is larger than the picture ({w}x{h}): use at most {most}")
                                 .format(size=args.crop_size, w=img.size[0], h=img.size[1], most=min(img.size)))
    trans_totensor = transforms.ToTensor()
    img_tensor = trans_totensor(img)

    # input types: which transform takes a PIL image, which a tensor
    print(f"{'':17} {'PIL image':>10} {'tensor':>10}")
    for name, trans in [("ToTensor()", trans_totensor), ("Resize(512)", transforms.Resize(512)),
                        (f"RandomCrop({args.crop_size})", transforms.RandomCrop(args.crop_size)),
                        ("Normalize(...)", transforms.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]))]:
        print(f"{name:17} {output_type(trans, img):>10} {output_type(trans, img_tensor):>10}")

    writer = SummaryWriter(board.run_dir("p13_transforms_compose", args))  # the course's SummaryWriter("logs")
    # Compose - resize - 2
    trans_resize_2 = transforms.Resize(512)
    # PIL -> PIL -> tensor
    trans_compose = transforms.Compose([trans_resize_2, trans_totensor])
    img_resize_2 = trans_compose(img)
    writer.add_image("Resize", img_resize_2, 1)
    print(f"Compose([Resize(512), ToTensor()]): PIL {img.size} -> PIL {trans_resize_2(img).size} "
          f"-> tensor {tuple(img_resize_2.shape)}")

    # RandomCrop
    trans_random = transforms.RandomCrop(args.crop_size)  # the course's RandomCrop(512)
    trans_compose_2 = transforms.Compose([trans_random, trans_totensor])
    for i in range(10):
        img_crop = trans_compose_2(img)
        writer.add_image("RandomCrop", img_crop, i)
    print(f"RandomCrop({args.crop_size}): " + _("10 crops of {shape}, each from a random place").format(
        shape=tuple(img_crop.shape)))

    writer.close()
    board.tensorboard_hint(writer)


if __name__ == "__main__":
    console.run(main)
