import re

from conftest import events


def test_shapes_parameters_and_graph(run_lesson):
    r = run_lesson("p22_nn_seq", quick=False, dataset=None)
    assert "(model): Sequential(" in r.out and "torch.Size([64, 10])" in r.out  # model: P27's name, as model.py
    layers = {m[0]: (m[1], m[2], int(m[3].replace(",", "")))
              for m in re.findall(r"model\.(\d) (\w+) +-> (\(.*?\)) +([\d,]+) parameters", r.out)}
    assert len(layers) == 9
    assert layers["0"] == ("Conv2d", "(64, 32, 32, 32)", 2432)
    assert layers["5"] == ("MaxPool2d", "(64, 64, 4, 4)", 0)
    assert layers["6"] == ("Flatten", "(64, 1024)", 0)
    assert layers["7"] == ("Linear", "(64, 64)", 65600)
    assert layers["8"] == ("Linear", "(64, 10)", 650)
    assert sum(p for _, _, p in layers.values()) == 145578 and "parameters: 145,578" in r.out
    assert len(r.runs) == 1 and events(r.runs[0]).tags("graph")


def test_the_lessons_tudui_is_model_py_s_tudui():
    """P22 writes Tudui out as the course does; every later lesson imports model.py's: they must not drift apart."""
    import torch

    import model
    import p22_nn_seq

    lesson, shared = p22_nn_seq.Tudui(), model.Tudui()
    assert repr(lesson.model) == repr(shared.model)  # kernel, stride, padding of each layer
    lesson.load_state_dict(shared.state_dict())  # the same keys and shapes
    x = torch.rand(2, 3, 32, 32)
    assert torch.equal(lesson(x), shared(x))  # the same weights give the same scores
