"""P32: predicting learners' own images with a saved Tudui, whatever the image or checkpoint."""
import os
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
import torch
import torchvision
from PIL import Image

from kit import checkpoint, common, images
import p32_test
from conftest import CHILD_ENV, REPO, tb_tags
from kit.data import CIFAR10_CLASSES, SyntheticCIFAR10
from model import Tudui

RED, BLUE = (255, 0, 0), (0, 0, 255)
TRANSFORM = torchvision.transforms.Compose([torchvision.transforms.Resize((32, 32)),  # the course's, as in P32
                                            torchvision.transforms.ToTensor()])


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    """Our checkpoint of an untrained Tudui with CIFAR-10's class names."""
    torch.manual_seed(0)
    return checkpoint.save(tmp_path_factory.mktemp("ckpt") / "best.pth", Tudui(), classes=CIFAR10_CLASSES)


def predict(tmp_path, capsys, *args):
    """Run p32 in-process -> (stdout, {file name: predicted class}, the run's log folder)."""
    code = p32_test.main([*map(str, args), "--logdir", str(tmp_path / "logs")])
    assert code == 0
    out = capsys.readouterr().out
    rows = {}
    for line in out.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) == 3 and re.fullmatch(r"(.+? \d+\.\d%(, )?){1,3}", cells[2]):  # a row of the table
            rows[Path(cells[0]).name] = cells[1]
    runs = sorted((tmp_path / "logs" / "p32_test").iterdir())
    return out, rows, runs[-1]


def rgb_at(path, x, y):
    """The pixel the model sees at (x, y) of the 32x32 input, as 0..255 integers."""
    tensor = TRANSFORM(images.open_image(path))  # (3, 32, 32)
    return tuple(round(v * 255) for v in tensor[:, y, x].tolist())


def close(a, b, tol=12):
    return all(abs(u - v) <= tol for u, v in zip(a, b))


def half_and_half(size, left, right, mode="RGB"):
    """An image whose left half is `left` and right half is `right`."""
    image = Image.new(mode, size, left)
    image.paste(right, (size[0] // 2, 0, size[0], size[1]))
    return image


# ---------------------------------------------------------------- images learners have

def make_image_zoo(folder):
    """One file per kind of image learners feed the course's test.py; returns {name: expected (x, y, rgb)}."""
    folder.mkdir(exist_ok=True)
    expect = {}
    rgba = Image.new("RGBA", (40, 40), (0, 0, 0, 0))  # transparent black...
    rgba.paste((255, 0, 0, 255), (0, 0, 40, 20))      # ...with an opaque red top half
    rgba.save(folder / "rgba.png")
    expect["rgba.png"] = [(16, 4, RED), (16, 28, (255, 255, 255))]  # transparent -> white, not black
    palette = Image.new("P", (32, 32), 1)
    palette.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    palette.paste(0, (0, 16, 32, 32))
    palette.save(folder / "palette.png", transparency=0)  # index 0 (black) is transparent
    expect["palette.png"] = [(16, 4, BLUE), (16, 28, (255, 255, 255))]
    Image.new("L", (32, 32), 100).save(folder / "gray.png")
    expect["gray.png"] = [(16, 16, (100, 100, 100))]
    Image.new("LA", (32, 32), (200, 255)).save(folder / "gray_alpha.png")
    expect["gray_alpha.png"] = [(16, 16, (200, 200, 200))]
    Image.new("1", (32, 32), 1).save(folder / "bitmap.bmp")
    expect["bitmap.bmp"] = [(16, 16, (255, 255, 255))]
    Image.new("CMYK", (48, 48), (0, 255, 255, 0)).save(folder / "cmyk.jpg", quality=95)
    expect["cmyk.jpg"] = [(16, 16, RED)]
    row = struct.pack("<32H", *[10_000] * 16, *[60_000] * 16)  # 0..65535 -> 0..255: 39 and 233
    sixteen = Image.frombytes("I;16", (32, 32), row * 32)
    sixteen.save(folder / "sixteen_bit.png")
    expect["sixteen_bit.png"] = [(4, 16, (39, 39, 39)), (28, 16, (233, 233, 233))]  # not clipped to white
    frames = [Image.new("RGB", (32, 32), c) for c in (RED, BLUE, RED)]
    frames[0].save(folder / "animated.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    expect["animated.gif"] = [(16, 16, RED)]  # the first frame
    # a phone photo stored sideways: left half red, right half blue, EXIF Orientation 6 ("rotate 90° clockwise
    # to show it"), so upright it is red on top, blue below
    exif = Image.Exif()
    exif[0x0112] = 6
    half_and_half((64, 32), RED, BLUE).save(folder / "phone.jpg", exif=exif, quality=95)
    expect["phone.jpg"] = [(16, 4, RED), (16, 28, BLUE)]
    Image.new("RGB", (1, 1), (0, 200, 0)).save(folder / "tiny.png")
    expect["tiny.png"] = [(16, 16, (0, 200, 0))]
    half_and_half((3000, 2000), RED, BLUE).save(folder / "huge.jpg", quality=90)  # 6 megapixels
    expect["huge.jpg"] = [(4, 16, RED), (28, 16, BLUE)]
    Image.new("RGB", (32, 32), BLUE).save(folder / "photo.WEBP")  # upper-case extension
    expect["photo.WEBP"] = [(16, 16, BLUE)]
    return expect


def test_every_image_mode_is_converted_as_a_viewer_shows_it(tmp_path):
    expect = make_image_zoo(tmp_path / "zoo")
    modes = {name: Image.open(tmp_path / "zoo" / name).mode for name in expect}
    assert modes["sixteen_bit.png"] == "I;16" and modes["cmyk.jpg"] == "CMYK" and modes["palette.png"] == "P"
    for name, points in expect.items():
        for x, y, rgb in points:
            got = rgb_at(tmp_path / "zoo" / name, x, y)
            assert close(got, rgb), f"{name} at ({x}, {y}): {got}, expected {rgb}"


def test_folder_of_every_kind_is_predicted_and_logged(tmp_path, capsys, ckpt):
    expect = make_image_zoo(tmp_path / "zoo")
    (tmp_path / "zoo" / "notes.txt").write_text("not an image, and not named like one: skipped")
    out, rows, run = predict(tmp_path, capsys, tmp_path / "zoo", "--checkpoint", ckpt, "--batch-size", "5")
    assert set(rows) == set(expect) and set(rows.values()) <= set(CIFAR10_CLASSES)
    assert "refused" not in out and "notes.txt" not in out and "warning" not in out  # CIFAR-10's classes
    assert "animated.gif: 3 frames (animated); using the first" in out
    assert f"{len(expect)} image(s) predicted" in out
    # the course's steps, on the first file
    assert "torch.Size([3, 32, 32])" in out and "torch.Size([1, 3, 32, 32])" in out and "output.argmax(1)" in out
    tags = tb_tags(run)
    images = [t for t in tags["images"] if t.startswith("input/")]
    assert len(images) == len(expect)
    assert any(t.startswith("input/") and "tiny.png: " + rows["tiny.png"] in t for t in images)
    assert "predictions/text_summary" in tags["tensors"]


# ---------------------------------------------------------------- bad images

def png_header_only(path, width, height):
    """A 100-byte PNG claiming width x height pixels: a decompression bomb's header, cheap to make."""
    chunk = lambda kind, data: (struct.pack(">I", len(data)) + kind + data  # noqa: E731
                                + struct.pack(">I", zlib.crc32(kind + data)))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def truncated_jpeg(path):
    image = Image.effect_noise((256, 256), 60).convert("RGB")
    image.save(path, quality=90)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


BAD_IMAGES = {
    "missing.jpg": (lambda p: p, "missing.jpg: no such file or folder"),
    "empty": (lambda p: p.mkdir() or p, "empty: no images in this folder"),
    "only_text": (lambda p: p.mkdir() or (p / "README.md").write_text("hi") and p, "only_text: no images in"),
    "text.png": (lambda p: p.write_text("this is not a PNG") and p, "text.png: not an image Pillow can read"),
    "truncated.jpg": (truncated_jpeg, "truncated.jpg: truncated or corrupt (image file is truncated"),
    "photo.heic": (lambda p: p.write_bytes(b"\0\0\0\x18ftypheic" + bytes(100)) and p, "need the pillow-heif plugin"),
    "drawing.svg": (lambda p: p.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>") and p, "SVG is a vector"),
    "bomb.png": (lambda p: png_header_only(p, 20_000, 20_000), "400,000,000 pixels is over Pillow's limit of 89,"),
}


@pytest.mark.parametrize("name", BAD_IMAGES)
def test_a_bad_image_alone_is_one_clear_error(tmp_path, ckpt, capsys, name):
    make, message = BAD_IMAGES[name]
    path = make(tmp_path / name)
    with pytest.raises(common.LessonError) as e:
        p32_test.main([str(path), "--checkpoint", str(ckpt), "--logdir", str(tmp_path / "logs")])
    assert message in str(e.value) and "\n" not in str(e.value)
    assert "refused" not in capsys.readouterr().out  # the one error line, not the same thing twice


def test_pillows_bomb_warning_zone_is_refused_too(tmp_path, ckpt, monkeypatch):
    """Between MAX_IMAGE_PIXELS and twice that Pillow only warns; the lesson refuses it as well."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    Image.new("RGB", (40, 40)).save(tmp_path / "big.png")  # 1,600 pixels: over 1,000, under 2,000
    with pytest.raises(common.LessonError, match=r"big.png: 1,600 pixels is over Pillow's limit of 1,000"):
        p32_test.main([str(tmp_path / "big.png"), "--checkpoint", str(ckpt), "--logdir", str(tmp_path / "logs")])


def test_bad_files_among_good_ones_do_not_stop_the_others(tmp_path, capsys, ckpt):
    folder = tmp_path / "mixed"
    folder.mkdir()
    Image.new("RGB", (32, 32), RED).save(folder / "a_good.png")
    (folder / "b_text.png").write_text("not a png")
    truncated_jpeg(folder / "c_truncated.jpg")
    png_header_only(folder / "d_bomb.png", 20_000, 20_000)
    Image.new("L", (50, 20), 30).save(folder / "e_good.jpg")
    out, rows, run = predict(tmp_path, capsys, folder, tmp_path / "nowhere", folder / "a_good.png",
                             "--checkpoint", ckpt)
    assert set(rows) == {"a_good.png", "e_good.jpg"}  # a_good.png named twice: predicted once
    refused = [line for line in out.splitlines() if line.startswith("refused ")]
    assert len(refused) == 4
    for fragment in ("nowhere: no such file", "b_text.png: not an image", "c_truncated.jpg: truncated",
                     "d_bomb.png: 400,000,000 pixels"):
        assert any(fragment in line for line in refused), fragment
    assert "2 image(s) predicted" in out and "4 input(s) refused" in out
    assert len([t for t in tb_tags(run)["images"] if t.startswith("input/")]) == 2


def test_nothing_predictable_exits_with_one_line(tmp_path, capsys, ckpt):
    (tmp_path / "x.png").write_text("no")
    (tmp_path / "y.jpg").write_bytes(b"\xff\xd8\xff")
    with pytest.raises(common.LessonError, match="nothing could be predicted: all 2 inputs were refused"):
        p32_test.main([str(tmp_path / "x.png"), str(tmp_path / "y.jpg"), "--checkpoint", str(ckpt),
                       "--logdir", str(tmp_path / "logs")])
    assert capsys.readouterr().out.count("refused ") == 2


def test_command_line_error_is_one_line_and_non_zero(tmp_path, ckpt, monkeypatch):
    """What `python lessons/p32_test.py no_such.jpg` does from another folder, without a second Python start."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        common.run(lambda: p32_test.main(["no_such.jpg", "--checkpoint", str(ckpt), "--logdir", "logs"]))
    assert e.value.code == "error: no_such.jpg: no such file or folder"  # printed on stderr, exit status 1


# ---------------------------------------------------------------- checkpoints

def test_class_names_come_from_the_checkpoint(tmp_path, capsys):
    names = ["apple", "banana", "cherry", "durian", "elderberry"]
    ckpt = checkpoint.save(tmp_path / "fruit.pth", Tudui(len(names)), classes=names)
    Image.new("RGB", (32, 32), RED).save(tmp_path / "red.png")
    out, rows, _ = predict(tmp_path, capsys, tmp_path / "red.png", "--checkpoint", ckpt)
    assert "5 classes: apple, banana, cherry, durian, elderberry" in out
    assert rows["red.png"] in names
    top3 = [line for line in out.splitlines() if line.startswith(str(tmp_path / "red.png"))][0]
    assert len(re.findall(r"(apple|banana|cherry|durian|elderberry) \d+\.\d%", top3)) == 3


def test_a_bare_state_dict_gets_cifar10_names(tmp_path, capsys):
    torch.save(Tudui().state_dict(), tmp_path / "tudui_method2.pth")  # the course's method 2
    Image.new("RGB", (32, 32), RED).save(tmp_path / "red.png")
    out, rows, _ = predict(tmp_path, capsys, tmp_path / "red.png", "--checkpoint", tmp_path / "tudui_method2.pth")
    assert "10 classes: airplane, automobile," in out and rows["red.png"] in CIFAR10_CLASSES


GPU_SAVE = """
import sys
import torch
from torch import nn

class Tudui(nn.Module):  # the course's model.py, defined in the training script itself
    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(
            nn.Conv2d(3, 32, 5, 1, 2), nn.MaxPool2d(2), nn.Conv2d(32, 32, 5, 1, 2), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, 1, 2), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 4 * 4, 64), nn.Linear(64, 10))

    def forward(self, x):
        return self.model(x)

# no GPU here: tag every storage as CUDA, as torch.save(tudui) after tudui.cuda() on a GPU machine does
torch.serialization.register_package(0, lambda s: "cuda:0" if s.device.type == "cpu" else None, lambda s, loc: None)
torch.save(Tudui(), sys.argv[1] + "/tudui_29_gpu.pth")   # pickled as __main__.Tudui
from model import Tudui as Imported                      # `from model import *` in the course's train.py
torch.save(Imported(), sys.argv[1] + "/tudui_imported_gpu.pth")

class Net(nn.Module):  # another architecture, pickled whole
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

torch.save(Net(), sys.argv[1] + "/net.pth")
"""


@pytest.fixture(scope="module")
def course_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("course")
    subprocess.run([sys.executable, "-c", GPU_SAVE, str(folder)], check=True, timeout=120, env=CHILD_ENV)
    return folder


@pytest.mark.parametrize("name", ["tudui_29_gpu.pth", "tudui_imported_gpu.pth"])
def test_course_whole_model_saved_on_a_gpu_loads_on_a_cpu(tmp_path, capsys, course_files, name):
    import zipfile
    with zipfile.ZipFile(course_files / name) as z:  # the file really asks for CUDA storages
        pickled = z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))
    assert b"cuda:0" in pickled and b"Tudui" in pickled
    Image.new("RGB", (32, 32), RED).save(tmp_path / "red.png")
    out, rows, _ = predict(tmp_path, capsys, tmp_path / "red.png", "--checkpoint", course_files / name,
                           "--device", "cpu")
    assert "10 classes: airplane, automobile," in out and rows["red.png"] in CIFAR10_CLASSES


class Evil:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def bad_checkpoints(folder, course_files):
    """{name: (path, expected message)} for each wrong checkpoint a learner may pass."""
    other = {"0.weight": torch.zeros(4, 3), "0.bias": torch.zeros(4)}  # a bare state_dict of another model
    torch.save(other, folder / "other_arch.pth")
    wider = Tudui().state_dict()
    wider["model.7.weight"] = torch.zeros(128, 1024)  # Linear(1024, 128): another hidden size
    torch.save(wider, folder / "wider.pth")
    checkpoint.save(folder / "five_outputs.pth", Tudui(5), classes=CIFAR10_CLASSES)  # 10 names, 5 outputs
    torch.save({"rm -rf": Evil()}, folder / "evil.pth")
    (folder / "text.pth").write_text("not a checkpoint")
    diverged = Tudui().state_dict()
    diverged["model.8.bias"][2] = float("nan")
    checkpoint.atomic_save({"model": diverged, "classes": CIFAR10_CLASSES}, folder / "diverged.pth")
    hooked = Tudui()
    hooked._state_dict_hooks[0] = torch.nn.Conv2d(1, 1, 1)  # allow-listed, so weights_only reads it
    torch.save(hooked, folder / "hooked.pth")
    broken = Tudui()
    broken.model.__dict__["_modules"] = torch.ones(3)  # breaks state_dict() with an AttributeError
    torch.save(broken, folder / "broken.pth")
    return {
        "other_arch": (folder / "other_arch.pth", "does not hold a Tudui: missing model.0.weight"),
        "wider": (folder / "wider.pth", "different shapes: model.7.weight (128, 1024) (Tudui has (64, 1024))"),
        "five_outputs": (folder / "five_outputs.pth", "10 class names for 5 outputs"),
        "whole_net": (course_files / "net.pth", "it asks for '__main__.Net'"),
        "evil": (folder / "evil.pth", "nothing from the file was run"),
        "text": (folder / "text.pth", "is not a readable PyTorch checkpoint"),
        "missing": (folder / "missing.pth", "does not exist"),
        "diverged": (folder / "diverged.pth", "holds NaN/inf weights (e.g. model.8.bias): the training that wrote it "
                                              "diverged; retrain with a lower --lr"),
        "hooked": (folder / "hooked.pth", "it carries hooks (_state_dict_hooks), which no saved model needs"),
        "broken": (folder / "broken.pth", "holds something that breaks while the model is rebuilt (AttributeError"),
    }


def test_wrong_checkpoints_are_one_clear_line_each(tmp_path, course_files, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where evil.pth would create its file
    Image.new("RGB", (32, 32), RED).save(tmp_path / "red.png")
    for name, (path, message) in bad_checkpoints(tmp_path, course_files).items():
        with pytest.raises(common.LessonError) as e:
            p32_test.main([str(tmp_path / "red.png"), "--checkpoint", str(path), "--logdir", str(tmp_path / "logs")])
        assert message in str(e.value) and str(path) in str(e.value) and "\n" not in str(e.value), name
    assert not (tmp_path / "pwned").exists()


def test_default_is_newest_best_pth_and_the_shipped_samples(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(common, "CHECKPOINT_DIR", tmp_path / "checkpoints")
    with pytest.raises(common.LessonError, match=r"python lessons/p27_train.py --quick"):
        p32_test.main(["--logdir", str(tmp_path / "logs")])
    old = checkpoint.save(tmp_path / "checkpoints" / "p27_train" / "best.pth", Tudui(), classes=CIFAR10_CLASSES)
    new = checkpoint.save(tmp_path / "checkpoints" / "p31_train_gpu_2" / "best.pth", Tudui(),
                          classes=[f"thing{i}" for i in range(10)])
    os.utime(old, (1e9, 1e9))  # older than `new`
    out, rows, run = predict(tmp_path, capsys)
    assert f"checkpoint: {new}" in out
    shipped = {"cat-chelsea.png", *(f"{c}.jpg" for c in CIFAR10_CLASSES)}
    assert shipped <= {p.name for p in (REPO / "data" / "samples").iterdir()}
    assert set(rows) == shipped and all(v.startswith("thing") for v in rows.values())
    assert "README.md" not in out


# ---------------------------------------------------------------- end to end with P27

def test_model_trained_by_p27_beats_chance_on_its_own_test_images(tmp_path, capsys):
    import p27_train

    p27_train.main(["--quick", "--dataset", "synthetic", "--logdir", str(tmp_path / "logs"),
                    "--checkpoint-dir", str(tmp_path / "ckpt")])
    capsys.readouterr()
    test_set = SyntheticCIFAR10(200, seed=1)  # the test split's seed: images the model did not train on
    folder = tmp_path / "synthetic"
    folder.mkdir()
    for i in range(len(test_set)):
        pixels = test_set.data[i].permute(1, 2, 0).numpy()  # (3, 32, 32) -> (32, 32, 3) uint8
        Image.fromarray(pixels).save(folder / f"{i:03d}_{test_set.targets[i]}.png")
    out, rows, run = predict(tmp_path, capsys, folder, "--checkpoint", tmp_path / "ckpt" / "best.pth")
    assert f"10 classes: {', '.join(SyntheticCIFAR10.classes)}" in out
    warning = [line for line in out.splitlines() if "synthetic shapes" in line]
    assert len(warning) == 1 and warning[0].startswith("warning: ") and "cannot classify photos" in warning[0]
    assert "put CIFAR-10 in data/ and run `python lessons/p27_train.py`" in warning[0]
    assert "--dataset folder --data-root DIR" in warning[0]
    assert run.name.endswith("-synthetic")  # and its TensorBoard run says so
    assert len(rows) == 200
    correct = sum(rows[f] == SyntheticCIFAR10.classes[int(f[4:-4])] for f in rows)
    assert correct / len(rows) > 0.2, f"{correct}/200 right; chance is 10%"


# ---------------------------------------------------------------- the course's test.py, and the printed table

COURSE_LINES = ["image_path = ", "image = Image.open(image_path)", "print(image)", "image = images.to_rgb(image)",
                "transform = torchvision.transforms.Compose([torchvision.transforms.Resize((32, 32)),",
                "torchvision.transforms.ToTensor()])", "image = transform(image)", "print(image.shape)",
                "checkpoint.load_tudui(", "print(model)", "image = torch.reshape(image, (1, 3, 32, 32))",
                "model.eval()", "with torch.no_grad():", "output = model(image", "print(output)",
                "print(output.argmax(1))"]


def test_the_course_lines_in_order():
    text = (REPO / "lessons" / "p32_test.py").read_text(encoding="utf-8")
    code = text[text.index('"""', 10):]  # after the docstring
    positions = [code.find(line) for line in COURSE_LINES]
    assert -1 not in positions and positions == sorted(positions), dict(zip(COURSE_LINES, positions))
    assert len(text.splitlines()) <= 200 and len(p32_test.__doc__.strip().splitlines()) <= 15


def test_the_course_steps_are_printed_on_the_first_image(tmp_path, capsys, ckpt):
    Image.new("RGBA", (40, 20), (255, 0, 0, 128)).save(tmp_path / "a.png")
    Image.new("RGB", (32, 32), BLUE).save(tmp_path / "b.png")
    out, rows, _ = predict(tmp_path, capsys, tmp_path / "a.png", tmp_path / "b.png", "--checkpoint", ckpt)
    steps = out[:out.index("\nfile ")].splitlines()
    steps = steps[steps.index(f"the course's test.py, step by step, on {tmp_path / 'a.png'}:") + 1:]
    assert re.fullmatch(r"<PIL\.PngImagePlugin\.PngImageFile image mode=RGBA size=40x20 at 0x[0-9A-Fa-f]+>", steps[0])
    assert steps[1] == "torch.Size([3, 32, 32])" and steps.count("torch.Size([1, 3, 32, 32])") == 1
    assert re.fullmatch(r"tensor\(\[\[(\s*-?\d+\.\d+(e[-+]\d+)?,?){10}\]\]\)", " ".join(
        steps[steps.index("torch.Size([1, 3, 32, 32])") + 1:-2]))  # print(output): 10 numbers
    index = re.fullmatch(r"tensor\(\[(\d)\]\)", steps[-2]).group(1)  # print(output.argmax(1))
    assert steps[-1] == f"output.argmax(1) is class {index}: {CIFAR10_CLASSES[int(index)]}"
    assert rows["a.png"] == CIFAR10_CLASSES[int(index)]  # the same answer as in the table


def test_the_table_aligns_wide_characters(tmp_path, capsys):
    names = ["飞机", "汽车", "鸟", "猫", "鹿", "狗", "青蛙", "马", "船", "卡车"]  # CIFAR-10 in Chinese
    ckpt = checkpoint.save(tmp_path / "zh.pth", Tudui(), classes=names)
    folder = tmp_path / "照片"
    folder.mkdir()
    for i, name in enumerate(["小猫咪.png", "a.png", "dog_狗.jpg"]):
        Image.new("RGB", (32, 32), (40 * i, 100, 200)).save(folder / name)
    out, rows, _ = predict(tmp_path, capsys, folder, "--checkpoint", ckpt)
    assert set(rows) == {"小猫咪.png", "a.png", "dog_狗.jpg"} and set(rows.values()) <= set(names)
    table = out[out.index("\nfile ") + 1:].splitlines()[:4]
    columns = lambda line, text: common.width(line[:line.index(text)])  # noqa: E731  on screen, not in characters
    assert len({columns(line, label) for line, label in zip(table, ["prediction", *rows.values()])}) == 1, table
    assert len({columns(line, top3) for line, top3 in zip(table, ["top-3", *[
        line.split("  ")[-1] for line in table[1:]]])}) == 1, table
    assert common.width("小猫咪.png") == 10 and common.width("e\u0301") == 1  # an accent takes no column
