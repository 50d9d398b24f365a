import re

import pytest

from conftest import events
from kit.errors import LessonError


def test_flatten_linear_and_layer_tour(run_lesson):
    r = run_lesson("p21_nn_linear")
    assert "(linear1): Linear(in_features=196608, out_features=10, bias=True)" in r.out
    assert r.out.count("torch.Size([64, 3, 32, 32])\ntorch.Size([196608])\ntorch.Size([10])\n") == 2  # 2 batches
    assert re.search(r"16\D+49152\D+: .*\(1x49152 and 196608x10\)", r.out)  # why drop_last: a short batch fails
    # torch.reshape(imgs, (1, 1, 1, -1)), torch.flatten(imgs), flatten(imgs, start_dim=1), Linear(3072, 10) per image
    assert re.findall(r"-> (\([\d, ]+\))", r.out) == ["(1, 1, 1, 196608)", "(196608,)", "(64, 3072)", "(16, 10)"]
    # one line per layer family: BatchNorm2d, Dropout (zeros, the rest * 2), PairwiseDistance, L1Loss
    assert "channel means [0.0, 0.0, 0.0], stds [1.0, 1.0, 1.0]" in r.out
    assert re.search(r"on eight 1s -> \[([02]\.0, ){7}[02]\.0\]", r.out)
    assert [r.number(f) for f in ("PairwiseDistance([0, 0], [3, 4]) ->", "L1Loss([1, 2, 3], [1, 2, 5]) ->")] == \
        [5.0, 0.6667]
    (run,) = r.runs
    assert run.name.endswith("-synthetic") and set(events(run).tags("images")) == {"input", "flattened"}

    with pytest.raises(LessonError, match="--batch-size 1000 is more than the 512 test images"):
        run_lesson("p21_nn_linear", "--batch-size", "1000")
