import re

from conftest import events


def test_ceil_mode_dilation_and_pooled_images(run_lesson):
    r = run_lesson("p19_nn_maxpool")
    assert "torch.Size([1, 1, 5, 5]) torch.float32" in r.out  # float input: the course's dtype trap
    assert re.findall(r"\[\[.*?\]\]", r.out) == ["[[2, 3], [5, 1]]", "[[2]]", "[[1, 0], [1, 1]]",
                                                 "[[1, 3, 1], [5, 3, 3], [2, 2, 1]]"]  # ceil_mode, dilation=2
    assert re.search(r"\(64, 3, 32, 32\) -> \(64, 3, 10, 10\)\D+300\D+3072", r.out)  # numbers per image
    assert [run.name[-10:] for run in r.runs] == ["-synthetic"]  # one run, on the synthetic data
    assert set(events(r.runs[0]).tags("images")) == {"input", "output"}
