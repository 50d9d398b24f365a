from conftest import tb_tags


def test_forward_adds_one_through_call(run_lesson):
    out, runs = run_lesson("p16_nn_module", dataset=None)
    assert out.startswith("tensor(2.)\n")  # the course's print(output)
    assert "tudui(x): 1.0 -> 2.0" in out
    # the hook runs when called as tudui(x), not through tudui.forward(x)
    assert out.count("hook: forward returned 2.0") == 1
    assert out.index("calling tudui(x):") < out.index("hook:") < out.index("calling tudui.forward(x):")
    assert len(runs) == 1 and not runs[0].name.endswith("-synthetic")
    assert tb_tags(runs[0])["graph"]


def test_module_directly():
    import torch
    from p16_nn_module import Tudui

    assert Tudui()(torch.tensor([1.0, -3.0])).tolist() == [2.0, -2.0]
