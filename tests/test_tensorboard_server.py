"""A real TensorBoard server over the logs of a quick tour: what each lesson logs is what TensorBoard shows.

The server is the `tensorboard` package's own command, as a learner starts it, on a free loopback
port. Everything is read back through its HTTP API, the same one the browser page uses.
"""
import json
import math
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest_tour import tour  # noqa: F401  (a fixture)
from kit.catalog import LESSONS

# What the catalog's "what to look at" promises, by TensorBoard tab: IMAGES, SCALARS, GRAPHS, ...
TABS = {"IMAGES": "images", "SCALARS": "scalars", "GRAPHS": "graphs", "HISTOGRAMS": "histograms", "TEXT": "text"}
# Tags promised by name in the issues (the course's own names).
PROMISED_TAGS = {
    "p07_read_data": {"images": {"train_dataset"}},
    "p08_tensorboard_scalar": {"scalars": {"y=2x"}},  # the course's tag, in this run and in its same_folder run
    "p09_tensorboard_image": {"images": {"train", "train_tensor"}},
    "p10_transforms_totensor": {"images": {"Tensor_img"}},
    "p11_transforms_dataset": {"images": {"train_data"}},
    "p12_transforms_normalize": {"images": {"ToTensor", "Normalize", "Resize"}},
    "p13_transforms_compose": {"images": {"Resize", "RandomCrop"}},
    "p14_dataset_transform": {"images": {"test_set"}},
    "p15_dataloader": {"images": {"Epoch: 0", "Epoch: 1"}},  # the course's tags: two epochs of batches
    "p18_nn_conv2d": {"images": {"input", "output"}},
    "p19_nn_maxpool": {"images": {"input", "output"}},
    "p20_nn_relu": {"images": {"input", "output"}},
    "p27_train": {"scalars": {"train_loss", "test_loss", "test_accuracy"},
                  "images": {"confusion_matrix", "test_predictions"}},
    "p30_train_gpu_1": {"scalars": {"train_loss", "test_loss", "test_accuracy"}},
    "p31_train_gpu_2": {"scalars": {"train_loss", "test_loss", "test_accuracy"}},
}
# The scalar tag scheme (README): the course's names for the course's curves, lower_snake_case for the rest
# ("group/name" allowed: TensorBoard shows a group's cards together, e.g. per_class_accuracy/cat).
COURSE_SCALARS = {"train_loss", "test_loss", "test_accuracy", "learning_rate", "y=2x"}  # y=2x: P8's own tag
SNAKE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
# words that would give a second name to one of the course's curves: lr, acc, val_loss, loss, accuracy ...
AMBIGUOUS = {"acc", "lr", "val", "valid", "validation", "training", "testing", "eval"}
PNG = b"\x89PNG\r\n\x1a\n"


def promised_tabs(lesson):
    words = set(re.findall(r"\b([A-Z]+)(?=[:/])", lesson.shows))  # "TEXT/IMAGES: ..." -> {"TEXT", "IMAGES"}
    return {TABS[w] for w in words if w in TABS}


# ---------------------------------------------------------------- the server

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TensorBoard:
    def __init__(self, url, proc, log):
        self.url, self.proc, self.log = url, proc, log

    def get(self, path, **params):
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.url}{path}{query}", timeout=30) as response:
            return response.read()

    def json(self, path, **params):
        return json.loads(self.get(path, **params))

    def tags(self):
        """{kind: {run: set of tags}} for the kinds the lessons use, as the dashboards list them."""
        tags = {kind: {run: set(t) for run, t in self.json(f"/data/plugin/{kind}/tags").items()}
                for kind in ("scalars", "images", "histograms", "text")}
        tags["graphs"] = {run: {"graph"} for run, info in self.json("/data/plugin/graphs/info").items()
                          if info.get("run_graph")}
        return tags


@pytest.fixture(scope="module")
def tensorboard(tour, tmp_path_factory):  # noqa: F811
    port = free_port()
    log = tmp_path_factory.mktemp("tensorboard") / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "tensorboard.main", "--logdir", str(tour.logdir),
                                 "--port", str(port), "--host", "127.0.0.1"], stdout=out, stderr=subprocess.STDOUT)
    try:
        server = TensorBoard(f"http://127.0.0.1:{port}", proc, log)
        deadline = time.monotonic() + 90
        while True:
            try:
                server.json("/data/runs")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"TensorBoard did not answer (exit {proc.poll()}):\n{log.read_text(errors='replace')}")
                time.sleep(0.25)
        yield server
    finally:  # stopped even when a test (or the start) failed
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def on_disk(logdir):
    """{kind: {run: set of tags}} read straight from the event files, run names as TensorBoard makes them."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags = {kind: {} for kind in ("scalars", "images", "histograms", "text", "graphs")}
    runs = sorted({p.parent for p in Path(logdir).rglob("events.out.tfevents.*")})
    for run_dir in runs:
        run = run_dir.relative_to(logdir).as_posix()
        acc = EventAccumulator(str(run_dir), size_guidance={"images": 1, "histograms": 1, "scalars": 1, "tensors": 1})
        acc.Reload()
        found = acc.Tags()
        for kind in ("scalars", "images", "histograms"):
            if found[kind]:
                tags[kind][run] = set(found[kind])
        text = {t for t in found["tensors"] if acc.SummaryMetadata(t).plugin_data.plugin_name == "text"}
        if text:
            tags["text"][run] = {f"{t}/text_summary" if not t.endswith("/text_summary") else t for t in text}
        if found["graph"]:
            tags["graphs"][run] = {"graph"}
    return [r.relative_to(logdir).as_posix() for r in runs], tags


@pytest.fixture(scope="module")
def served(tensorboard, tour):  # noqa: F811
    """(runs, tags) once the server has loaded every run and tag that the event files hold."""
    runs_on_disk, tags_on_disk = on_disk(tour.logdir)
    deadline = time.monotonic() + 60
    while True:  # TensorBoard loads in the background: wait until it has caught up
        runs, tags = tensorboard.json("/data/runs"), tensorboard.tags()
        complete = set(runs_on_disk) <= set(runs) and all(
            tags[kind].get(run, set()) >= wanted for kind in tags_on_disk for run, wanted in tags_on_disk[kind].items())
        if complete or time.monotonic() > deadline:
            return runs, tags, runs_on_disk, tags_on_disk
        time.sleep(0.5)


def lesson_runs(runs, lesson):
    stem = Path(lesson.script).stem
    return [r for r in runs if r.split("/")[0] == stem]


def lesson_tags(tags, runs, kind):
    """(tag, run) pairs of one kind over a lesson's runs (an add_hparams sub-run included)."""
    return [(tag, run) for run in runs for tag in sorted(tags[kind].get(run, ()))]


# ---------------------------------------------------------------- the tests

def test_server_shows_every_run_and_tag_in_the_event_files(served):
    runs, tags, runs_on_disk, tags_on_disk = served
    assert set(runs_on_disk) <= set(runs)
    for kind, by_run in tags_on_disk.items():
        for run, wanted in by_run.items():
            assert tags[kind].get(run, set()) >= wanted, f"{kind} of {run}: served {tags[kind].get(run)}"


@pytest.mark.parametrize("lesson", LESSONS, ids=[Path(x.script).stem for x in LESSONS])
def test_lesson_is_listed_and_serves_what_it_promises(served, tensorboard, lesson):
    runs, tags, *_ = served
    mine = lesson_runs(runs, lesson)
    assert mine, f"no run of {lesson.script} in TensorBoard: {runs}"
    promised = PROMISED_TAGS.get(Path(lesson.script).stem, {})
    kinds = [{kind} for kind in promised_tabs(lesson) | set(promised)]
    if {"text"} in kinds and {"images"} in kinds:  # "TEXT/IMAGES: the matrices": either will do
        kinds = [k for k in kinds if k not in ({"text"}, {"images"})] + [{"text", "images"}]
    for either in kinds:
        found = [(kind, tag, run) for kind in sorted(either) for tag, run in lesson_tags(tags, mine, kind)]
        assert found, f"{lesson.script} promises {'/'.join(sorted(either)).upper()} ({lesson.shows!r}), " \
                      "TensorBoard has none"
        for kind in either & set(promised):
            assert promised[kind] <= {tag for k, tag, _ in found if k == kind}, \
                f"{lesson.script}: {kind} {sorted(promised[kind])} promised"
        for kind, tag, run in found:  # fetch the promised tags, or else the first one
            if tag in promised.get(kind, ()) or (kind, tag, run) == found[0]:
                check_served(tensorboard, kind, run, tag)


def check_served(tb, kind, run, tag):
    """Fetch one tag's data the way the dashboard does, and check it is real data of its kind."""
    if kind == "scalars":
        points = tb.json("/data/plugin/scalars/scalars", run=run, tag=tag)  # [[wall_time, step, value], ...]
        assert points and all(math.isfinite(value) for _, _, value in points), (run, tag, points)
    elif kind == "images":
        samples = tb.json("/data/plugin/images/images", run=run, tag=tag, sample=0)
        assert samples, (run, tag)
        picture = tb.get("/data/plugin/images/individualImage?" + samples[-1]["query"])
        assert picture.startswith(PNG), (run, tag)
    elif kind == "histograms":
        buckets = tb.json("/data/plugin/histograms/histograms", run=run, tag=tag)
        assert buckets and buckets[-1][2], (run, tag)  # [wall_time, step, [[left, right, count], ...]]
    elif kind == "graphs":
        graph = tb.get("/data/plugin/graphs/graph", run=run, conceptual="false").decode()
        assert re.search(r'op: "aten::(_convolution|linear|addmm)"', graph), graph[:500]
    elif kind == "text":
        text = tb.json("/data/plugin/text/text", run=run, tag=tag)
        assert text and text[-1]["text"].strip(), (run, tag)


def test_p27_accuracy_is_a_fraction_per_epoch(served, tensorboard):
    runs, tags, *_ = served
    lesson = next(x for x in LESSONS if x.script == "p27_train.py")
    (run,) = [r for t, r in lesson_tags(tags, lesson_runs(runs, lesson), "scalars") if t == "test_accuracy"][:1]
    points = tensorboard.json("/data/plugin/scalars/scalars", run=run, tag="test_accuracy")
    assert [step for _, step, _ in points] == sorted({step for _, step, _ in points})  # one point per epoch
    assert all(0.0 <= value <= 1.0 for _, _, value in points), points  # a fraction, not a count or a tensor


def test_p27_hyperparameters_are_served(served, tensorboard):
    runs, *_ = served
    lesson = next(x for x in LESSONS if x.script == "p27_train.py")
    assert lesson_runs(runs, lesson)
    request = urllib.request.Request(f"{tensorboard.url}/data/plugin/hparams/experiment",
                                     data=json.dumps({"experimentName": ""}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        experiment = json.loads(response.read())
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


@pytest.mark.parametrize("tag, ok", [
    ("train_loss", True), ("test_accuracy", True), ("learning_rate", True), ("l1_loss", True),
    ("per_class_accuracy/horizontal_stripes", True), ("hparam/test_accuracy", True), ("y=2x", True),
    ("Loss", False), ("train/loss", False), ("loss", False), ("lr", False), ("val_loss", False),
    ("test_acc", False), ("testAccuracy", False), ("rate", False), ("per class/cat", False)])
def test_the_scheme_check_itself(tag, ok):
    assert (scheme_problem(tag) is None) == ok


def test_every_scalar_tag_follows_the_one_scheme(served):
    runs, tags, *_ = served
    wrong = {f"{tag!r} in {run}: {scheme_problem(tag)}" for run, names in tags["scalars"].items()
             for tag in names if scheme_problem(tag)}
    assert not wrong, "\n".join(sorted(wrong))


def test_rerunning_a_lesson_adds_a_run_and_leaves_the_old_one_alone(run_lesson, tmp_path):
    from conftest import tb_scalars, tb_tags

    _, first = run_lesson("p23_nn_loss", dataset=None)
    (old,) = first
    old_points = {tag: tb_scalars(old, tag) for tag in tb_tags(old)["scalars"]}
    assert old_points, "p23_nn_loss logs no scalars any more: pick another lesson for this test"
    _, second = run_lesson("p23_nn_loss", dataset=None)  # the same second: the folder gets a suffix
    assert len(second) == 2 and old in second
    (new,) = [r for r in second if r != old]
    assert {tag: tb_scalars(old, tag) for tag in old_points} == old_points  # not one point added
    new_points = {tag: tb_scalars(new, tag) for tag in tb_tags(new)["scalars"]}
    assert {tag: [s for s, _ in pts] for tag, pts in new_points.items()} == \
           {tag: [s for s, _ in pts] for tag, pts in old_points.items()}  # a whole run of its own
