from conftest import tb_tags

EXPECTED = [
    "output (stride=1, padding=0): [[10, 12, 12], [18, 16, 16], [13, 9, 3]]",
    "output2 (stride=2, padding=0): [[10, 12], [13, 3]]",
    "output3 (stride=1, padding=1): [[1, 3, 4, 10, 8], [5, 10, 12, 12, 6], [7, 18, 16, 16, 8], "
    "[11, 13, 9, 3, 4], [14, 13, 9, 7, 4]]",
    "size: (5 + 2*0 - 3) // 1 + 1 = 3, matches (3, 3)",
    "size: (5 + 2*0 - 3) // 2 + 1 = 2, matches (2, 2)",
    "size: (5 + 2*1 - 3) // 1 + 1 = 5, matches (5, 5)",
]


def test_conv_results_and_size_formula(run_lesson):
    out, runs = run_lesson("p17_nn_conv", dataset=None)
    assert "torch.Size([1, 1, 5, 5])\ntorch.Size([1, 1, 3, 3])" in out
    for line in EXPECTED:
        assert line in out
    assert "DOES NOT" not in out
    tensors = tb_tags(runs[0])["tensors"]
    assert {f"{t}/text_summary" for t in ("input", "kernel", "output", "output2", "output3")} <= set(tensors)


def test_markdown_table():
    import torch
    from p17_nn_conv import markdown_table

    assert markdown_table(torch.tensor([[1.0, 2.0], [3.0, 4.0]])) == "|   |   |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |"

