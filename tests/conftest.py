"""Shared test helpers. pytest.ini puts lessons/ on the path, so the tests import the lessons and
their helpers as the lessons themselves do: `import p27_train`, `from kit import checkpoint`."""
import importlib
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# for Python processes a test starts itself (`python -c ...`), the same path as pytest.ini's
CHILD_ENV = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "lessons"), os.environ.get("PYTHONPATH", "")]))


@pytest.fixture
def run_lesson(tmp_path, capsys):
    """run_lesson("p18_nn_conv2d", "--steps", "2") -> (stdout, [run dirs]); quick, synthetic, logs in tmp."""

    def run(name, *args, quick=True, dataset="synthetic"):
        module = importlib.import_module(name)
        argv = ["--logdir", str(tmp_path / "logs"), *args]
        if quick:
            argv.append("--quick")
        if dataset:
            argv += ["--dataset", dataset]
        module.main(argv)
        out = capsys.readouterr().out
        runs = sorted(p for p in (tmp_path / "logs").glob(f"{name}/*") if p.is_dir())
        return out, runs

    return run


def tb_tags(run_dir):
    """Every tag in a run's event files, by kind: {'scalars': [...], 'images': [...], ...}."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir), size_guidance={"images": 0, "scalars": 0, "histograms": 0, "tensors": 0})
    acc.Reload()
    return acc.Tags()


def tb_images(run_dir, tag):
    """[(step, width, height, png bytes), ...] of one image tag."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir), size_guidance={"images": 0})
    acc.Reload()
    return [(e.step, e.width, e.height, e.encoded_image_string) for e in acc.Images(tag)]


def tb_scalars(run_dir, tag):
    """[(step, value), ...] of one scalar tag."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    return [(e.step, e.value) for e in acc.Scalars(tag)]
