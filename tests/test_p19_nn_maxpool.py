from conftest import tb_tags


def test_ceil_mode_and_pooled_images(run_lesson):
    out, runs = run_lesson("p19_nn_maxpool")
    assert "torch.Size([1, 1, 5, 5]) torch.float32" in out  # float input: the course's dtype trap
    assert "ceil_mode=True: [[2, 3], [5, 1]]" in out
    assert "ceil_mode=False: [[2]]" in out
    # dilation=2: cells 2 apart, e.g. the top-left window is input[0][0], [0][2], [2][0], [2][2]
    assert "dilation=2 (kernel_size=2, stride=1): the top-left window takes [[1, 0], [1, 1]] " \
           "-> [[1, 3, 1], [5, 3, 3], [2, 2, 1]]" in out
    assert "images: (64, 3, 32, 32) -> (64, 3, 10, 10), 300 numbers per image instead of 3072" in out
    assert len(runs) == 1 and runs[0].name.endswith("-synthetic")
    assert set(tb_tags(runs[0])["images"]) == {"input", "output"}
