import re

from conftest import tb_tags


def test_flatten_linear_and_layer_tour(run_lesson):
    out, runs = run_lesson("p21_nn_linear")
    assert "(linear1): Linear(in_features=196608, out_features=10, bias=True)" in out
    assert out.count("torch.Size([64, 3, 32, 32])\ntorch.Size([196608])\ntorch.Size([10])\n") == 2  # 2 quick batches
    # why drop_last: a short batch does not fit
    assert "a short batch of 16 images -> 49152 features -> error: " in out
    assert "(1x49152 and 196608x10)" in out
    # flatten vs reshape, and per image
    assert "torch.reshape(imgs, (1, 1, 1, -1)) -> (1, 1, 1, 196608)" in out
    assert "torch.flatten(imgs)                -> (196608,)" in out
    assert "torch.flatten(imgs, start_dim=1)   -> (64, 3072)" in out
    assert "per image: Linear(3072, 10) on 16 images -> (16, 10)" in out
    # one line per layer family
    assert "BatchNorm2d(3) -> channel means [0.0, 0.0, 0.0], stds [1.0, 1.0, 1.0]" in out
    dropped = re.search(r"Dropout\(p=0\.5\) on eight 1s -> \[(.*?)\]", out).group(1)
    assert set(dropped.split(", ")) <= {"0.0", "2.0"} and len(dropped.split(", ")) == 8
    assert "PairwiseDistance([0, 0], [3, 4]) -> 5.0000" in out
    assert "L1Loss([1, 2, 3], [1, 2, 5]) -> 0.6667" in out

    assert len(runs) == 1 and runs[0].name.endswith("-synthetic")
    assert set(tb_tags(runs[0])["images"]) == {"input", "flattened"}
