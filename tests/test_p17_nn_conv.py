import re

from conftest import events

OUTPUTS = [[10, 12, 12, 18, 16, 16, 13, 9, 3],  # stride=1
           [10, 12, 13, 3],  # stride=2
           [1, 3, 4, 10, 8, 5, 10, 12, 12, 6, 7, 18, 16, 16, 8, 11, 13, 9, 3, 4, 14, 13, 9, 7, 4]]  # padding=1


def test_conv_results_size_formula_and_tables(run_lesson):
    r = run_lesson("p17_nn_conv", quick=False, dataset=None)
    assert "torch.Size([1, 1, 5, 5])\ntorch.Size([1, 1, 3, 3])" in r.out
    printed = re.findall(r"tensor\((\[\[\[\[.*?\]\]\]\])", r.out, flags=re.S)  # print(output) as the course
    assert [[int(float(v)) for v in re.findall(r"\d+\.?", t)] for t in printed] == OUTPUTS
    sizes = re.findall(r"size: .* = (\d+); conv2d gave (\d+)x(\d+)", r.out)  # the formula, then conv2d's
    assert sizes == [(n, n, n) for n in ("3", "2", "5")]

    board = events(r.runs[0])
    assert {f"{t}/text_summary" for t in ("input", "kernel", "output", "output2", "output3")} == \
        set(board.tags("tensors"))
    # a markdown table needs its header row: column numbers on top, row numbers down the left
    assert board.texts("output2/text_summary")[0][1] == "|   | 0 | 1 |\n|---|---|---|\n| **0** | 10 | 12 |\n" \
                                                        "| **1** | 13 | 3 |"
