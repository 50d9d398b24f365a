from conftest import tb_tags


def test_shapes_parameters_and_graph(run_lesson):
    out, runs = run_lesson("p22_nn_seq", dataset=None)
    assert "(model): Sequential(" in out  # the course's P27 name, so the state_dict keys match model.py's
    assert "torch.Size([64, 10])" in out
    for line in ["model.0 Conv2d    -> (64, 32, 32, 32)   2,432 parameters",
                 "model.5 MaxPool2d -> (64, 64, 4, 4)         0 parameters",
                 "model.6 Flatten   -> (64, 1024)             0 parameters",
                 "model.7 Linear    -> (64, 64)          65,600 parameters",
                 "model.8 Linear    -> (64, 10)             650 parameters"]:
        assert line in out
    assert "parameters: 145,578" in out
    assert len(runs) == 1 and not runs[0].name.endswith("-synthetic")
    assert tb_tags(runs[0])["graph"]


def test_the_lessons_tudui_is_model_py_s_tudui():
    """P22 writes Tudui out as the course does; every later lesson imports model.py's: they must not drift apart."""
    import torch

    import model
    import p22_nn_seq

    def layout(net):
        return [(key, tuple(value.shape)) for key, value in net.state_dict().items()]

    assert layout(p22_nn_seq.Tudui()) == layout(model.Tudui())
    assert repr(p22_nn_seq.Tudui().model) == repr(model.Tudui().model)  # kernel, stride, padding of each layer
    # the same weights give the same scores: the layers are the same, in the same order, with the same settings
    lesson, shared = p22_nn_seq.Tudui(), model.Tudui()
    lesson.load_state_dict(shared.state_dict())
    x = torch.rand(2, 3, 32, 32)
    assert torch.equal(lesson(x), shared(x))
