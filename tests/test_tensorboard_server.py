"""A real TensorBoard server over the logs of a quick tour: what each lesson logs is what TensorBoard shows. The server
is the `tensorboard` command, as a learner starts it; all is read back through the HTTP API the browser page uses."""
import json
import math
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import events
from conftest_tour import tour  # noqa: F401  (a fixture)
from cli.catalog import LESSONS


# Tags promised by name in the issues (the course's own names): IMAGES, and SCALARS below.
PROMISED_TAGS = {stem: {"images": tags} for stem, tags in {
    "p07_read_data": {"train_dataset"}, "p09_tensorboard_image": {"train", "train_tensor"},
    "p10_transforms_totensor": {"Tensor_img"}, "p11_transforms_dataset": {"train_data"},
    "p12_transforms_normalize": {"ToTensor", "Normalize", "Resize"}, "p13_transforms_compose": {"Resize", "RandomCrop"},
    "p14_dataset_transform": {"test_set"}, "p15_dataloader": {"Epoch: 0", "Epoch: 1"},  # two epochs of batches
    "p18_nn_conv2d": {"input", "output"}, "p19_nn_maxpool": {"input", "output"}, "p20_nn_relu": {"input", "output"},
    "p27_train": {"confusion_matrix", "test_predictions"}}.items()}
TRAINING = {"train_loss", "test_loss", "test_accuracy"}
PROMISED_TAGS["p27_train"]["scalars"] = TRAINING
PROMISED_TAGS.update(p08_tensorboard_scalar={"scalars": {"y=2x"}}, p30_train_gpu_1={"scalars": TRAINING},
                     p31_train_gpu_2={"scalars": TRAINING})
# The README's scalar tag scheme: the course's names for its curves, lower_snake_case ("group/name" too) for the rest
COURSE_SCALARS = {"train_loss", "test_loss", "test_accuracy", "learning_rate", "y=2x"}  # y=2x: P8's own tag
SNAKE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
# words that would give a second name to one of the course's curves: lr, acc, val_loss, loss, accuracy ...
AMBIGUOUS = {"acc", "lr", "val", "valid", "validation", "training", "testing", "eval"}
KINDS = ("scalars", "images", "histograms", "text", "graphs")


@dataclass
class TensorBoard:
    url: str

    def json(self, path, data=None, **params):
        """GET path?params (POST `data` as JSON), the answer read as JSON; raw=True in params: the bytes."""
        raw, query = params.pop("raw", False), f"?{urllib.parse.urlencode(params)}" if params else ""
        request = urllib.request.Request(f"{self.url}{path}{query}", headers={"Content-Type": "application/json"},
                                         data=None if data is None else json.dumps(data).encode())
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read() if raw else json.loads(response.read())

    def tags_served(self):
        """{kind: {run: set of tags}} for the kinds the lessons use, as the dashboards list them."""
        tags = {kind: {run: set(t) for run, t in self.json(f"/data/plugin/{kind}/tags").items()} for kind in KINDS[:4]}
        tags["graphs"] = {run: {"graph"} for run, info in self.json("/data/plugin/graphs/info").items()
                          if info.get("run_graph")}
        return tags


def on_disk(logdir):
    """(runs, {kind: {run: set of tags}}) read straight from the event files, runs named as TensorBoard names them."""
    found = {}  # {run: {kind: tags}}
    for run_dir in sorted({p.parent for p in Path(logdir).rglob("events.out.tfevents.*")}):
        board = events(run_dir)
        tags = board.tags()
        text = {t.removesuffix("/text_summary") + "/text_summary" for t in tags["tensors"]
                if board.acc.SummaryMetadata(t).plugin_data.plugin_name == "text"}
        found[run_dir.relative_to(logdir).as_posix()] = dict(tags, text=text, graphs=["graph"] * tags["graph"])
    return list(found), {kind: {run: set(f[kind]) for run, f in found.items() if f[kind]} for kind in KINDS}


@pytest.fixture(scope="module")
def served(tour, tmp_path_factory):  # noqa: F811
    """A TensorBoard server over the tour's logs, once it has loaded every run and tag that the event files hold:
    .runs and .tags as it serves them, .missing: what the files hold that it does not serve."""
    with socket.socket() as s:  # a free port
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("tensorboard") / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "tensorboard.main", "--logdir", str(tour.logdir),
                                 "--port", str(port), "--host", "127.0.0.1"], stdout=out, stderr=subprocess.STDOUT)
    try:
        tb, deadline = TensorBoard(f"http://127.0.0.1:{port}"), time.monotonic() + 120
        runs_on_disk, tags_on_disk = on_disk(tour.logdir)
        while True:  # TensorBoard starts, then loads the files in the background: wait until it has caught up
            try:
                tb.runs, tb.tags = tb.json("/data/runs"), tb.tags_served()
                tb.missing = sorted(set(runs_on_disk) - set(tb.runs)) + [
                    f"{kind} of {run}: {sorted(lost)}" for kind, by_run in tags_on_disk.items()
                    for run, wanted in by_run.items() if (lost := wanted - tb.tags[kind].get(run, set()))]
                if not tb.missing or time.monotonic() > deadline:
                    break
            except OSError:  # not answering yet (urllib.error.URLError included)
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"TensorBoard did not answer (exit {proc.poll()}):\n{log.read_text(errors='replace')}")
            time.sleep(0.25)
        yield tb
    finally:  # stopped even when a test (or the start) failed
        proc.kill()
        proc.wait()


def lesson_tags(served, lesson, kind):
    """(tag, run) pairs of one kind over a lesson's runs (an add_hparams sub-run included)."""
    mine = [r for r in served.runs if r.split("/")[0] == Path(lesson.script).stem]
    return [(tag, run) for run in mine for tag in sorted(served.tags[kind].get(run, ()))]


def test_server_shows_every_run_and_tag_in_the_event_files(served):
    assert not served.missing


@pytest.mark.parametrize("lesson", LESSONS, ids=[Path(x.script).stem for x in LESSONS])
def test_lesson_is_listed_and_serves_what_it_promises(served, lesson):
    stem = Path(lesson.script).stem
    assert any(r.split("/")[0] == stem for r in served.runs), f"no run of {lesson.script}: {served.runs}"
    promised = PROMISED_TAGS.get(stem, {})
    tabs = {w.lower() for w in re.findall(r"\b([A-Z]+)(?=:)", lesson.shows)} & set(KINDS)  # "IMAGES: .." -> images
    for kind in tabs | set(promised):
        found = lesson_tags(served, lesson, kind)
        assert found, f"{lesson.script} promises {kind.upper()} ({lesson.shows!r}): TensorBoard has none"
        assert promised.get(kind, set()) <= {tag for tag, _ in found}, f"{lesson.script}: {kind} promised"
        for tag, run in found:  # fetch the promised tags, or else the first one
            if tag in promised.get(kind, ()) or (tag, run) == found[0]:
                check_served(served, kind, run, tag)


def check_served(tb, kind, run, tag):
    """Fetch one tag's data the way the dashboard does, and check it is real data of its kind."""
    if kind == "scalars":
        points = tb.json("/data/plugin/scalars/scalars", run=run, tag=tag)  # [[wall_time, step, value], ...]
        assert points and all(math.isfinite(value) for _, _, value in points), (run, tag, points)
    elif kind == "images":
        samples = tb.json("/data/plugin/images/images", run=run, tag=tag, sample=0)
        picture = tb.json("/data/plugin/images/individualImage?" + samples[-1]["query"], raw=True)
        assert picture.startswith(b"\x89PNG\r\n\x1a\n"), (run, tag)
    elif kind == "histograms":  # [[wall_time, step, [[left, right, count], ...]], ...]: the last one's buckets
        assert tb.json("/data/plugin/histograms/histograms", run=run, tag=tag)[-1][2], (run, tag)
    elif kind == "graphs":
        graph = tb.json("/data/plugin/graphs/graph", run=run, conceptual="false", raw=True).decode()
        assert re.search(r'op: "aten::(_convolution|linear|addmm)"', graph), graph[:500]
    elif kind == "text":
        assert tb.json("/data/plugin/text/text", run=run, tag=tag)[-1]["text"].strip(), (run, tag)


def test_p27_accuracy_is_a_fraction_per_epoch_and_its_hyperparameters_are_served(served):
    p27 = next(x for x in LESSONS if x.script == "p27_train.py")
    (run,) = [r for t, r in lesson_tags(served, p27, "scalars") if t == "test_accuracy"][:1]
    points = served.json("/data/plugin/scalars/scalars", run=run, tag="test_accuracy")
    assert [step for _, step, _ in points] == sorted({step for _, step, _ in points})  # one point per epoch
    assert all(0.0 <= value <= 1.0 for _, _, value in points), points  # a fraction, not a count or a tensor
    experiment = served.json("/data/plugin/hparams/experiment", data={"experimentName": ""})
    assert {"lr", "batch_size", "epochs"} <= {h["name"] for h in experiment["hparamInfos"]}
    assert any(m["name"]["tag"].endswith("test_accuracy") for m in experiment["metricInfos"])


def scheme_problem(tag):
    """Why a scalar tag breaks the README's one scheme, or None."""
    if tag in COURSE_SCALARS:  # the course's own names, as it writes them
        return None
    words = set(re.split(r"[_/]", tag))
    if not all(SNAKE.fullmatch(part) for part in tag.split("/")):  # "group/name" groups cards: allowed
        return "not lower_snake_case"
    if tag.split("/")[-1] in ("loss", "accuracy") or AMBIGUOUS & words:
        return f"a second name for one of the course's curves {sorted(COURSE_SCALARS)}"
    if {"learning", "rate"} & words and not tag.endswith("learning_rate"):
        return "the learning rate is learning_rate"
    return None


def test_every_scalar_tag_follows_the_one_scheme(served):
    """The check itself first: these pass, those do not. Then every scalar tag the lessons log."""
    good = ["train_loss", "test_accuracy", "learning_rate", "l1_loss", "per_class_accuracy/horizontal_stripes",
            "hparam/test_accuracy", "y=2x"]
    bad = ["Loss", "train/loss", "loss", "lr", "val_loss", "test_acc", "testAccuracy", "rate", "per class/cat"]
    assert [scheme_problem(t) is None for t in good + bad] == [True] * len(good) + [False] * len(bad)
    wrong = {f"{tag!r} in {run}: {scheme_problem(tag)}" for run, names in served.tags["scalars"].items()
             for tag in names if scheme_problem(tag)}
    assert not wrong, "\n".join(sorted(wrong))


def test_rerunning_a_lesson_adds_a_run_and_leaves_the_old_one_alone(run_lesson):
    def points(run):  # {tag: [(step, value), ...]}
        return {tag: events(run).scalars(tag) for tag in events(run).tags("scalars")}

    (old,) = run_lesson("p23_nn_loss", quick=False, dataset=None).runs
    before = points(old)
    assert before, "p23_nn_loss logs no scalars any more: pick another lesson for this test"
    runs = run_lesson("p23_nn_loss", quick=False, dataset=None).runs  # the same second: the folder gets a suffix
    (new,) = set(runs) - {old}
    assert len(runs) == 2 and points(old) == before  # not one point added to the old run
    assert {tag: [s for s, _ in p] for tag, p in points(new).items()} == \
           {tag: [s for s, _ in p] for tag, p in before.items()}  # a whole run of its own
