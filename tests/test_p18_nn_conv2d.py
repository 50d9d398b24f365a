import torch

from conftest import events


def test_shapes_printed_and_images_logged(run_lesson):
    r = run_lesson("p18_nn_conv2d")
    assert r.out.count("torch.Size([64, 3, 32, 32])\ntorch.Size([64, 6, 30, 30])\n") == 3  # --quick: 3 batches
    (run,) = r.runs
    assert run.name.endswith("-synthetic")
    board = events(run)
    assert set(board.tags("images")) == {"input", "output", "output_channels"}
    # one row per image, its six channels side by side: 6 tiles of 30 + 2 pixels of gap, 8 rows
    assert [(w, h) for _, w, h, _ in board.images("output_channels")] == [(6 * 32 + 2, 8 * 32 + 2)] * 3


def test_channel_grid_puts_one_image_per_row_each_tile_scaled():
    from p18_nn_conv2d import channel_grid, per_tile_scaled

    maps = per_tile_scaled(torch.randn(2, 6, 30, 30) * 5)  # each tile on its own spans 0 to 1
    assert torch.allclose(maps.amin(dim=(-2, -1)), torch.zeros(2, 6))
    assert torch.allclose(maps.amax(dim=(-2, -1)), torch.ones(2, 6))

    maps = torch.zeros(2, 6, 30, 30)
    maps[1, 4, 0, 0] = 1.0  # image 1, channel 4: one bright pixel, the rest of its tile stays black
    grid = channel_grid(maps)
    assert grid.shape == (3, 2 * 32 + 2, 6 * 32 + 2)
    assert grid[:, 2 + 32 * 1, 2 + 32 * 4].tolist() == [1.0, 1.0, 1.0]  # the tile's corner: row image, column channel
    tiles = grid[0, 2:, 2:].reshape(2, 32, 6, 32)[:, :30, :, :30]  # (image, y, channel, x), gaps cut off
    assert tiles.sum().item() == 1.0  # no other tile lights up
