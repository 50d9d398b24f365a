import torch

from conftest import events
from p16_nn_module import Tudui


def test_forward_adds_one_and_only_call_runs_the_hook(run_lesson):
    r = run_lesson("p16_nn_module", quick=False, dataset=None)
    assert r.out.splitlines()[0] == "tensor(2.)"  # the course's print(output)
    assert r.numbers("hook: forward returned") == [2.0]  # once: tudui(x) runs it, tudui.forward(x) does not
    assert r.out.index("tudui(x):") < r.out.index("hook:") < r.out.index("tudui.forward(x):")
    assert len(r.runs) == 1 and events(r.runs[0]).tags("graph")
    assert Tudui()(torch.tensor([1.0, -3.0])).tolist() == [2.0, -2.0]  # any shape, element by element
