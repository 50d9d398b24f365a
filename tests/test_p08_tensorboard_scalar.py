from conftest import events


def test_y_equals_2x_and_the_tangle_of_two_runs_in_one_folder(run_lesson):
    r = run_lesson("p08_tensorboard_scalar", quick=False, dataset=None)
    (run,) = r.runs
    assert events(run).tags("scalars") == ["y=2x"]
    assert events(run).scalars("y=2x") == [(i, 2.0 * i) for i in range(100)]  # the tag says what it holds
    # the course's re-run into one folder: the first run's 2*i, then the re-run's 3*i, on one chart
    # (two writers opened in one second: TensorBoard reads their files in name order, which may put either first)
    assert r.number("same_folder:") == 2  # event files
    points = events(run / "same_folder").scalars("y=2x")
    assert sorted(points) == sorted([(i, 2.0 * i) for i in range(100)] + [(i, 3.0 * i) for i in range(100)])
