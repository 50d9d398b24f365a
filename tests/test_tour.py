"""`python -m lessons`: the list, the catalog, `run`, and the tour (fake lessons for the failure cases,
the real quick tour of every lesson for the rest)."""
import importlib
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from conftest_tour import REPO, help_flags, tour  # noqa: F401  (tour is a fixture)

import lessons.__main__ as cli
from cli import tour as tour_module
from cli.catalog import DATA, LESSONS, LOADS, QD, SAVES, Lesson

TOUR_FLAGS = ("--quick", "--device", "--dataset", "--data-root", "--checkpoint-dir", "--checkpoint")


def lessons_cli(*args, cwd=REPO):
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, encoding="utf-8",
                          timeout=120)


def statuses(out):
    """[(P, script, status), ...] from the tour's one line per lesson."""
    return re.findall(r"^(P\d+) +(\S+\.py) +\d+\.\d s  (.*)$", out, flags=re.M)


def named_folder(out):  # the folder in the tour's last line, `TensorBoard: tensorboard --logdir "..."   then ...`
    return Path(re.match(r'TensorBoard: tensorboard --logdir "(.+?)" ', out.rstrip().splitlines()[-1])[1])


def test_list_shows_every_lesson_from_anywhere_without_torch_and_run_passes_a_real_lesson_its_flags(tmp_path):
    out = lessons_cli("-m", "lessons").stdout
    for lesson in LESSONS:
        assert re.search(rf"^{lesson.p} +{re.escape(lesson.heading)} +{re.escape(lesson.title)}\n"
                         rf" +lessons/{re.escape(lesson.script)}\n +{re.escape(lesson.shows)}$", out, flags=re.M), out
    assert "python -m lessons tour --quick" in out
    proc = lessons_cli("-X", "importtime", str(REPO / "lessons"), "list", "--lang", "en", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout == out
    assert not re.search(r"\| +torch$", proc.stderr, flags=re.M)  # the list and the tour start at once
    proc = lessons_cli("-m", "lessons", "run", "16", "--", "--logdir", str(tmp_path / "logs"))
    assert proc.returncode == 0 and len(list((tmp_path / "logs" / "p16_nn_module").iterdir())) == 1, proc.stderr


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda x: x.script)
def test_the_catalog_names_the_tour_flags_each_lesson_takes(lesson):
    """The tour passes --quick, --dataset, ... only where the catalog says so: check it against --help."""
    accepted = help_flags(lesson.script)
    assert {f for f in TOUR_FLAGS if f in accepted} == set(lesson.flags) and {"--logdir", "--lang"} <= accepted


def test_no_module_is_loaded_under_two_names_and_the_tour_knows_the_fallback_words():
    """Every lesson imports the helpers as `kit.<name>` and the model as `model`, never as `lessons.kit...`."""
    from kit import datasets
    assert tour_module.SYNTHETIC_FALLBACK == datasets.SYNTHETIC_FALLBACK  # the tour looks for them in the output
    for lesson in LESSONS:
        importlib.import_module(lesson.script.removesuffix(".py"))
    files = {}
    for name, module in list(sys.modules.items()):
        path = Path(getattr(module, "__file__", None) or "/").resolve()
        if path.is_relative_to(REPO / "lessons"):
            assert files.setdefault(path, name) == name, f"{path} loaded as {name} and {files[path]}"
    assert "cli.tour" in sys.modules and not any(n.startswith("lessons.kit") for n in sys.modules)


FAKE = '''import json, os, sys, time
from pathlib import Path
argv = sys.argv[1:]
def flag(name):
    return argv[argv.index(name) + 1] if name in argv else None
with open(os.environ["FAKE_RECORD"], "a") as f:
    f.write(json.dumps([Path(__file__).name, argv, time.time()]) + "\\n")
'''


class Fakes:
    """fakes({"p90_x.py": body}, flags) -> catalog rows of scripts in tmp; .tour(rows, ...), .run(rows, ...), .ran()"""

    def __init__(self, tmp_path, monkeypatch):
        self.dir, self.record = tmp_path, tmp_path / "record.jsonl"
        monkeypatch.setenv("FAKE_RECORD", str(self.record))

    def __call__(self, bodies, flags=None):
        for script, body in bodies.items():
            (self.dir / script).write_text(FAKE + body, encoding="utf-8")
        return [Lesson(f"P{int(s[1:3])}", "标题", f"Fake {s}", s, "nothing", (flags or {}).get(s, ())) for s in bodies]

    def tour(self, rows, *argv):  # a --logdir in argv comes later: it wins
        return cli.main(["tour", "--logdir", str(self.dir / "logs"), *argv], lessons=rows, lessons_dir=self.dir)

    def run(self, rows, *argv):
        return cli.main(["run", *argv], lessons=rows, lessons_dir=self.dir)

    def ran(self):
        """[(script, argv, start time), ...] of every fake that ran."""
        return [json.loads(line) for line in self.record.read_text().splitlines()] if self.record.exists() else []


@pytest.fixture
def fakes(tmp_path, monkeypatch):
    return Fakes(tmp_path, monkeypatch)


def test_failing_hung_or_missing_lessons_fail_their_line_only_and_each_tour_has_a_folder_of_its_own(fakes, capsys):
    rows = fakes({"p90_first.py": "print('first ran'); Path(flag('--logdir'), 'p90_first', 'run').mkdir(parents=True)",
                  "p91_broken.py": "print('about to fail'); sys.exit('error: something clear went wrong')",
                  "p92_hangs.py": "time.sleep(60)", "p93_after.py": "print('still ran')"})
    rows.append(Lesson("P94", "标题", "Not written", "p94_missing.py", "nothing"))
    logdir = fakes.dir / "my logs"
    assert fakes.tour(rows, "--quick", "--logdir", str(logdir), "--jobs", "2", "--timeout", "1") == 1
    out = capsys.readouterr().out
    assert sorted(name for name, _, _ in fakes.ran()) == [x.script for x in rows[:4]]
    assert statuses(out) == [("P90", "p90_first.py", "ok"), ("P91", "p91_broken.py", "FAILED (exit 1)"),
                             ("P92", "p92_hangs.py", "FAILED (timed out after 1 s)"), ("P93", "p93_after.py", "ok"),
                             ("P94", "p94_missing.py", "FAILED (script not found)")]  # in course order
    assert "       | error: something clear went wrong" in out.splitlines()  # the failing lesson's own words
    assert "first ran" not in out  # a passing lesson's output stays quiet
    rerun = [line.split("rerun: ")[1] for line in out.splitlines() if "rerun: " in line][0]
    assert shlex.split(rerun) == ["python", str(fakes.dir / "p91_broken.py"), "--logdir", str(named_folder(out))]
    assert re.search(r"^(\d+) of (\d+) lessons ok, (\d+) failed \(([^)]*)\)", out, re.M).groups() == \
        ("2", "5", "3", "p91_broken.py, p92_hangs.py, p94_missing.py")
    # the next tour (here in the same second: -2) names a folder of its own, as TensorBoard ticks no run past 40
    assert fakes.tour(rows[:1], "--quick", "--logdir", str(logdir)) == 0
    first, second = named_folder(out), named_folder(capsys.readouterr().out)
    assert first != second and first.parent == second.parent == (logdir / "tour").resolve()
    assert [p.relative_to(first).as_posix() for p in first.glob("*/*")] == ["p90_first/run"]


def test_the_tour_passes_each_lesson_only_the_flags_the_catalog_names_and_says_which_data(fakes, capsys):
    names = ["p90_data.py", "p91_quick.py", "p92_ants.py", "p93_saves.py", "p94_loads.py", "p95_both.py"]
    rows = fakes(dict.fromkeys(names, ""), flags=dict(zip(names, [
        QD + DATA, ("--quick",), ("--data-root",), SAVES, LOADS, SAVES + LOADS])))
    ck, data = fakes.dir / "ck", fakes.dir / "data"
    (data / "cifar-10-batches-py").mkdir(parents=True)
    assert fakes.tour(rows, "--quick", "--dataset", "cifar10", "--data-root", str(data), "--device", "cpu",
                      "--checkpoint-dir", str(ck)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"Data: CIFAR-10 from {data}" in lines and f"Data used: CIFAR-10 from {data}" in lines
    assert any(re.match(r"6 of 6 lessons ok in \d+ s", line) for line in lines)
    assert {name: argv[2:] for name, argv, _ in fakes.ran()} == {
        "p90_data.py": ["--quick", "--device", "cpu", "--dataset", "cifar10", "--data-root", str(data)],
        "p91_quick.py": ["--quick"],
        "p92_ants.py": [],  # --data-root goes with --dataset: P7 and P11's root is one of ants and bees
        "p93_saves.py": ["--checkpoint-dir", str(ck / "p93")],  # a folder per P number, as the lessons' defaults
        "p94_loads.py": ["--checkpoint", str(ck)],  # P32: it finds the newest best.pth there itself
        "p95_both.py": ["--checkpoint-dir", str(ck / "p95")]}  # P26's load reads what P26's save wrote
    assert {tuple(argv[:2]) for _, argv, _ in fakes.ran()} == {("--logdir", str(named_folder(lines[-1])))}


def test_a_lesson_that_needs_another_waits_for_it(fakes, capsys):
    rows = fakes({"p26_model_save.py": "time.sleep(1.0); Path(flag('--checkpoint-dir')).mkdir(parents=True); "
                                       "(Path(flag('--checkpoint-dir')) / 'tudui.pth').write_text('w')\n",
                  "p26_model_load.py": "print((Path(flag('--checkpoint-dir')) / 'tudui.pth').read_text())\n",
                  "p27_other.py": "pass"}, flags={"p26_model_save.py": SAVES, "p26_model_load.py": SAVES})
    assert fakes.tour(rows, "--quick", "--jobs", "2", "--checkpoint-dir", str(fakes.dir / "ck")) == 0, \
        capsys.readouterr().out
    started = {name: t for name, _, t in fakes.ran()}
    assert started["p27_other.py"] < started["p26_model_load.py"]  # the free slot went to the next lesson
    assert started["p26_model_load.py"] - started["p26_model_save.py"] >= 1.0


def test_run_by_number_or_name_stops_at_the_first_failure_and_passes_the_lessons_flags(fakes, capfd):
    rows = fakes({"p23_nn_loss.py": "print('loss'); sys.exit(int(flag('--code') or 0))",
                  "p23_nn_loss_network.py": "print('network')", "p24_x.py": "pass"})
    argvs = [["23", "--", "--epochs", "3"], ["p23_nn_loss_network.py"], ["P23", "--code", "3"], ["28"]]
    assert [fakes.run(rows, *argv) for argv in argvs] == [0, 0, 3, 2]
    assert [(name, argv) for name, argv, _ in fakes.ran()] == [
        ("p23_nn_loss.py", ["--epochs", "3"]), ("p23_nn_loss_network.py", ["--epochs", "3"]),
        ("p23_nn_loss_network.py", []), ("p23_nn_loss.py", ["--code", "3"])]
    out, err = capfd.readouterr()
    assert out.index("loss") < out.index("network") and "error: no lesson '28'" in err


def test_the_tour_shows_progress_at_once_says_which_data_and_an_absolute_logdir(fakes, monkeypatch, capsys):
    rows = fakes({"p90_data.py": "print('warning: CIFAR-10 is not in data and could not be downloaded (offline); "
                                 f"{tour_module.SYNTHETIC_FALLBACK} (runs marked -synthetic)'); time.sleep(1)",
                  "p91_nodata.py": "time.sleep(1)"}, flags={"p90_data.py": DATA})
    monkeypatch.chdir(fakes.dir)
    assert fakes.tour(rows, "--quick", "--jobs", "2", "--logdir", "logs", "--data-root", "no-cifar-here") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"Touring 2 lessons, quick mode, 2 at a time; logs in {named_folder(lines[-1])}"
    assert lines[1] == ("Data: CIFAR-10 is not in no-cifar-here: the first lesson downloads it (170 MB); without a "
                        "network every lesson uses the built-in synthetic shapes instead")
    # named as soon as they start, before either ends (each takes a second)
    assert lines[2] == "     ... running P90 p90_data.py, P91 p91_nodata.py (a line for each as it ends)"
    assert [line.split()[0] for line in lines[3:5]] == ["P90", "P91"]
    assert lines[-2] == ("Data used: the synthetic shapes, not CIFAR-10, in 1 lesson (P90): CIFAR-10 is not in "
                         "no-cifar-here and could not be downloaded (their TensorBoard runs end in -synthetic)")
    assert named_folder(lines[-1]).parent == (fakes.dir / "logs" / "tour").resolve()


@pytest.mark.parametrize("argv, message", [
    (["tour", "--timeout", "-1"], "argument --timeout: must be more than 0 (and finite), got -1"),
    (["tour", "--jobs", "0"], "argument --jobs/-j: must be from 1 to 2147483648, got 0"),
    (["tour", "-j", "two"], "argument --jobs/-j: 'two' is not a whole number")])
def test_tour_flags_out_of_range_are_one_argparse_line(capsys, argv, message):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2 and capsys.readouterr().err.splitlines()[-1] == f"python -m lessons tour: error: {message}"


def test_quick_tour_runs_every_lesson_ok_with_one_run_each_in_the_folder_it_names(tour):  # noqa: F811
    assert statuses(tour.output) == [(x.p, x.script, "ok") for x in LESSONS], tour.output
    assert tour.returncode == 0 and f"\n{len(LESSONS)} of {len(LESSONS)} lessons ok in " in tour.output
    assert named_folder(tour.output) == tour.logdir.resolve() and tour.logdir.parent.name == "tour"
    runs = {x.script: [p for p in (tour.logdir / Path(x.script).stem).glob("*") if p.is_dir()] for x in LESSONS}
    assert {script: len(found) for script, found in runs.items()} == dict.fromkeys(runs, 1), runs
    assert len({p.parent for p in tour.logdir.rglob("events.out.tfevents.*")}) <= 40  # TensorBoard ticks none past 40
