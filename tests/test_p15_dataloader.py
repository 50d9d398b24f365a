import re

from conftest import events


def test_loader_parameters_each_show_an_effect(run_lesson):
    from kit.datasets import subset
    from kit import synthetic
    from kit.synthetic import SyntheticCIFAR10

    r = run_lesson("p15_dataloader")
    _, target = subset(SyntheticCIFAR10(512, seed=1), 500)[0]  # --quick: 500 of the 512 synthetic test images
    assert f"torch.Size([3, 32, 32])\n{target}\n{synthetic.NAMES[target]}\n" in r.out
    # batch_size and shuffle: both epochs give batches of 64, in a different order
    firsts = re.findall(r"epoch (\d), step 0: imgs \(64, 3, 32, 32\), targets \(64,\), first targets (\[.*\])", r.out)
    assert [epoch for epoch, _ in firsts] == ["0", "1"] and firsts[0][1] != firsts[1][1]
    # drop_last: (count, batch_size, drop_last, batches, size of the last), the note's 100 cards, then 500 images
    deals = re.findall(r"(\d+) \w+, batch_size=(\d+), drop_last=(\w+): (\d+) batches, the last has (\d+)", r.out)
    assert deals == [("100", "3", "False", "34", "1"), ("100", "3", "True", "33", "3"),
                     ("500", "64", "False", "8", "52"), ("500", "64", "True", "7", "64")]
    # num_workers: the same 3 batches loaded both ways
    assert re.findall(r"num_workers=(\d): (\d+) batches in \d+\.\d\d s", r.out) == [("0", "3"), ("2", "3")]

    (run,) = r.runs
    assert run.name.endswith("-synthetic")
    board = events(run)
    assert set(board.tags("images")) == {"Epoch: 0", "Epoch: 1"}
    assert [step for step, *_ in board.images("Epoch: 1")] == [0, 1, 2]  # --quick: 3 batches an epoch


def test_a_nonsense_count_is_refused_by_argparse(run_lesson):
    r = run_lesson("p15_dataloader", "--steps", "0", expect=2)
    assert "argument --steps: must be from 1" in r.err and not r.runs
