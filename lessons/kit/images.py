"""One picture as an image viewer shows it, or one line saying why not and what to do.

    img = images.open_image(path)   # the course's Image.open(path).convert('RGB'), right for every image
    images.check(path)              # the header only: a missing file, not an image, a decompression bomb ...
"""
import contextlib
import os
import re
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from kit.errors import LessonError, first_line, shown
from kit.i18n import _


def open_image(path):
    with opened(path) as image:
        return to_rgb(image)  # the pixels are decoded here: a truncated file fails here


def check(path):
    with opened(path):  # Image.open reads the header only
        pass


def to_rgb(image):
    """Any Pillow image -> upright 8-bit RGB: EXIF rotation, 16-bit and float scaled (not clipped), alpha on white."""
    image = ImageOps.exif_transpose(image)  # phone photos: turned upright as their EXIF tag says
    if image.mode.startswith("I") or image.mode == "F":  # .convert('RGB') clips >255 to white
        high = image.getextrema()[1]  # float images usually hold 0..1
        scale = (255 / 65535 if image.mode.startswith("I;16") or high > 255
                 else 255 if image.mode == "F" and high <= 1 else 1)
        image = image.convert("F").point(lambda v: v * scale).convert("L")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:  # a viewer: on white
        image = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image.convert("RGBA"))
    return image.convert("RGB")  # the course's .convert('RGB'): grayscale, palette, CMYK ... -> 3 channels


@contextlib.contextmanager
def opened(path):
    """Image.open(path); missing, unreadable, no image, too many pixels or broken: a LessonError of one line."""
    try:
        with warnings.catch_warnings():  # over Pillow's pixel limit it warns, over twice it refuses: refuse both
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                yield image
    except Exception as e:  # noqa: BLE001  a broken file can fail in many ways inside a decoder
        pixels = re.search(r"(\d+) pixels", str(e))
        why = (_("{path} is a folder, not an image file") if os.path.isdir(path) else  # os.path: never raises
               _("no image file {path}") if not os.path.exists(path) else
               _("{path}: {n:,} pixels is over Pillow's limit of {limit:,} (a guard against decompression bombs); "
                 "shrink it first") if isinstance(e, (Image.DecompressionBombError, Image.DecompressionBombWarning))
               else _("{path}: not an image Pillow can read (an unknown format, or no image at all); save it as JPEG "
                      "or PNG, or remove it") if isinstance(e, UnidentifiedImageError)
               else _("{path}: permission denied; copy it somewhere your user may read, or change its permissions")
               if isinstance(e, PermissionError) else _("{path}: truncated or corrupt ({why}); replace it"))
        raise LessonError(why.format(path=shown(path), n=int(pixels[1]) if pixels else 0,
                                     limit=Image.MAX_IMAGE_PIXELS, why=first_line(e, 100))) from None
