"""The commands README.md shows exist: scripts, their flags, `python -m lessons ...`, requirement files."""
import importlib
import re
import shlex

import pytest

import lessons.__main__ as cli
from conftest import REPO
from kit import tour

README = (REPO / "README.md").read_text(encoding="utf-8")


def shown_commands(text=README):
    """Every command line in README.md: the lines of its code blocks, and `python ...` spans in the prose."""
    commands = []
    for block in re.findall(r"```(?:bash)?\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s#\s.*$", "", line).strip()  # a comment after the command
            if line and not line.startswith(("my_photos/", "#")):
                commands.append(line)
    commands += re.findall(r"`((?:python|pip|torchrun|tensorboard) [^`]+)`", text)
    return [shlex.split(c.replace("\\", "/")) for c in commands]  # .venv\Scripts\activate.bat, as a path


COMMANDS = shown_commands()


def help_flags(module):
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        module.main(["--help"])
    return set(re.findall(r"--[\w-]+", out.getvalue()))


def flags_of(argv):
    return [a.split("=")[0] for a in argv if a.startswith("--") and a != "--"]


def test_readme_shows_the_set_up_the_one_command_and_the_one_test_command():
    argvs = [" ".join(a) for a in COMMANDS]
    assert "python3 -m venv .venv" in argvs and "source .venv/bin/activate" in argvs
    assert ".venv/Scripts/activate.bat" in argvs  # Windows
    assert "pip install -r requirements.txt" in argvs and "pip install -r requirements-test.txt" in argvs
    assert "python -m lessons tour --quick" in argvs and "python -m pytest" in argvs
    assert "--index-url https://download.pytorch.org/whl/cpu" in README  # the CPU-only build
    assert re.search(r"--index-url https://download\.pytorch\.org/whl/cu\d+", README)  # a CUDA build
    assert "-r requirements.txt" in (REPO / "requirements-test.txt").read_text().splitlines()  # one install for tests
    for argv in COMMANDS:
        if argv[:2] == ["pip", "install"] and "-r" in argv:
            assert (REPO / argv[argv.index("-r") + 1]).is_file(), " ".join(argv)


def test_every_script_the_readme_runs_exists_with_the_flags_it_shows():
    checked = 0
    for argv in COMMANDS:
        scripts = [a for a in argv if a.endswith(".py")]
        if argv[0] not in ("python", "python3", "torchrun") or not scripts:
            continue
        path = REPO / scripts[0]
        assert path.is_file(), f"README runs {scripts[0]}, which does not exist"
        rest = argv[argv.index(scripts[0]) + 1:]
        if path.parent.name == "lessons":
            accepted = help_flags(importlib.import_module(path.stem))
        else:  # tools/, benchmarks/: their flags are in their source; running them takes long
            accepted = set(re.findall(r"--[\w-]+", path.read_text(encoding="utf-8")))
        missing = [f for f in flags_of(rest) if f not in accepted]
        assert not missing, f"README: {' '.join(argv)}: {scripts[0]} has no {missing}"
        checked += 1
    assert checked >= 10


def test_every_python_m_lessons_command_parses_and_names_real_lessons():
    checked = 0
    for argv in COMMANDS:
        if argv[:3] != ["python", "-m", "lessons"]:
            continue
        args = cli.parser().parse_args(argv[3:])  # exits 2 (failing this test) on an unknown flag
        if args.command == "run":
            chosen = tour.find_lessons(args.lesson)
            assert chosen, f"README: {' '.join(argv)}: no such lesson"
            extra = args.args[1:] if args.args[:1] == ["--"] else args.args
            for lesson in chosen:
                assert set(flags_of(extra)) <= help_flags(importlib.import_module(lesson.script[:-3])), argv
        checked += 1
    assert checked >= 3


def test_every_file_the_readme_names_exists_and_nothing_from_outside_the_clone():
    for path in set(re.findall(r"`((?:lessons|tools|benchmarks|docs|data|tests)/[\w./-]+\.(?:py|md|png))`", README)):
        assert (REPO / path).is_file(), f"README names {path}"
    for path in re.findall(r"\]\(([^)#]+)\)", README):  # links and images
        assert path.startswith("http") or (REPO / path).exists(), f"README links {path}"
    assert "../shared" not in README  # the project's workspace, not a learner's clone
    assert "python -m lessons table" not in README  # gone: python tools/readme_table.py
    assert "lessons/training.py" not in README and "lessons/common.py" not in README  # the old layout


def test_the_readme_says_tensorboards_tensorflow_line_is_harmless_and_how_to_use_a_copied_archive():
    assert "TensorFlow installation not found - running with reduced feature set." in README
    assert "cifar-10-python.tar.gz" in README and "data/" in README
