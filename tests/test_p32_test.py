"""P32: predicting learners' own images with a saved Tudui, whatever the image or checkpoint."""
import os
import re
import struct
import subprocess
import sys
import zipfile

import pytest
import torch
from PIL import Image

from conftest import CHILD_ENV, REPO, events, one_line_error
from kit import checkpoint, console, flags, photos, synthetic
from kit.datasets import CIFAR10_CLASSES
from kit.errors import LessonError
from model import Tudui
from test_p07_read_data import png_header

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    """Our checkpoint of an untrained Tudui with CIFAR-10's class names."""
    torch.manual_seed(0)
    return checkpoint.save(tmp_path_factory.mktemp("ckpt") / "best.pth", Tudui(), classes=CIFAR10_CLASSES)


def predict(run_lesson, *args):
    """P32 in this process -> (the result, {file name: predicted class} from the printed table)."""
    r = run_lesson("p32_test", *map(str, args), dataset=None, quick=False)
    cells = [re.split(r"\s{2,}", line.strip()) for line in r.out.splitlines()]
    return r, {os.path.basename(c[0]): c[1] for c in cells  # the rows of the table
               if len(c) == 3 and re.fullmatch(r"(.+? \d+\.\d%(, )?){1,3}", c[2])}


def red_png(folder, name="red.png"):
    Image.new("RGB", (32, 32), RED).save(folder / name)
    return folder / name


def make_image_zoo(folder):
    """One file per kind of image learners feed the course's test.py; returns {name: [(x, y, expected rgb)]}."""
    folder.mkdir(exist_ok=True)
    rgba = Image.new("RGBA", (40, 40), (0, 0, 0, 0))  # transparent black...
    rgba.paste((255, 0, 0, 255), (0, 0, 40, 20))      # ...with an opaque red top half
    rgba.save(folder / "rgba.png")
    palette = Image.new("P", (32, 32), 1)
    palette.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    palette.paste(0, (0, 16, 32, 32))
    palette.save(folder / "palette.png", transparency=0)  # index 0 (black) is transparent
    Image.new("L", (32, 32), 100).save(folder / "gray.png")
    Image.new("LA", (32, 32), (200, 255)).save(folder / "gray_alpha.png")
    Image.new("1", (32, 32), 1).save(folder / "bitmap.bmp")
    Image.new("CMYK", (48, 48), (0, 255, 255, 0)).save(folder / "cmyk.jpg", quality=95)
    row = struct.pack("<32H", *[10_000] * 16, *[60_000] * 16)  # 0..65535 -> 0..255: 39 and 233
    Image.frombytes("I;16", (32, 32), row * 32).save(folder / "sixteen_bit.png")
    frames = [Image.new("RGB", (32, 32), c) for c in (RED, BLUE, RED)]
    frames[0].save(folder / "animated.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    exif = Image.Exif()  # a phone photo stored sideways, EXIF Orientation 6 ("rotate 90° clockwise to show it")
    exif[0x0112] = 6
    red_blue = Image.frombytes("RGB", (2, 1), bytes(RED + BLUE))  # resized: the left half red, the right half blue
    red_blue.resize((64, 32), Image.NEAREST).save(folder / "phone.jpg", exif=exif, quality=95)
    Image.new("RGB", (1, 1), (0, 200, 0)).save(folder / "tiny.png")
    red_blue.resize((3000, 2000), Image.NEAREST).save(folder / "huge.jpg", quality=90)  # 6 megapixels
    Image.new("RGB", (32, 32), BLUE).save(folder / "photo.WEBP")  # upper-case extension
    return {"rgba.png": [(16, 4, RED), (16, 28, WHITE)],  # transparent -> white, not black
            "palette.png": [(16, 4, BLUE), (16, 28, WHITE)], "gray.png": [(16, 16, (100, 100, 100))],
            "gray_alpha.png": [(16, 16, (200, 200, 200))], "bitmap.bmp": [(16, 16, WHITE)],
            "cmyk.jpg": [(16, 16, RED)], "sixteen_bit.png": [(4, 16, (39, 39, 39)), (28, 16, (233, 233, 233))],
            "animated.gif": [(16, 16, RED)],  # the first frame
            "phone.jpg": [(16, 4, RED), (16, 28, BLUE)],  # upright: red on top, blue below
            "tiny.png": [(16, 16, (0, 200, 0))], "huge.jpg": [(4, 16, RED), (28, 16, BLUE)],
            "photo.WEBP": [(16, 16, BLUE)]}


def test_every_kind_of_image_is_seen_as_a_viewer_shows_it_and_predicted(run_lesson, tmp_path, ckpt):
    expect = make_image_zoo(tmp_path / "zoo")
    modes = {name: Image.open(tmp_path / "zoo" / name).mode for name in expect}
    assert modes["sixteen_bit.png"] == "I;16" and modes["cmyk.jpg"] == "CMYK" and modes["palette.png"] == "P"
    for name, points in expect.items():
        seen = photos.open_image(tmp_path / "zoo" / name).resize((32, 32), Image.BILINEAR)  # P32's Resize((32, 32))
        for x, y, rgb in points:
            got = seen.getpixel((x, y))
            assert all(abs(u - v) <= 12 for u, v in zip(got, rgb)), f"{name} at ({x}, {y}): {got}, expected {rgb}"
    (tmp_path / "zoo" / "notes.txt").write_text("not an image, and not named like one: skipped")
    r, rows = predict(run_lesson, tmp_path / "zoo", "--checkpoint", ckpt, "--batch-size", "5")
    assert set(rows) == set(expect) and set(rows.values()) <= set(CIFAR10_CLASSES)
    assert not r.lines("refused") and "notes.txt" not in r.out and "warning" not in r.out  # CIFAR-10's classes
    assert "animated.gif: 3 frames (animated); using the first" in r.out
    assert int(re.search(r"(\d+) image\(s\) predicted", r.out)[1]) == len(expect)
    board = events(r.runs[-1])
    cards = [t for t in board.tags("images") if t.startswith("input/")]
    assert len(cards) == len(expect) and any(f"tiny.png: {rows['tiny.png']}" in t for t in cards)
    assert "tiny.png" in board.texts("predictions/text_summary")[0][1]
    assert not r.runs[-1].name.endswith("-synthetic")


def truncated_jpeg(path):
    Image.effect_noise((256, 256), 60).convert("RGB").save(path, quality=90)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


BAD_IMAGES = {
    "missing.jpg": (lambda p: p, "missing.jpg: no such file or folder"),
    "empty": (lambda p: p.mkdir() or p, "empty: no images in this folder"),
    "only_text": (lambda p: p.mkdir() or (p / "README.md").write_text("hi") and p, "only_text: no images in"),
    "text.png": (lambda p: p.write_text("this is not a PNG") and p, "text.png: not an image Pillow can read"),
    "truncated.jpg": (truncated_jpeg, "truncated.jpg: truncated or corrupt (image file is truncated"),
    "photo.heic": (lambda p: p.write_bytes(b"\0\0\0\x18ftypheic" + bytes(100)) and p, "need the pillow-heif plugin"),
    "drawing.svg": (lambda p: p.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>") and p, "SVG is a vector"),
    "bomb.png": (lambda p: png_header(p, 20_000, 20_000), "400,000,000 pixels is over Pillow's limit of 89,"),
}


@pytest.mark.parametrize("name", BAD_IMAGES)
def test_a_bad_image_alone_is_one_clear_error(tmp_path, capsys, name):
    make, message = BAD_IMAGES[name]
    with pytest.raises(LessonError) as e:
        photos.readable([make(tmp_path / name)])
    assert message in str(e.value) and "\n" not in str(e.value)
    assert capsys.readouterr().out == ""  # the one error line, not the same thing twice


def test_pillows_bomb_warning_zone_and_nothing_left_are_refused(tmp_path, capsys, monkeypatch):
    """Between MAX_IMAGE_PIXELS and twice that Pillow only warns; the lesson refuses it as well."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    Image.new("RGB", (40, 40)).save(tmp_path / "big.png")  # 1,600 pixels: over 1,000, under 2,000
    with pytest.raises(LessonError, match=r"big.png: 1,600 pixels is over Pillow's limit of 1,000"):
        photos.readable([tmp_path / "big.png"])
    (tmp_path / "y.jpg").write_bytes(b"\xff\xd8\xff")
    with pytest.raises(LessonError, match="nothing could be predicted: all 2 inputs were refused"):
        photos.readable([tmp_path / "big.png", tmp_path / "y.jpg"])
    assert capsys.readouterr().out.count("refused ") == 2


def test_bad_files_among_good_ones_do_not_stop_the_others_and_alone_are_one_line(run_lesson, tmp_path, ckpt):
    folder = tmp_path / "mixed"
    folder.mkdir()
    red_png(folder, "a_good.png")
    Image.new("L", (50, 20), 30).save(folder / "e_good.jpg")
    for name in ("text.png", "truncated.jpg", "bomb.png"):
        BAD_IMAGES[name][0](folder / name)
    r, rows = predict(run_lesson, folder, tmp_path / "missing.jpg", folder / "a_good.png", "--checkpoint", ckpt)
    assert set(rows) == {"a_good.png", "e_good.jpg"}  # a_good.png named twice: predicted once
    refused = r.lines("refused ")
    assert len(refused) == 4 and re.search(r"^2 image\(s\) predicted .*; 4 input\(s\) refused", r.out, re.M)
    for name in ("missing.jpg", "text.png", "truncated.jpg", "bomb.png"):
        assert any(BAD_IMAGES[name][1] in line for line in refused), name
    assert len([t for t in events(r.runs[-1]).tags("images") if t.startswith("input/")]) == 2
    result = run_lesson.process("p32_test", "no_such.jpg", "--checkpoint", str(ckpt), cwd=tmp_path)
    assert one_line_error(result) == "error: no_such.jpg: no such file or folder"


GPU_SAVE = """
import sys, torch
import model  # `from model import *` in the course's train.py: pickled as model.Tudui
class Tudui(model.Tudui):  # the course's Tudui defined in the training script itself: pickled as __main__.Tudui
    pass
class Net(torch.nn.Linear):  # another architecture, pickled whole
    pass
# no GPU here: tag every storage as CUDA, as torch.save(tudui) after tudui.cuda() on a GPU machine does
torch.serialization.register_package(0, lambda s: "cuda:0" if s.device.type == "cpu" else None, lambda s, loc: None)
torch.save(Tudui(), sys.argv[1] + "/tudui_29_gpu.pth")
torch.save(model.Tudui(), sys.argv[1] + "/tudui_imported_gpu.pth")
torch.save(Net(4, 2), sys.argv[1] + "/net.pth")
"""


@pytest.fixture(scope="module")
def course_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("course")
    subprocess.run([sys.executable, "-c", GPU_SAVE, str(folder)], check=True, timeout=120, env=CHILD_ENV)
    return folder


@pytest.mark.parametrize("kind", ["ours, with fruit names", "method 2", "tudui_29_gpu.pth", "tudui_imported_gpu.pth"])
def test_any_tudui_file_predicts_with_its_class_names(run_lesson, tmp_path, course_files, kind):
    names, path = CIFAR10_CLASSES, tmp_path / "tudui.pth"  # the course's files hold no names: CIFAR-10's
    if kind == "method 2":  # the course's bare state_dict
        torch.save(Tudui().state_dict(), path)
    elif kind.startswith("ours"):
        names = ["apple", "banana", "cherry", "durian", "elderberry"]
        checkpoint.save(path, Tudui(len(names)), classes=names)
    else:  # whole models saved on a GPU, loaded on this CPU
        path = course_files / kind
        with zipfile.ZipFile(path) as z:  # the file really asks for CUDA storages
            pickled = z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))
        assert b"cuda:0" in pickled and b"Tudui" in pickled
    r, rows = predict(run_lesson, red_png(tmp_path), "--checkpoint", path, "--device", "cpu")
    assert r.lines(f"{len(names)} classes: ") == [f"{len(names)} classes: {', '.join(names)}"]
    assert rows["red.png"] in names
    top3 = next(line for line in r.out.splitlines() if line.startswith(str(tmp_path / "red.png")))
    assert len(re.findall(rf"({'|'.join(names)}) \d+\.\d%", top3)) == 3


class Evil:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_wrong_checkpoints_are_one_clear_line_each(run_lesson, tmp_path, course_files, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where evil.pth would create its file
    torch.save({"0.weight": torch.zeros(4, 3), "0.bias": torch.zeros(4)}, tmp_path / "other_arch.pth")
    torch.save({**Tudui().state_dict(), "model.7.weight": torch.zeros(128, 1024)}, tmp_path / "wider.pth")
    checkpoint.save(tmp_path / "five_outputs.pth", Tudui(5), classes=CIFAR10_CLASSES)  # 10 names, 5 outputs
    torch.save({"rm -rf": Evil()}, tmp_path / "evil.pth")
    (tmp_path / "text.pth").write_text("not a checkpoint")
    diverged = Tudui().state_dict()
    diverged["model.8.bias"][2] = float("nan")
    checkpoint.atomic_save({"model": diverged, "classes": CIFAR10_CLASSES}, tmp_path / "diverged.pth")
    hooked, broken = Tudui(), Tudui()
    hooked._state_dict_hooks[0] = torch.nn.Conv2d(1, 1, 1)  # allow-listed, so weights_only reads it
    broken.model.__dict__["_modules"] = torch.ones(3)  # breaks state_dict() with an AttributeError
    torch.save(hooked, tmp_path / "hooked.pth")
    torch.save(broken, tmp_path / "broken.pth")
    expected = {
        "other_arch.pth": "does not hold a Tudui: missing model.0.weight",
        "wider.pth": "different shapes: model.7.weight (128, 1024) (Tudui has (64, 1024))",
        "five_outputs.pth": "10 class names for 5 outputs",
        course_files / "net.pth": "it asks for '__main__.Net'",
        "evil.pth": "nothing from the file was run",
        "text.pth": "is not a readable PyTorch checkpoint",
        "missing.pth": "does not exist",
        "diverged.pth": "holds NaN/inf weights (e.g. model.8.bias): the training that wrote it diverged; retrain "
                        "with a lower --lr",
        "hooked.pth": "it carries hooks (_state_dict_hooks), which no saved model needs",
        "broken.pth": "holds something that breaks while the model is rebuilt (AttributeError",
    }
    for name, message in expected.items():
        path = tmp_path / name
        with pytest.raises(LessonError) as e:
            run_lesson("p32_test", str(red_png(tmp_path)), "--checkpoint", str(path), dataset=None, quick=False)
        assert message in str(e.value) and str(path) in str(e.value) and "\n" not in str(e.value), name
    assert not (tmp_path / "pwned").exists()


def test_checkpoint_is_a_file_or_the_newest_best_pth_of_a_folder(run_lesson, tmp_path, monkeypatch):
    monkeypatch.setattr(flags, "CHECKPOINT_DIR", tmp_path / "checkpoints")
    with pytest.raises(LessonError, match=r"python lessons/p27_train.py --quick"):
        run_lesson("p32_test", dataset=None, quick=False)
    old = checkpoint.save(tmp_path / "checkpoints" / "p27_train" / "best.pth", Tudui(), classes=CIFAR10_CLASSES)
    new = checkpoint.save(tmp_path / "checkpoints" / "p31_train_gpu_2" / "best.pth", Tudui(),
                          classes=[f"thing{i}" for i in range(10)])
    os.utime(old, (1e9, 1e9))  # older than `new`
    r, rows = predict(run_lesson)  # the default: the shipped samples, the newest best.pth under checkpoints/
    assert r.lines("checkpoint: ") == [f"checkpoint: {new}"]
    shipped = {"cat-chelsea.png", *(f"{c}.jpg" for c in CIFAR10_CLASSES)}
    assert shipped <= {p.name for p in (REPO / "data" / "samples").iterdir()}
    assert set(rows) == shipped and all(v.startswith("thing") for v in rows.values()) and "README.md" not in r.out
    for given, used in ((tmp_path / "checkpoints" / "p27_train", old), (old, old)):  # a folder, a file
        assert predict(run_lesson, red_png(tmp_path), "--checkpoint", given)[0].lines("checkpoint: ") == [
            f"checkpoint: {used}"]


def test_model_trained_by_p27_beats_chance_on_its_own_test_images(run_lesson, tmp_path):
    run_lesson("p27_train", "--checkpoint-dir", str(tmp_path / "ckpt"))
    test_set = synthetic.SyntheticCIFAR10(200, seed=1)  # the test split's seed: images the model did not train on
    folder = tmp_path / "synthetic"
    folder.mkdir()
    for i in range(len(test_set)):
        Image.fromarray(test_set.data[i]).save(folder / f"{i:03d}_{test_set.targets[i]}.png")  # (32, 32, 3) uint8
    r, rows = predict(run_lesson, folder, "--checkpoint", tmp_path / "ckpt" / "best.pth")
    assert r.lines("10 classes: ") == [f"10 classes: {', '.join(synthetic.NAMES)}"]
    [warning] = [line for line in r.out.splitlines() if "synthetic shapes" in line]
    assert warning.startswith("warning: ") and all(words in warning for words in (
        "cannot classify photos", "put CIFAR-10 in data/ and run `python lessons/p27_train.py`",
        "--dataset folder --data-root DIR"))
    assert r.runs[-1].name.endswith("-synthetic") and len(rows) == 200  # and its TensorBoard run says so
    correct = sum(rows[f] == synthetic.NAMES[int(f[4:-4])] for f in rows)
    assert correct / len(rows) > 0.2, f"{correct}/200 right; chance is 10%"


def test_the_course_steps_are_printed_first_on_the_first_image_then_a_table_aligned_on_screen(run_lesson, tmp_path):
    names = ["飞机", "汽车", "鸟", "猫", "鹿", "狗", "青蛙", "马", "船", "卡车"]  # CIFAR-10 in Chinese
    ckpt = checkpoint.save(tmp_path / "zh.pth", Tudui(), classes=names)
    folder = tmp_path / "照片"
    folder.mkdir()
    Image.new("RGBA", (40, 20), (255, 0, 0, 128)).save(folder / "a.png")
    for i, name in enumerate(["小猫咪.png", "dog_狗.jpg"]):
        Image.new("RGB", (32, 32), (40 * i, 100, 200)).save(folder / name)
    r, rows = predict(run_lesson, folder, "--checkpoint", ckpt)
    steps = r.out[:r.out.index("\nfile ")].splitlines()
    assert steps[0] == f"the course's test.py, step by step, on {folder / 'a.png'}:"  # no blank line first
    assert re.fullmatch(r"<PIL\.PngImagePlugin\.PngImageFile image mode=RGBA size=40x20 at 0x[0-9A-Fa-f]+>", steps[1])
    assert steps[2] == "torch.Size([3, 32, 32])" and steps.count("torch.Size([1, 3, 32, 32])") == 1
    output = " ".join(steps[steps.index("torch.Size([1, 3, 32, 32])") + 1:-2])  # print(output): 10 numbers
    assert len(re.findall(r"-?\d+\.\d+(?:e[-+]\d+)?", output)) == 10 and output.startswith("tensor([[")
    index = int(re.fullmatch(r"tensor\(\[(\d)\]\)", steps[-2]).group(1))  # print(output.argmax(1))
    assert steps[-1] == f"output.argmax(1) is class {index}: {names[index]}"
    assert rows["a.png"] == names[index]  # the same answer as in the table
    assert len(sys.modules["p32_test"].__doc__.strip().splitlines()) <= 15
    assert set(rows) == {"小猫咪.png", "a.png", "dog_狗.jpg"} and set(rows.values()) <= set(names)
    table = r.out[r.out.index("\nfile ") + 1:].splitlines()[:4]
    columns = lambda line, text: console.width(line[:line.index(text)])  # noqa: E731  on screen, not in characters
    assert len({columns(line, label) for line, label in zip(table, ["prediction", *rows.values()])}) == 1, table
    assert len({columns(line, line.split("  ")[-1]) for line in table}) == 1, table
    assert console.width("小猫咪.png") == 10 and console.width("e\u0301") == 1  # an accent takes no column


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="these file systems store names as text, not bytes")
def test_a_file_name_that_is_not_utf8_is_predicted_and_shown_with_replacement_characters(run_lesson, ckpt, tmp_path):
    """Latin-1 bytes in a photo's name, from an old Windows zip or camera (was a UnicodeEncodeError in TensorBoard)."""
    photo = red_png(tmp_path, os.fsdecode(b"caf\xe9_\xff.png"))
    r, rows = predict(run_lesson, photo, "--checkpoint", ckpt)
    assert list(rows) == ["caf\ufffd_\ufffd.png"] and len(events(r.runs[-1]).tags("images")) >= 1
