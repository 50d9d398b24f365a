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
Differences from the course's code: --image; .convert('RGB'); crops are 128 pixels (--crop-size),
not 512, which is larger than the drawn 256x192 pictures; the crops are seeded (--seed).
"""
from kit import common, folders  # before torch: a Ctrl-C while torch loads is then one line

from PIL import Image
from torchvision import transforms


def output_type(trans, x):
    """What a transform returns for x: 'Image', 'Tensor', or the TypeError it raises."""
    try:
        return type(trans(x)).__name__
    except TypeError:
        return "TypeError"


def main(argv=None):
    p = common.parser(__doc__, data=False)
    p.add_argument("--image", default=folders.FIRST_ANT, help="the picture (default: the first drawn ant)")
    p.add_argument("--crop-size", type=common.positive_int, default=128, help="RandomCrop's size (default: 128)")
    args = p.parse_args(argv)
    common.seed_everything(args.seed)  # RandomCrop draws from torch's random numbers
    folders.check_image(args.image)
    img = Image.open(args.image).convert("RGB")
    if args.crop_size > min(img.size):
        raise common.LessonError(f"--crop-size {args.crop_size} is larger than the picture "
                                 f"({img.size[0]}x{img.size[1]}): use at most {min(img.size)}")
    trans_totensor = transforms.ToTensor()
    img_tensor = trans_totensor(img)

    # input types: which transform takes a PIL image, which a tensor
    print(f"{'':17} {'PIL image':>10} {'tensor':>10}")
    for name, trans in [("ToTensor()", trans_totensor), ("Resize(512)", transforms.Resize(512)),
                        (f"RandomCrop({args.crop_size})", transforms.RandomCrop(args.crop_size)),
                        ("Normalize(...)", transforms.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]))]:
        print(f"{name:17} {output_type(trans, img):>10} {output_type(trans, img_tensor):>10}")

    with common.writer("p13_transforms_compose", args) as writer:  # the course's SummaryWriter("logs")
        # Compose - resize - 2
        trans_resize_2 = transforms.Resize(512)
        # PIL -> PIL -> tensor
        trans_compose = transforms.Compose([trans_resize_2, trans_totensor])
        img_resize_2 = trans_compose(img)
        print(f"Compose([Resize(512), ToTensor()]): PIL {img.size} -> PIL {trans_resize_2(img).size} "
              f"-> tensor {tuple(img_resize_2.shape)}")
        writer.add_image("Resize", img_resize_2, 1)

        # RandomCrop
        trans_random = transforms.RandomCrop(args.crop_size)
        trans_compose_2 = transforms.Compose([trans_random, trans_totensor])
        for i in range(10):
            img_crop = trans_compose_2(img)
            writer.add_image("RandomCrop", img_crop, i)
        print(f"RandomCrop: 10 crops of {tuple(img_crop.shape)}, each from a random place")
        common.tensorboard_hint(writer)


if __name__ == "__main__":
    common.run(main)
