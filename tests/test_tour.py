"""`python -m lessons`: the list, the README table, `run`, and the tour (fake lessons for the failure
cases, the real quick tour of every lesson for the rest)."""
import importlib
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest_tour import REPO, tour  # noqa: F401  (tour is a fixture)

import lessons.__main__ as cli
from kit.catalog import DATA, LESSONS, SAVES, Lesson


def lessons_cli(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "lessons", *args], cwd=cwd, capture_output=True, text=True,
                          encoding="utf-8", timeout=120)


# ---------------------------------------------------------------- list and README table

def test_list_shows_every_lesson():
    proc = lessons_cli()
    assert proc.returncode == 0, proc.stderr
    for lesson in LESSONS:
        block = re.search(rf"^{lesson.p} +{re.escape(lesson.heading)} +{re.escape(lesson.title)}\n"
                          rf" +lessons/{re.escape(lesson.script)}.*\n +{re.escape(lesson.shows)}$",
                          proc.stdout, flags=re.M)
        assert block, f"{lesson.script} missing from the list:\n{proc.stdout}"
    assert "python -m lessons tour --quick" in proc.stdout


def test_list_works_from_another_folder_by_path(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "lessons"), "list"], cwd=tmp_path, capture_output=True,
                          text=True, encoding="utf-8", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert all(lesson.script in proc.stdout for lesson in LESSONS)


def table_tool(*args):
    return subprocess.run([sys.executable, str(REPO / "tools" / "readme_table.py"), *args], capture_output=True,
                          text=True, encoding="utf-8", timeout=60)


def test_readme_table_is_generated_from_the_catalog():
    proc = table_tool("--check")
    assert proc.returncode == 0, "README.md's lesson table is stale: run `python tools/readme_table.py --write`"
    rows = table_tool().stdout.splitlines()[2:]
    assert len(rows) == len(LESSONS) and all(f"`lessons/{x.script}`" in row for x, row in zip(LESSONS, rows))


def test_table_write_replaces_only_the_marked_region(tmp_path):
    readme = tmp_path / "README.md"
    start, end = "<!-- lessons:start -->", "<!-- lessons:end -->"
    before, after = "# Title\n\nintro\n\n", "\n\n## After\n| a | b |\n"
    readme.write_text(f"{before}{start}\n| old | table |\n{end}{after}", encoding="utf-8")
    assert table_tool("--check", "--readme", str(readme)).returncode == 1
    assert table_tool("--write", "--readme", str(readme)).returncode == 0
    assert readme.read_text(encoding="utf-8") == f"{before}{start}\n{table_tool().stdout.rstrip()}\n{end}{after}"
    assert table_tool("--check", "--readme", str(readme)).returncode == 0


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda x: x.script)
def test_the_catalog_names_the_tour_flags_each_lesson_takes(lesson, capsys):
    """The tour passes --dataset, --checkpoint-dir ... only where the catalog says so: check it against --help."""
    module = importlib.import_module(lesson.script.removesuffix(".py"))
    with pytest.raises(SystemExit):
        module.main(["--help"])
    accepted = set(re.findall(r"(--[\w-]+)", capsys.readouterr().out))
    for flag in ("--dataset", "--data-root", "--checkpoint-dir", "--checkpoint"):
        assert (flag in accepted) == (flag in lesson.flags), f"{lesson.script}: {flag}"
    assert {"--logdir", "--device", "--seed", "--quick"} <= accepted


def test_no_module_is_loaded_under_two_names():
    """Every lesson imports the helpers as `kit.<name>` and the model as `model`, never as `lessons.kit...`."""
    import lessons.__main__  # noqa: F401  the CLI too
    for lesson in LESSONS:
        importlib.import_module(lesson.script.removesuffix(".py"))
    files = {}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if path and Path(path).resolve().is_relative_to(REPO / "lessons"):
            assert Path(path).resolve() not in files, f"{path} loaded as {name} and {files[Path(path).resolve()]}"
            files[Path(path).resolve()] = name
    assert "kit.common" in sys.modules and not any(n.startswith("lessons.kit") for n in sys.modules)


# ---------------------------------------------------------------- fake lessons: failure, order, flags

FAKE = '''
import json, os, sys, time
from pathlib import Path
argv = sys.argv[1:]
def flag(name):
    return argv[argv.index(name) + 1] if name in argv else None
with open(os.environ["FAKE_RECORD"], "a") as f:
    f.write(json.dumps([Path(__file__).name, argv, time.time()]) + "\\n")
'''


def fake_lessons(tmp_path, monkeypatch, bodies, flags=None):
    """Scripts in tmp_path, each FAKE + its body; returns (catalog rows, record file)."""
    record = tmp_path / "record.jsonl"
    monkeypatch.setenv("FAKE_RECORD", str(record))
    rows = []
    for i, (script, body) in enumerate(bodies.items()):
        (tmp_path / script).write_text(FAKE + textwrap.dedent(body), encoding="utf-8")
        p = re.match(r"p(\d+)", script)
        rows.append(Lesson(f"P{p.group(1)}" if p else f"P{90 + i}", "标题", f"Fake {script}", script, "nothing",
                          (flags or {}).get(script, ())))
    return rows, record


def records(record):
    import json
    return [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []


def test_a_failing_lesson_does_not_stop_the_tour(tmp_path, monkeypatch, capsys):
    rows, record = fake_lessons(tmp_path, monkeypatch, {
        "p90_first.py": "print('first ran')",
        "p91_broken.py": "print('about to fail'); sys.exit('error: something clear went wrong')",
        "p92_after.py": "print('still ran')",
    })
    logdir = tmp_path / "my logs"
    rc = cli.main(["tour", "--quick", "--logdir", str(logdir), "--jobs", "2"], lessons=rows, lessons_dir=tmp_path)
    out = capsys.readouterr().out
    assert rc == 1
    assert [r[0] for r in sorted(records(record))] == ["p90_first.py", "p91_broken.py", "p92_after.py"]
    lines = [line for line in out.splitlines() if re.match(r"P\d+ ", line)]
    assert [line.split()[1] for line in lines] == ["p90_first.py", "p91_broken.py", "p92_after.py"]  # course order
    assert re.fullmatch(r"P90 +p90_first\.py +\d+\.\d s  ok", lines[0])
    assert re.fullmatch(r"P91 +p91_broken\.py +\d+\.\d s  FAILED \(exit 1\)", lines[1])
    assert lines[2].endswith("  ok")
    assert "| error: something clear went wrong" in out  # the failing lesson's own words
    assert "first ran" not in out  # a passing lesson's output stays quiet
    assert "rerun: python " in out and "p91_broken.py" in out
    assert "2 of 3 lessons ok, 1 failed (p91_broken.py)" in out
    assert out.rstrip().splitlines()[-1].startswith(f'TensorBoard: tensorboard --logdir "{logdir.resolve()}"')


def test_all_passing_tour_exits_zero_and_passes_the_shared_flags(tmp_path, monkeypatch, capsys):
    rows, record = fake_lessons(tmp_path, monkeypatch, {
        "p90_data.py": "", "p91_nodata.py": "", "p92_saves.py": "",
    }, flags={"p90_data.py": DATA, "p92_saves.py": SAVES})
    rc = cli.main(["tour", "--quick", "--logdir", str(tmp_path / "logs"), "--dataset", "synthetic",
                   "--checkpoint-dir", str(tmp_path / "ck"), "--device", "cpu"], lessons=rows, lessons_dir=tmp_path)
    out = capsys.readouterr().out
    assert rc == 0 and "3 of 3 lessons ok in" in out
    argv = {name: args for name, args, _ in records(record)}
    for args in argv.values():
        assert args[:3] == ["--logdir", str(tmp_path / "logs"), "--quick"] and "--device" in args
    assert "--dataset" in argv["p90_data.py"] and "--dataset" not in argv["p91_nodata.py"]
    saves = argv["p92_saves.py"]  # a folder per P number, as the lessons' defaults
    assert saves[saves.index("--checkpoint-dir") + 1] == str(tmp_path / "ck" / "p92")
    assert "--checkpoint-dir" not in argv["p90_data.py"]


def test_a_lesson_that_needs_another_waits_for_it(tmp_path, monkeypatch, capsys):
    rows, record = fake_lessons(tmp_path, monkeypatch, {
        "p26_model_save.py": "time.sleep(1.0); Path(flag('--checkpoint-dir')).mkdir(parents=True); "
                             "(Path(flag('--checkpoint-dir')) / 'tudui.pth').write_text('w')\n",
        "p26_model_load.py": "print((Path(flag('--checkpoint-dir')) / 'tudui.pth').read_text())\n",
        "p27_other.py": "pass",
    }, flags={"p26_model_save.py": SAVES, "p26_model_load.py": SAVES})
    rc = cli.main(["tour", "--quick", "--jobs", "2", "--logdir", str(tmp_path / "logs"),
                   "--checkpoint-dir", str(tmp_path / "ck")], lessons=rows, lessons_dir=tmp_path)
    out = capsys.readouterr().out
    assert rc == 0, out
    started = {name: t for name, _, t in records(record)}
    assert started["p27_other.py"] < started["p26_model_load.py"]  # the free slot went to the next lesson
    assert started["p26_model_load.py"] - started["p26_model_save.py"] >= 1.0


def test_a_hung_lesson_is_stopped(tmp_path, monkeypatch, capsys):
    rows, _ = fake_lessons(tmp_path, monkeypatch, {"p90_hangs.py": "time.sleep(60)", "p91_fine.py": "pass"})
    rc = cli.main(["tour", "--quick", "--timeout", "1", "--logdir", str(tmp_path / "logs")],
                  lessons=rows, lessons_dir=tmp_path)
    out = capsys.readouterr().out
    assert rc == 1
    assert re.search(r"P90 +p90_hangs\.py +\d+\.\d s  FAILED \(timed out after 1 s\)", out)
    assert re.search(r"P91 +p91_fine\.py .* ok", out)


def test_a_missing_script_fails_its_line_only(tmp_path, monkeypatch, capsys):
    rows, _ = fake_lessons(tmp_path, monkeypatch, {"p90_fine.py": "pass"})
    rows.append(Lesson("P91", "标题", "Not written", "p91_missing.py", "nothing"))
    rc = cli.main(["tour", "--quick", "--logdir", str(tmp_path / "logs")], lessons=rows, lessons_dir=tmp_path)
    out = capsys.readouterr().out
    assert rc == 1 and "FAILED (script not found)" in out and "1 of 2 lessons ok" in out


# ---------------------------------------------------------------- run

def test_run_by_number_runs_every_script_of_that_number_in_order(tmp_path, monkeypatch, capfd):
    rows, record = fake_lessons(tmp_path, monkeypatch, {
        "p23_nn_loss.py": "print('loss')", "p23_nn_loss_network.py": "print('network')", "p24_x.py": "pass"})
    assert cli.main(["run", "23", "--", "--epochs", "3"], lessons=rows, lessons_dir=tmp_path) == 0
    assert [(name, args) for name, args, _ in records(record)] == [
        ("p23_nn_loss.py", ["--epochs", "3"]), ("p23_nn_loss_network.py", ["--epochs", "3"])]
    out = capfd.readouterr().out
    assert out.index("loss") < out.index("network")


def test_run_by_script_name_and_exit_status(tmp_path, monkeypatch, capfd):
    rows, record = fake_lessons(tmp_path, monkeypatch, {
        "p23_nn_loss.py": "sys.exit(3)", "p23_nn_loss_network.py": "pass"})
    assert cli.main(["run", "p23_nn_loss_network.py"], lessons=rows, lessons_dir=tmp_path) == 0
    assert cli.main(["run", "P23"], lessons=rows, lessons_dir=tmp_path) == 3  # stops at the first failure
    assert [name for name, _, _ in records(record)] == ["p23_nn_loss_network.py", "p23_nn_loss.py"]
    assert cli.main(["run", "28"], lessons=rows, lessons_dir=tmp_path) == 2
    assert "error: no lesson '28'" in capfd.readouterr().err


def test_run_a_real_lesson_with_its_own_flags(tmp_path):
    proc = lessons_cli("run", "16", "--", "--logdir", str(tmp_path / "logs"), "--quick")
    assert proc.returncode == 0, proc.stderr
    assert len(list((tmp_path / "logs" / "p16_nn_module").iterdir())) == 1


# ---------------------------------------------------------------- the real quick tour

def test_quick_tour_runs_every_lesson_ok(tour):  # noqa: F811
    lines = {m.group(2): m.group(3) for m in re.finditer(r"^(P\d+) +(\S+\.py) +\d+\.\d s  (.*)$",
                                                         tour.output, flags=re.M)}
    assert list(lines) == [x.script for x in LESSONS], tour.output
    failed = {script: status for script, status in lines.items() if status != "ok"}
    assert not failed, tour.output
    assert tour.returncode == 0
    assert f"{len(LESSONS)} of {len(LESSONS)} lessons ok" in tour.output
    assert tour.output.rstrip().splitlines()[-1].startswith(f'TensorBoard: tensorboard --logdir "{tour.logdir}"')


def test_quick_tour_leaves_one_run_per_lesson(tour):  # noqa: F811
    for lesson in LESSONS:
        runs = [p for p in (tour.logdir / Path(lesson.script).stem).glob("*") if p.is_dir()]
        assert len(runs) == 1, f"{lesson.script}: {runs}"


def test_p32_gets_the_newest_best_checkpoint_of_the_tour(tmp_path, monkeypatch, capsys):
    rows, record = fake_lessons(tmp_path, monkeypatch, {
        "p27_train.py": "d = Path(flag('--checkpoint-dir')); d.mkdir(parents=True); (d / 'best.pth').write_text('')\n",
        "p32_test.py": "",
    }, flags={"p27_train.py": SAVES, "p32_test.py": ("--checkpoint",)})
    rc = cli.main(["tour", "--quick", "--logdir", str(tmp_path / "logs"), "--checkpoint-dir", str(tmp_path / "ck")],
                  lessons=rows, lessons_dir=tmp_path)
    assert rc == 0, capsys.readouterr().out
    argv = {name: args for name, args, _ in records(record)}
    assert argv["p32_test.py"][-2:] == ["--checkpoint", str(tmp_path / "ck" / "p27" / "best.pth")]


# ---------------------------------------------------------------- what the tour says: at once, data, TensorBoard

def test_the_tour_shows_progress_at_once_says_which_data_and_an_absolute_logdir(tmp_path, monkeypatch, capsys):
    rows, _ = fake_lessons(tmp_path, monkeypatch, {
        "p90_data.py": "print('warning: CIFAR-10 is not in data and could not be downloaded (offline); "
                       "using the built-in synthetic data set instead (runs marked -synthetic)'); time.sleep(1)",
        "p91_nodata.py": "time.sleep(1)",
    }, flags={"p90_data.py": DATA})
    monkeypatch.chdir(tmp_path)
    rc = cli.main(["tour", "--quick", "--jobs", "2", "--logdir", "logs", "--data-root", "no-cifar-here"],
                  lessons=rows, lessons_dir=tmp_path)
    lines = capsys.readouterr().out.splitlines()
    assert rc == 0
    assert lines[0].startswith("Touring 2 lessons, quick mode, 2 at a time; logs in ")
    assert lines[1] == ("Data: CIFAR-10 is not in no-cifar-here: the first lesson downloads it (170 MB); without a "
                        "network every lesson uses the built-in synthetic shapes instead")
    # named as soon as they start, before either ends (each takes a second)
    assert lines[2] == "     ... running P90 p90_data.py, P91 p91_nodata.py (a line for each as it ends)"
    assert lines[3].startswith("P90 ") and lines[4].startswith("P91 ")
    assert lines[-2] == ("Data used: the synthetic shapes, not CIFAR-10, in 1 lesson (P90): CIFAR-10 is not in "
                         "no-cifar-here and could not be downloaded (their TensorBoard runs end in -synthetic)")
    assert lines[-1].startswith(f'TensorBoard: tensorboard --logdir "{tmp_path / "logs"}"')


def test_the_tour_says_cifar10_is_there_when_it_is(tmp_path, monkeypatch, capsys):
    rows, _ = fake_lessons(tmp_path, monkeypatch, {"p90_data.py": ""}, flags={"p90_data.py": DATA})
    (tmp_path / "data" / "cifar-10-batches-py").mkdir(parents=True)
    assert cli.main(["tour", "--logdir", str(tmp_path / "logs"), "--data-root", str(tmp_path / "data")],
                    lessons=rows, lessons_dir=tmp_path) == 0
    out = capsys.readouterr().out
    assert f"\nData: CIFAR-10 from {tmp_path / 'data'}\n" in out and f"\nData used: CIFAR-10 from {tmp_path / 'data'}\n" in out


@pytest.mark.parametrize("argv, message", [
    (["tour", "--timeout", "-1"], "argument --timeout: must be more than 0 (and finite), got -1"),
    (["tour", "--jobs", "0"], "argument --jobs/-j: must be at least 1, got 0"),
    (["tour", "-j", "two"], "argument --jobs/-j: 'two' is not a whole number"),
])
def test_tour_flags_out_of_range_are_one_argparse_line(capsys, argv, message):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.splitlines()[-1] == f"python -m lessons tour: error: {message}"
