import re

from conftest import tb_tags


def test_loader_parameters_each_show_an_effect(run_lesson):
    from kit.data import QUICK_TEST, SyntheticCIFAR10, subset

    out, runs = run_lesson("p15_dataloader", "--batch-size", "100")
    img, target = subset(SyntheticCIFAR10(QUICK_TEST, seed=1), QUICK_TEST)[0]  # the quick synthetic test set
    assert "torch.Size([3, 32, 32])" in out
    assert f"target {target}: {SyntheticCIFAR10.classes[target]}" in out
    # drop_last: the note's 100 cards, and 512 images in batches of 100
    assert "100 cards, batch_size=3, drop_last=False: 34 batches, the last has 1" in out
    assert "100 cards, batch_size=3, drop_last=True: 33 batches, the last has 3" in out
    assert "512 images, batch_size=100, drop_last=False: 6 batches, the last has 12" in out
    assert "512 images, batch_size=100, drop_last=True: 5 batches, the last has 100" in out
    # batch_size and shuffle: both epochs give batches of 100, in a different order
    firsts = re.findall(r"epoch (\d), step 0: imgs \(100, 3, 32, 32\), targets \(100,\), first targets (\[.*\])", out)
    assert [e for e, _ in firsts] == ["0", "1"]
    assert firsts[0][1] != firsts[1][1]
    # num_workers: the same 3 batches loaded both ways
    assert re.search(r"num_workers=0: 3 batches in \d+\.\d\d s", out)
    assert re.search(r"num_workers=2: 3 batches in \d+\.\d\d s", out)

    assert len(runs) == 1 and runs[0].name.endswith("-synthetic")
    assert set(tb_tags(runs[0])["images"]) == {"Epoch: 0", "Epoch: 1"}
    assert "tensorboard --logdir" in out
