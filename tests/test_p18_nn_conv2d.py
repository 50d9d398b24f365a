from conftest import tb_images, tb_tags


def test_shapes_printed_and_images_logged(run_lesson):
    out, runs = run_lesson("p18_nn_conv2d")
    assert out.count("input (64, 3, 32, 32) -> output (64, 6, 30, 30)") == 3
    assert len(runs) == 1 and runs[0].name.endswith("-synthetic")
    images = tb_tags(runs[0])["images"]
    assert {"input", "output", "output_channels"} <= set(images)
    # one row per image, its six channels side by side: 6 tiles of 30 + 2 pixels of gap, 8 rows
    assert [(w, h) for _, w, h, _ in tb_images(runs[0], "output_channels")] == [(6 * 32 + 2, 8 * 32 + 2)] * 3
    assert "tensorboard --logdir" in out


def test_channel_grid_puts_one_image_per_row():
    import torch
    from p18_nn_conv2d import channel_grid

    maps = torch.zeros(2, 6, 30, 30)
    maps[1, 4, 0, 0] = 1.0  # image 1, channel 4: one bright pixel, the rest of its tile stays black
    grid = channel_grid(maps)
    assert grid.shape == (3, 2 * 32 + 2, 6 * 32 + 2)
    row, col = 2 + 32 * 1, 2 + 32 * 4  # the tile's top-left corner: row = image, column = channel
    assert grid[:, row, col].tolist() == [1.0, 1.0, 1.0]
    tiles = grid[0, 2:, 2:].reshape(2, 32, 6, 32)[:, :30, :, :30]  # (image, y, channel, x), gaps cut off
    assert tiles.sum().item() == 1.0  # no other tile lights up


def test_per_tile_scaling_spans_zero_to_one():
    import torch
    from p18_nn_conv2d import per_tile_scaled

    maps = per_tile_scaled(torch.randn(2, 6, 30, 30) * 5)
    assert torch.allclose(maps.amin(dim=(-2, -1)), torch.zeros(2, 6))
    assert torch.allclose(maps.amax(dim=(-2, -1)), torch.ones(2, 6))
