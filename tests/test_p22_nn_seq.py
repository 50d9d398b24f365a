from conftest import tb_tags


def test_shapes_parameters_and_graph(run_lesson):
    out, runs = run_lesson("p22_nn_seq", dataset=None)
    assert "(model): Sequential(" in out  # the shared Tudui, with the course's state_dict names
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
