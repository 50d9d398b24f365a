from conftest import tb_scalars, tb_tags


def test_y_equals_2x_and_the_tangle_of_two_runs_in_one_folder(run_lesson):
    out, runs = run_lesson("p08_tensorboard_scalar", dataset=None)
    assert "y=2x: step 0 -> 0, step 50 -> 100, step 99 -> 198" in out
    assert "same_folder: 2 event files, 200 points under one tag y=2x" in out
    (run,) = runs
    assert tb_tags(run)["scalars"] == ["y=2x"]
    assert tb_scalars(run, "y=2x") == [(i, 2.0 * i) for i in range(100)]  # the tag says what it holds

    # the course's re-run into one folder: the first run's 2*i, then the re-run's 3*i, on one chart
    # (two writers opened in one second: TensorBoard reads their files in name order, which may put either first)
    points = tb_scalars(run / "same_folder", "y=2x")
    assert sorted(points) == sorted([(i, 2.0 * i) for i in range(100)] + [(i, 3.0 * i) for i in range(100)])
