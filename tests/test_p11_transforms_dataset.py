import pytest

from conftest import events
from kit.errors import LessonError
from kit.flags import MINI


def test_call_tensor_attributes_and_why_a_batch_needs_tensors(run_lesson):
    r = run_lesson("p11_transforms_dataset", quick=False, dataset=None)
    assert r.lines("tensor_trans(img) is tensor_trans.__call__(img):")[0].endswith("True")
    assert "dtype torch.float32, device cpu, requires_grad False, grad None" in r.out
    assert "raw_dataset[0] = (<PIL.Image.Image image mode=RGB size=256x192" in r.out
    assert "TypeError: default_collate: batch must contain tensors" in r.lines("DataLoader(raw_dataset")[0]
    assert "ants_dataset[0] = (Tensor (3, 256, 256), 'ants')" in r.out
    assert r.lines("DataLoader(ants_dataset + bees_dataset, batch_size=4):")[0].endswith(
        "imgs (4, 3, 256, 256), labels ['ants', 'ants', 'ants', 'ants']")
    assert [(w, h) for _, w, h, _ in events(r.runs[-1]).images("train_data")] == [(1024, 256)]  # 4 side by side


def test_the_transform_is_the_datasets_own():
    from torchvision import transforms

    import p11_transforms_dataset as lesson

    small = lesson.MyData(str(MINI / "train"), "bees_image", "bees_label",
                          transform=transforms.Compose([transforms.Resize((8, 8)), transforms.ToTensor()]))
    img, label = small[3]  # bee_03 is a portrait picture: Resize((8, 8)) makes every item one size
    assert tuple(img.shape) == (3, 8, 8) and label == "bees"


def test_a_folder_with_neither_layout_is_one_clear_error(run_lesson, tmp_path):
    with pytest.raises(LessonError, match=r"no ants and bees in .*train: --data-root wants ROOT/train/ants/ \+ bees/"):
        run_lesson("p11_transforms_dataset", "--data-root", str(tmp_path), quick=False, dataset=None)
