"""Which classes the model gets right and wrong, which the course's test loop does not show: a Confusion counted in
the test loop, SCALARS per_class_accuracy/<class>, at the end IMAGES confusion_matrix and test_predictions."""
import contextlib
import re
from pathlib import Path

import torch
from PIL import Image, ImageDraw, ImageFont
from torchvision.transforms.functional import pil_to_tensor

from kit.console import width
from kit.i18n import N_, _

CJK_FONTS = ["/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
             "C:/Windows/Fonts/msyh.ttc", "C:/Windows/Fonts/simhei.ttf", "/System/Library/Fonts/PingFang.ttc"]


class Confusion:
    """Counts of (true class, predicted class) over the test set: row = true, column = predicted."""
    def __init__(self, classes):
        self.classes, self.n = list(classes), len(classes)
        self.counts = torch.zeros(self.n, self.n, dtype=torch.long)

    def add(self, outputs, targets):
        pairs = targets.cpu() * self.n + outputs.argmax(1).cpu()  # (64,): true * n + predicted
        self.counts += torch.bincount(pairs, minlength=self.n ** 2).view(self.n, self.n)

    def per_class(self):
        return (self.counts.diag() / self.counts.sum(1).clamp_min(1)).tolist()  # the fraction right; 0 for no images


def per_class_scalars(writer, confusion, step):
    for name, acc in zip(confusion.classes, confusion.per_class()):  # 猫 stays 猫; other signs become _
        writer.add_scalar("per_class_accuracy/" + (re.sub(r"\W+", "_", name.lower()).strip("_") or "class"), acc, step)


def final_report(writer, tudui, test_data, confusion, step):
    """Per-class accuracy (printed, names aligned), the confusion matrix and a grid of predictions."""
    column = max(map(width, confusion.classes)) + 2  # names aligned in terminal columns
    print(_("per-class test accuracy:"), *(f"  {name}{' ' * (column - width(name))}{acc:.4f}"
                                           for name, acc in zip(confusion.classes, confusion.per_class())), sep="\n")
    font, labels = label_font(confusion.classes)
    if labels != confusion.classes:  # no font can draw these names: number them, and say which is which
        writer.add_text("class_legend", "\n".join(f"{i}. {name}" for i, name in enumerate(confusion.classes)), step)
    writer.add_image("confusion_matrix", confusion_image(confusion.counts, labels, font), step)
    imgs, targets = zip(*(test_data[i] for i in range(min(16, len(test_data)))))  # the first test images
    with torch.no_grad():  # tudui is in eval mode: this comes after the test step
        predicted = tudui(torch.stack(imgs).to(next(tudui.parameters()).device)).argmax(1).tolist()
    writer.add_image("test_predictions", predictions_image(imgs, targets, predicted, labels, font), step)


def label_font(classes, candidates=None):
    """(font, labels): PIL's own font for Latin names; else a CJK font, or without one the class numbers."""
    if all(ord(c) < 0x250 for name in classes for c in name):
        return ImageFont.load_default(), list(classes)
    for path in filter(lambda p: Path(p).is_file(), CJK_FONTS if candidates is None else candidates):
        with contextlib.suppress(OSError):  # a font file Pillow cannot read: try the next one
            return ImageFont.truetype(str(path), 12), list(classes)
    return ImageFont.load_default(), [f"class {i}" for i in range(len(classes))]


def drawn(message, labels):
    """The message in the learner's language where the labels' font draws it (a CJK font), else in English."""
    return _(message) if any(ord(c) >= 0x250 for label in labels for c in label) else message


def confusion_image(counts, labels, font, cell=34, top=36):
    """Rows: true class, columns: predicted; each cell shaded by its fraction of the row, with its count."""
    n, labels = len(labels), [s if s.startswith("class ") else f"{i} {s}"[:24] for i, s in enumerate(labels)]
    left = 12 + max(font.getbbox(s)[2] for s in labels)
    draw = ImageDraw.Draw(img := Image.new("RGB", (left + n * cell + 8, top + n * cell + 8), "white"))
    draw.text((4, 4), drawn(N_("rows: true class, columns: predicted class"), labels), fill="black", font=font)
    for i, row in enumerate((counts / counts.sum(1, keepdim=True).clamp_min(1)).tolist()):
        draw.text((left + i * cell + 4, top - 14), str(i), fill="black", font=font)
        draw.text((4, top + i * cell + cell // 2 - 6), labels[i], fill="black", font=font)
        for j, f in enumerate(row):
            x, y = left + j * cell, top + i * cell  # white -> blue
            draw.rectangle([x, y, x + cell - 1, y + cell - 1], (int(255 - 255 * f), int(255 - 153 * f), 255), "#ccc")
            draw.text((x + 3, y + cell // 2 - 6), str(int(counts[i, j])), "white" if f > 0.5 else "black", font)
    return pil_to_tensor(img)  # (3, H, W) uint8


def predictions_image(imgs, targets, predicted, labels, font, size=96, cols=4, tile=(130, 126)):
    """A grid of images, each with 'true: ...' and 'pred: ...' below, green when right, red when wrong."""
    draw = ImageDraw.Draw(sheet := Image.new("RGB", (cols * tile[0], -(-len(imgs) // cols) * tile[1]), "white"))
    for k, (img, t, p) in enumerate(zip(imgs, targets, predicted)):
        x, y = (k % cols) * tile[0], (k // cols) * tile[1]
        pic = Image.fromarray((img.clamp(0, 1) * 255).byte().permute(1, 2, 0).numpy())  # (3, 32, 32) -> (32, 32, 3)
        sheet.paste(pic.resize((size, size), Image.NEAREST), (x + (tile[0] - size) // 2, y))
        true, pred = drawn(N_("true: {label}"), labels), drawn(N_("pred: {label}"), labels)
        draw.text((x + 4, y + size + 2), true.format(label=labels[t])[:26], fill="black", font=font)
        draw.text((x + 4, y + size + 15), pred.format(label=labels[p])[:26], "green" if t == p else "red", font)
    return pil_to_tensor(sheet)
