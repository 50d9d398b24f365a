from conftest import tb_tags


def test_shapes_printed_and_images_logged(run_lesson):
    out, runs = run_lesson("p18_nn_conv2d")
    assert out.count("input (64, 3, 32, 32) -> output (64, 6, 30, 30)") == 3
    assert len(runs) == 1 and runs[0].name.endswith("-synthetic")
    images = tb_tags(runs[0])["images"]
    assert {"input", "output", "output_channels"} <= set(images)
    assert "tensorboard --logdir" in out


def test_per_tile_scaling_spans_zero_to_one():
    import torch
    from p18_nn_conv2d import per_tile_scaled

    maps = per_tile_scaled(torch.randn(2, 6, 30, 30) * 5)
    assert torch.allclose(maps.amin(dim=(-2, -1)), torch.zeros(2, 6))
    assert torch.allclose(maps.amax(dim=(-2, -1)), torch.ones(2, 6))
