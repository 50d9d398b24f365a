import re

import pytest

from conftest import tb_tags


def test_loader_parameters_each_show_an_effect(run_lesson):
    from kit.data import QUICK_TEST, SyntheticCIFAR10, subset

    out, runs = run_lesson("p15_dataloader")
    img, target = subset(SyntheticCIFAR10(QUICK_TEST, seed=1), QUICK_TEST)[0]  # the quick synthetic test set
    assert "torch.Size([3, 32, 32])" in out
    assert f"target {target}: {SyntheticCIFAR10.classes[target]}" in out
    # drop_last: the note's 100 cards, and --quick's 500 images at the course's batch size, 64
    assert "100 cards, batch_size=3, drop_last=False: 34 batches, the last has 1" in out
    assert "100 cards, batch_size=3, drop_last=True: 33 batches, the last has 3" in out
    assert "500 images, batch_size=64, drop_last=False: 8 batches, the last has 52" in out
    assert "500 images, batch_size=64, drop_last=True: 7 batches, the last has 64" in out
    # batch_size and shuffle: both epochs give batches of 64, in a different order
    firsts = re.findall(r"epoch (\d), step 0: imgs \(64, 3, 32, 32\), targets \(64,\), first targets (\[.*\])", out)
    assert [e for e, _ in firsts] == ["0", "1"]
    assert firsts[0][1] != firsts[1][1]
    # num_workers: the same 3 batches loaded both ways
    assert re.search(r"num_workers=0: 3 batches in \d+\.\d\d s", out)
    assert re.search(r"num_workers=2: 3 batches in \d+\.\d\d s", out)

    assert len(runs) == 1 and runs[0].name.endswith("-synthetic")
    assert set(tb_tags(runs[0])["images"]) == {"Epoch: 0", "Epoch: 1"}
    assert "tensorboard --logdir" in out


def test_a_nonsense_count_is_one_line_from_argparse(run_lesson, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_lesson("p15_dataloader", "--steps", "0")
    assert exit_info.value.code == 2
    assert "argument --steps: must be at least 1, got 0" in capsys.readouterr().err
