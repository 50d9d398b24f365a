"""P12 常见的Transforms（一） (Common transforms: ToTensor, Normalize, Resize)

    python lessons/p12_transforms_normalize.py                  # the first drawn ant
    python lessons/p12_transforms_normalize.py --image my.jpg   # or your own picture
    tensorboard --logdir logs/p12_transforms_normalize

Normalize(mean, std) works on a tensor, channel by channel: output = (input - mean) / std. With
mean = std = 0.5 that is 2 * input - 1, so [0, 1] becomes [-1, 1]. Resize((512, 512)) sets both
sides (a non-square picture gets squashed); it takes a PIL image and gives one back.
Printed: a pixel before and after Normalize, and the formula worked out; sizes before and after Resize.
TensorBoard, IMAGES: ToTensor; Normalize (values below 0 are shown as black, so it looks darker);
Resize at step 0 (P13 adds step 1).
Differences from the course's code: the picture is --image; .convert('RGB'), since a transparent
PNG has 4 channels and Normalize's 3 means would not fit it.
"""
from kit import common, folders  # before torch: a Ctrl-C while torch loads is then one line

from PIL import Image
from torchvision import transforms


def main(argv=None):
    p = common.parser(__doc__, data=False)
    p.add_argument("--image", default=folders.FIRST_ANT, help="the picture (default: the first drawn ant)")
    args = p.parse_args(argv)
    folders.check_image(args.image)

    with common.writer("p12_transforms_normalize", args) as writer:  # the course's SummaryWriter("logs")
        img = Image.open(args.image).convert("RGB")
        print(img)

        # ToTensor
        trans_totensor = transforms.ToTensor()
        img_tensor = trans_totensor(img)
        writer.add_image("ToTensor", img_tensor)

        # Normalize: output[channel] = (input[channel] - mean[channel]) / std[channel]
        print(img_tensor[0][0][0])
        trans_norm = transforms.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])
        img_norm = trans_norm(img_tensor)
        print(img_norm[0][0][0])
        x = img_tensor[0][0][0].item()
        print(f"(input - mean) / std = ({x:.4f} - 0.5) / 0.5 = {(x - 0.5) / 0.5:.4f}")
        print(f"every value: {img_tensor.min().item():.4f}..{img_tensor.max().item():.4f} before, "
              f"{img_norm.min().item():.4f}..{img_norm.max().item():.4f} after")
        writer.add_image("Normalize", img_norm)

        # Resize
        print(img.size)  # (width, height)
        trans_resize = transforms.Resize((512, 512))
        img_resize = trans_resize(img)  # img PIL -> resize -> img_resize PIL
        print(img_resize)
        img_resize = trans_totensor(img_resize)  # img_resize PIL -> totensor -> img_resize tensor
        print(f"as a tensor: {tuple(img_resize.shape)}")
        writer.add_image("Resize", img_resize, 0)
        common.tensorboard_hint(writer)


if __name__ == "__main__":
    common.run(main)
