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
Differences from the course's code (UsefulTransforms.py, typed in the video; the course repo has no
copy): the picture is --image; images.open_image for Image.open: RGB as a viewer shows it (a transparent
PNG has 4 channels, which Normalize's 3 means do not fit; a 16-bit one would be all white).
"""
from kit import board, console, flags, images  # before torch: a Ctrl-C while torch loads is then one line
from kit.i18n import _

from torch.utils.tensorboard import SummaryWriter
from torchvision import transforms


def main(argv=None):
    p = flags.parser(__doc__, data=False, device=False, seed=False, quick=False)
    flags.add_image(p)
    args = flags.parse(p, argv)
    img = images.open_image(args.image)  # the course's Image.open(...) + .convert('RGB'), right for every image

    writer = SummaryWriter(board.run_dir("p12_transforms_normalize", args))  # the course's SummaryWriter("logs")
    print(img)

    # ToTensor
    trans_totensor = transforms.ToTensor()
    img_tensor = trans_totensor(img)
    writer.add_image("ToTensor", img_tensor)

    # Normalize
    print(img_tensor[0][0][0])
    trans_norm = transforms.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])
    img_norm = trans_norm(img_tensor)
    print(img_norm[0][0][0])
    x = img_tensor[0][0][0].item()  # output[channel] = (input[channel] - mean[channel]) / std[channel]
    print(f"(input - mean) / std = ({x:.4f} - 0.5) / 0.5 = {(x - 0.5) / 0.5:.4f}")
    print(_("every value: {low:.4f}..{high:.4f} before, {low2:.4f}..{high2:.4f} after").format(
        low=img_tensor.min().item(), high=img_tensor.max().item(), low2=img_norm.min().item(),
        high2=img_norm.max().item()))
    writer.add_image("Normalize", img_norm)

    # Resize
    print(img.size)
    trans_resize = transforms.Resize((512, 512))
    # img PIL -> resize -> img_resize PIL
    img_resize = trans_resize(img)
    # img_resize PIL -> totensor -> img_resize tensor
    img_resize = trans_totensor(img_resize)
    writer.add_image("Resize", img_resize, 0)
    print(img_resize)
    print(img_resize.shape)  # not in the course: the printed tensor does not show its size

    writer.close()
    board.tensorboard_hint(writer)


if __name__ == "__main__":
    console.run(main)
