import re

from conftest import events

RELU = "[[1.0, 0.0], [0.0, 3.0]]"


def test_relu_sigmoid_inplace_and_curves(run_lesson):
    r = run_lesson("p20_nn_relu")
    # ReLU, Sigmoid, ReLU on the bare (2, 2) matrix; inplace=False: output, input kept; True: output, input lost
    assert re.findall(r"\[\[.*?\]\]", r.out) == [RELU, "[[0.7311, 0.3775], [0.2689, 0.9526]]", RELU,
                                                 RELU, "[[1.0, -0.5], [-1.0, 3.0]]", RELU, RELU]
    assert "RuntimeError: non-empty 3D or 4D (batch mode) tensor expected for input" in r.out  # pooling: (N, C, H, W)
    assert "torch.Size([1, 1, 2, 2])" in r.out and re.search(r"ReLU changed 0\D+196608", r.out)  # pixels: >= 0

    board = events(r.runs[0])
    assert set(board.tags("images")) == {"input", "output", "output_relu"}
    relu, sigmoid = dict(board.scalars("relu_curve")), dict(board.scalars("sigmoid_curve"))
    assert len(relu) == len(sigmoid) == 121  # x = -6.0, -5.9, ..., 6.0 as steps -60..60
    assert relu[-20] == 0.0 and relu[0] == 0.0 and abs(relu[30] - 3.0) < 1e-6
    assert abs(sigmoid[0] - 0.5) < 1e-6 and sigmoid[-60] < 0.01 and sigmoid[60] > 0.99
