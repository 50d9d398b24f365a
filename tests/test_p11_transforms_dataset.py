import pytest

from conftest import tb_tags
from kit.common import LessonError


def test_call_tensor_attributes_and_why_a_batch_needs_tensors(run_lesson):
    out, runs = run_lesson("p11_transforms_dataset", dataset=None)
    assert "tensor_trans(img) is tensor_trans.__call__(img): True" in out
    assert "a tensor carries: dtype torch.float32, device cpu, requires_grad False, grad None" in out
    assert "without transform: raw_dataset[0] = (<PIL.Image.Image image mode=RGB size=256x192" in out
    assert ("DataLoader(raw_dataset, batch_size=4): TypeError: default_collate: batch must contain tensors"
            in out)
    assert "with transform: ants_dataset[0] = (Tensor (3, 256, 256), 'ants')" in out
    assert "DataLoader(ants_dataset, batch_size=4): imgs (4, 3, 256, 256), labels ['ants', 'ants', 'ants', 'ants']" in out
    (run,) = runs
    assert tb_tags(run)["images"] == ["train_data"]


def test_the_transform_is_the_datasets_own():
    from torchvision import transforms

    import p11_transforms_dataset as lesson
    from kit.folders import MINI

    small = lesson.MyData(str(MINI / "train"), "bees", transform=transforms.Compose([transforms.Resize((8, 8)),
                                                                                    transforms.ToTensor()]))
    img, label = small[3]  # bee_03 is a portrait picture: Resize((8, 8)) makes every item one size
    assert tuple(img.shape) == (3, 8, 8) and label == "bees"


def test_a_missing_folder_is_one_clear_error(run_lesson, tmp_path):
    with pytest.raises(LessonError, match=r"no folder .*train/ants: --data-root wants"):
        run_lesson("p11_transforms_dataset", "--data-root", str(tmp_path), dataset=None)
