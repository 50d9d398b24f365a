"""What the course's training loop does not show: which classes the model gets right and wrong.

    confusion = Confusion(len(classes))     # in the test loop: confusion.add(outputs, targets)
    per_class_scalars(writer, confusion, classes, epoch)      # SCALARS per_class_accuracy/<class>
    final_report(writer, tudui, test_data, classes, confusion, epoch)
        # prints the per-class accuracy; IMAGES confusion_matrix and test_predictions

Class names in any script keep their own tag (per_class_accuracy/猫). Pictures need a font with
their glyphs: a CJK font when the system has one; otherwise the pictures label classes by number
and a TEXT card `class_legend` says which number is which name (TensorBoard's browser shows any script).
"""
import re
from pathlib import Path

import torch
from PIL import Image, ImageDraw, ImageFont
from torchvision.transforms.functional import pil_to_tensor

from kit.common import width

# Fonts with CJK glyphs, where Linux (Noto, WenQuanYi), Windows and macOS keep them.
CJK_FONTS = ["/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
             "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "C:/Windows/Fonts/msyh.ttc", "C:/Windows/Fonts/simhei.ttf",
             "/System/Library/Fonts/PingFang.ttc", "/System/Library/Fonts/STHeiti Light.ttc"]


class Confusion:
    """Counts of (true class, predicted class) over the test set: row = true, column = predicted."""

    def __init__(self, num_classes):
        self.n = num_classes
        self.counts = torch.zeros(num_classes, num_classes, dtype=torch.long)

    def add(self, outputs, targets):
        pairs = targets.cpu() * self.n + outputs.argmax(1).cpu()  # (64,): true * n + predicted
        self.counts += torch.bincount(pairs, minlength=self.n ** 2).view(self.n, self.n)

    def per_class(self):
        """Of the test images of each class, the fraction predicted right (0 for a class with none)."""
        return (self.counts.diag() / self.counts.sum(1).clamp_min(1)).tolist()


def tag(name):
    """A TensorBoard tag for a class name: lower case, runs of other characters as '_'; any script stays."""
    return re.sub(r"\W+", "_", name.lower()).strip("_") or "class"


def per_class_scalars(writer, confusion, classes, step):
    for name, accuracy in zip(classes, confusion.per_class()):
        writer.add_scalar(f"per_class_accuracy/{tag(name)}", accuracy, step)


def final_report(writer, tudui, test_data, classes, confusion, step):
    """Per-class accuracy (printed, names aligned), the confusion matrix and a grid of predictions."""
    print("per-class test accuracy:")
    column = max(map(width, classes)) + 2
    for name, accuracy in zip(classes, confusion.per_class()):
        print(f"  {name}{' ' * (column - width(name))}{accuracy:.4f}")
    font, labels = label_font(classes)
    if labels != classes:  # no font can draw these names: number them, and say which is which
        writer.add_text("class_legend", "\n".join(f"{i}. {name}" for i, name in enumerate(classes)), step)
    writer.add_image("confusion_matrix", confusion_image(confusion.counts, labels, font), step)
    n = min(16, len(test_data))
    imgs = torch.stack([test_data[i][0] for i in range(n)])  # (16, 3, 32, 32), the first test images
    targets = torch.tensor([test_data[i][1] for i in range(n)])
    tudui.eval()
    with torch.no_grad():
        predicted = tudui(imgs.to(next(tudui.parameters()).device)).argmax(1).cpu()
    writer.add_image("test_predictions", predictions_image(imgs, targets, predicted, labels, font), step)


def label_font(classes, candidates=None):
    """(font, labels): PIL's own font for Latin names; for other scripts a CJK font if there is one,
    else the default font with the class numbers as labels."""
    if all(ord(c) < 0x250 for name in classes for c in name):  # Latin letters: the default font has them
        return ImageFont.load_default(), list(classes)
    for path in CJK_FONTS if candidates is None else candidates:
        if Path(path).is_file():
            try:
                return ImageFont.truetype(str(path), 12), list(classes)
            except OSError:  # a font file Pillow cannot read: try the next one
                continue
    return ImageFont.load_default(), [f"class {i}" for i in range(len(classes))]


def confusion_image(confusion, labels, font):
    """Rows: true class, columns: predicted; shaded by the fraction of the row, with the counts."""
    n, cell, top = len(labels), 34, 36
    labels = [f"{i} {name}"[:24] if not name.startswith("class ") else name for i, name in enumerate(labels)]
    left = 12 + max(font.getbbox(s)[2] for s in labels)
    img = Image.new("RGB", (left + n * cell + 8, top + n * cell + 8), "white")
    draw = ImageDraw.Draw(img)
    draw.text((4, 4), "rows: true class, columns: predicted class", fill="black", font=font)
    fraction = confusion / confusion.sum(1, keepdim=True).clamp_min(1)
    for j in range(n):
        draw.text((left + j * cell + 4, top - 14), str(j), fill="black", font=font)
    for i in range(n):
        draw.text((4, top + i * cell + cell // 2 - 6), labels[i], fill="black", font=font)
        for j in range(n):
            f = float(fraction[i, j])
            shade = (int(255 * (1 - f)), int(255 * (1 - 0.6 * f)), 255)  # white -> blue
            x, y = left + j * cell, top + i * cell
            draw.rectangle([x, y, x + cell - 1, y + cell - 1], fill=shade, outline=(200, 200, 200))
            draw.text((x + 3, y + cell // 2 - 6), str(int(confusion[i, j])), fill="white" if f > 0.5 else "black",
                      font=font)
    return pil_to_tensor(img)  # (3, H, W) uint8


def predictions_image(imgs, targets, predicted, labels, font):
    """A grid of images, each with 'true: ...' and 'pred: ...' below, green when right, red when wrong."""
    size, cols = 96, 4
    tile_w, tile_h = 130, size + 30
    rows = (len(imgs) + cols - 1) // cols
    sheet = Image.new("RGB", (cols * tile_w, rows * tile_h), "white")
    draw = ImageDraw.Draw(sheet)
    for k, (img, t, p) in enumerate(zip(imgs, targets.tolist(), predicted.tolist())):
        x, y = (k % cols) * tile_w, (k // cols) * tile_h
        pic = Image.fromarray((img.clamp(0, 1) * 255).byte().permute(1, 2, 0).numpy())  # (3, 32, 32) -> (32, 32, 3)
        sheet.paste(pic.resize((size, size), Image.NEAREST), (x + (tile_w - size) // 2, y))
        colour = (0, 140, 0) if t == p else (210, 0, 0)
        draw.text((x + 4, y + size + 2), f"true: {labels[t]}"[:26], fill="black", font=font)
        draw.text((x + 4, y + size + 15), f"pred: {labels[p]}"[:26], fill=colour, font=font)
    return pil_to_tensor(sheet)
