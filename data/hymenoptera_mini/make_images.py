"""Draw this folder's ants and bees (run it again to rebuild them; the same seed gives the same pictures).

    python data/hymenoptera_mini/make_images.py

Writes train/ants/ and train/bees/ (the label is the folder's name, as in hymenoptera_data), and the
same pictures again as train/ants_image/ + train/ants_label/<name>.txt (one label file per image, as
in the course's 练手数据集). Every picture is drawn here with Pillow: no photo of anyone's is used.
"""
import math
import random
import shutil
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).resolve().parent
PER_CLASS = 12
SCALE = 2  # drawn at twice the size, then shrunk: smooth edges


def gradient(size, top, bottom):
    w, h = size
    img = Image.new("RGB", size)
    draw = ImageDraw.Draw(img)
    for y in range(h):
        t = y / (h - 1)
        draw.line([(0, y), (w, y)], fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom)))
    return img


def jitter(rng, colour, amount=20):
    return tuple(max(0, min(255, c + rng.randint(-amount, amount))) for c in colour)


def blobs(rng, img, colours, n, radius):
    """Soft out-of-focus spots: pebbles, leaves, flowers far away."""
    layer = img.copy()
    draw = ImageDraw.Draw(layer)
    w, h = img.size
    for _ in range(n):
        x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(*radius)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=jitter(rng, rng.choice(colours)))
    return Image.blend(img, layer.filter(ImageFilter.GaussianBlur(6)), 0.6)


def ant(rng):
    """An ant seen from above, facing right, on a transparent 200x120 (x SCALE) canvas."""
    s = SCALE
    img = Image.new("RGBA", (200 * s, 120 * s))
    d = ImageDraw.Draw(img)
    body = jitter(rng, rng.choice([(25, 20, 18), (70, 30, 15), (110, 40, 20)]), 12)
    leg = tuple(max(0, c - 10) for c in body) + (255,)
    for x0, dx in ((95, -28), (105, 0), (115, 26)):  # three pairs of legs from the thorax, bent at the knee
        for side in (-1, 1):
            knee = (x0 + dx * 0.6, 60 + side * 28)
            foot = (x0 + dx, 60 + side * (48 + rng.uniform(-4, 4)))
            d.line([(x0 * s, 60 * s), (knee[0] * s, knee[1] * s), (foot[0] * s, foot[1] * s)], fill=leg, width=3 * s)
    for side in (-1, 1):  # elbowed antennae
        d.line([(150 * s, (60 + side * 4) * s), (165 * s, (60 + side * 16) * s), (185 * s, (60 + side * 12) * s)],
               fill=leg, width=2 * s)
    d.ellipse([20 * s, 42 * s, 80 * s, 78 * s], fill=body)     # gaster (abdomen)
    d.ellipse([82 * s, 50 * s, 128 * s, 70 * s], fill=body)    # thorax
    d.ellipse([130 * s, 46 * s, 158 * s, 74 * s], fill=body)   # head
    d.ellipse([40 * s, 48 * s, 58 * s, 56 * s], fill=tuple(min(255, c + 60) for c in body))  # a highlight
    return img


def bee(rng):
    """A bee seen from above, facing right, on a transparent 200x140 (x SCALE) canvas."""
    s = SCALE
    img = Image.new("RGBA", (200 * s, 140 * s))
    d = ImageDraw.Draw(img)
    for side in (-1, 1):  # short legs
        for x in (95, 110, 125):
            d.line([(x * s, 70 * s), ((x - 6) * s, (70 + side * 34) * s)], fill=(30, 25, 20, 255), width=3 * s)
    yellow = jitter(rng, (235, 180, 40), 15)
    abdomen = Image.new("RGBA", img.size)  # yellow body with black stripes, cut to the body's oval
    a = ImageDraw.Draw(abdomen)
    a.ellipse([20 * s, 42 * s, 105 * s, 98 * s], fill=yellow + (255,))
    for x in (38, 58, 78):
        a.rectangle([x * s, 0, (x + 10) * s, 140 * s], fill=(25, 20, 15, 255))
    mask = Image.new("L", img.size)
    ImageDraw.Draw(mask).ellipse([20 * s, 42 * s, 105 * s, 98 * s], fill=255)
    img.paste(abdomen, (0, 0), mask)
    d.ellipse([95 * s, 48 * s, 135 * s, 92 * s], fill=(60, 45, 30, 255))   # furry thorax
    d.ellipse([132 * s, 55 * s, 160 * s, 85 * s], fill=(25, 20, 15, 255))  # head
    for side in (-1, 1):
        d.line([(155 * s, (70 + side * 6) * s), (178 * s, (70 + side * 20) * s)], fill=(25, 20, 15, 255), width=2 * s)
    wings = Image.new("RGBA", img.size)
    w = ImageDraw.Draw(wings)
    for side in (-1, 1):  # two pale, half-transparent wings over the back
        y0, y1 = (8, 66) if side < 0 else (74, 132)
        w.ellipse([60 * s, y0 * s, 118 * s, y1 * s], fill=(220, 235, 250, 150), outline=(150, 160, 180, 200),
                  width=s)
    return Image.alpha_composite(img, wings)


def flower(rng, img, centre, r):
    d = ImageDraw.Draw(img)
    petal = jitter(rng, rng.choice([(240, 150, 190), (250, 250, 245), (180, 140, 230)]), 15)
    for k in range(8):
        angle = 2 * math.pi * k / 8
        x, y = centre[0] + r * math.cos(angle), centre[1] + r * math.sin(angle)
        d.ellipse([x - r * 0.6, y - r * 0.6, x + r * 0.6, y + r * 0.6], fill=petal)
    d.ellipse([centre[0] - r * 0.5, centre[1] - r * 0.5, centre[0] + r * 0.5, centre[1] + r * 0.5],
              fill=(230, 190, 40))


def picture(rng, kind, size):
    w, h = size[0] * SCALE, size[1] * SCALE
    if kind == "ants":  # soil, sand or a leaf
        top, bottom = rng.choice([((150, 120, 85), (110, 85, 60)), ((205, 185, 140), (170, 150, 110)),
                                  ((90, 140, 60), (60, 105, 45))])
        img = blobs(rng, gradient((w, h), jitter(rng, top), jitter(rng, bottom)), [top, bottom, (90, 80, 70)],
                    40, (4 * SCALE, 14 * SCALE))
        insect = ant(rng)
    else:  # green leaves with a flower
        img = blobs(rng, gradient((w, h), jitter(rng, (120, 170, 90)), jitter(rng, (50, 100, 40))),
                    [(70, 130, 50), (150, 190, 90), (230, 220, 120)], 30, (8 * SCALE, 24 * SCALE))
        flower(rng, img, (rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h), min(w, h) * 0.18)
        insect = bee(rng)
    length = rng.uniform(0.55, 0.85) * min(w, h)  # the insect's length in the picture
    insect = insect.resize((round(length), round(length * insect.height / insect.width)), Image.LANCZOS)
    insect = insect.rotate(rng.uniform(0, 360), resample=Image.BICUBIC, expand=True)
    x = rng.randint(0, max(0, w - insect.width))
    y = rng.randint(0, max(0, h - insect.height))
    img.paste(insect, (x, y), insect)
    return img.resize(size, Image.LANCZOS).filter(ImageFilter.GaussianBlur(0.4))


def main():
    rng = random.Random(2021)
    train = HERE / "train"
    for kind in ("ants", "bees"):
        for folder in (f"{kind}", f"{kind}_image", f"{kind}_label"):
            shutil.rmtree(train / folder, ignore_errors=True)
            (train / folder).mkdir(parents=True)
        for i in range(PER_CLASS):
            size = (192, 256) if i % 4 == 3 else (256, 192)  # a few portrait pictures, as among photos
            name = f"{kind[:-1]}_{i:02d}"
            path = train / kind / f"{name}.jpg"
            picture(rng, kind, size).save(path, quality=80, optimize=True)
            shutil.copyfile(path, train / f"{kind}_image" / f"{name}.jpg")
            (train / f"{kind}_label" / f"{name}.txt").write_text(kind, encoding="utf-8")
    print(f"{2 * PER_CLASS} pictures in each layout under {train}")


if __name__ == "__main__":
    main()
