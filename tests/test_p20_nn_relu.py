from conftest import tb_scalars, tb_tags


def test_relu_sigmoid_inplace_and_curves(run_lesson):
    out, runs = run_lesson("p20_nn_relu")
    assert "torch.Size([1, 1, 2, 2])" in out
    assert "ReLU:    [[1.0, 0.0], [0.0, 3.0]]" in out
    assert "Sigmoid: [[0.7311, 0.3775], [0.2689, 0.9526]]" in out
    # the note's batch dimension and the docs' "any shape": ReLU takes the bare matrix, pooling does not
    assert "ReLU on the bare (2, 2) matrix: [[1.0, 0.0], [0.0, 3.0]] (element by element: any shape)" in out
    assert "MaxPool2d(2) on it: RuntimeError: non-empty 3D or 4D (batch mode) tensor expected for input" in out
    assert "inplace=False: output [[1.0, 0.0], [0.0, 3.0]], input kept        [[1.0, -0.5], [-1.0, 3.0]]" in out
    assert "inplace=True:  output [[1.0, 0.0], [0.0, 3.0]], input overwritten [[1.0, 0.0], [0.0, 3.0]]" in out
    assert "ReLU changed 0 of 196608 values" in out

    run = runs[0]
    tags = tb_tags(run)
    assert set(tags["images"]) == {"input", "output", "output_relu"}
    relu = dict(tb_scalars(run, "relu_curve"))
    sigmoid = dict(tb_scalars(run, "sigmoid_curve"))
    assert len(relu) == len(sigmoid) == 121  # x = -6.0, -5.9, ..., 6.0 as steps -60..60
    assert relu[-20] == 0.0 and relu[0] == 0.0 and abs(relu[30] - 3.0) < 1e-6
    assert abs(sigmoid[0] - 0.5) < 1e-6 and sigmoid[-60] < 0.01 and sigmoid[60] > 0.99
