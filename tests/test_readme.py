"""README.md: the commands it shows exist (scripts, their flags, `python -m lessons ...`, requirement files),
and its lesson table is the catalog's (tools/readme_table.py)."""
import re
import shlex
import sys

import lessons.__main__ as cli
from conftest import REPO
from conftest_tour import help_flags

sys.path.insert(0, str(REPO / "tools"))
import readme_table  # noqa: E402  (tools/readme_table.py)

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


def flags_of(argv):
    return {a.split("=")[0] for a in argv if a.startswith("--") and a != "--"}


def test_readme_shows_the_set_up_the_one_command_and_the_one_test_command():
    assert {"python3 -m venv .venv", "source .venv/bin/activate", ".venv/Scripts/activate.bat",  # and Windows'
            "pip install -r requirements.txt", "pip install -r requirements-test.txt",
            "python -m lessons tour --quick", "python -m pytest"} <= {" ".join(a) for a in COMMANDS}
    assert "--index-url https://download.pytorch.org/whl/cpu" in README  # the CPU-only build
    assert re.search(r"--index-url https://download\.pytorch\.org/whl/cu\d+", README)  # a CUDA build
    assert "-r requirements.txt" in (REPO / "requirements-test.txt").read_text().splitlines()  # one install for tests
    for argv in COMMANDS:
        if argv[:2] == ["pip", "install"] and "-r" in argv:
            assert (REPO / argv[argv.index("-r") + 1]).is_file(), " ".join(argv)


def test_every_script_the_readme_runs_exists_with_the_flags_it_shows():
    runs = [(argv, next(a for a in argv if a.endswith(".py"))) for argv in COMMANDS
            if argv[0] in ("python", "python3", "torchrun") and any(a.endswith(".py") for a in argv)]
    for argv, script in runs:
        path = REPO / script
        assert path.is_file(), f"README runs {script}, which does not exist"
        accepted = help_flags(path.name) if path.parent.name == "lessons" else \
            set(re.findall(r"--[\w-]+", path.read_text(encoding="utf-8")))  # tools/, benchmarks/: their source
        assert flags_of(argv[argv.index(script) + 1:]) <= accepted, f"README: {' '.join(argv)}"
    assert len(runs) >= 10


def test_every_python_m_lessons_command_parses_and_names_real_lessons():
    argvs = [argv for argv in COMMANDS if argv[:3] == ["python", "-m", "lessons"]]
    for argv in argvs:
        args = cli.parser().parse_args(argv[3:])  # exits 2 (failing this test) on an unknown flag
        chosen = cli.find_lessons(args.lesson) if args.command == "run" else []
        assert chosen or args.command != "run", f"README: {' '.join(argv)}: no such lesson"
        for lesson in chosen:
            assert flags_of(args.args) <= help_flags(lesson.script), argv
    assert len(argvs) >= 3


def test_every_file_the_readme_names_exists_and_nothing_from_outside_the_clone():
    for path in set(re.findall(r"`((?:lessons|tools|benchmarks|docs|data|tests)/[\w./-]+\.(?:py|md|png))`", README)):
        assert (REPO / path).is_file(), f"README names {path}"
    for path in re.findall(r"\]\(([^)#]+)\)", README):  # links and images
        assert path.startswith("http") or (REPO / path).exists(), f"README links {path}"
    assert "../shared" not in README  # the project's workspace, not a learner's clone
    assert "python -m lessons table" not in README  # gone: python tools/readme_table.py
    assert "lessons/training.py" not in README and "lessons/common.py" not in README  # the old layout
    assert "TensorFlow installation not found - running with reduced feature set." in README  # said to be harmless
    assert "cifar-10-python.tar.gz" in README and "data/" in README  # how to use a copied archive


def test_the_lesson_table_is_the_catalogs_and_write_replaces_only_the_marked_region(tmp_path, capsys):
    assert readme_table.main(["--check"]) == 0, "README.md's table is stale: run `python tools/readme_table.py --write`"
    table = readme_table.markdown_table()
    assert [re.search(r"`lessons/(\S+)`", row).group(1) for row in table.splitlines()[2:]] == \
        [x.script for x in readme_table.LESSONS]
    readme, start, end = tmp_path / "README.md", readme_table.TABLE_START, readme_table.TABLE_END
    before, after = "# Title\n\nintro\n\n", "\n\n## After\n| a | b |\n"
    readme.write_text(f"{before}{start}\n| old | table |\n{end}{after}", encoding="utf-8")
    assert [readme_table.main([flag, "--readme", str(readme)]) for flag in ("--check", "--write", "--check")] == \
        [1, 0, 0]
    assert readme.read_text(encoding="utf-8") == f"{before}{start}\n{table}\n{end}{after}"
    zh = tmp_path / "README.zh-CN.md"  # keeps its own words for a lesson; English for the lessons it lacks
    zh.write_text(f"{start}\n| old |\n|---|\n| P7 | x | 写 Dataset | `lessons/p07_read_data.py` | 看点 |\n{end}\n",
                  encoding="utf-8")
    assert readme_table.main(["--write", "--readme", str(zh)]) == 0
    words = readme_table.table_words(readme_table.readme_table(zh.read_text(encoding="utf-8")))
    assert words == {**readme_table.table_words(table), "p07_read_data.py": ("写 Dataset", "看点")}


def test_the_chinese_readme_shows_the_same_commands_and_lesson_rows():
    zh = (REPO / "README.zh-CN.md").read_text(encoding="utf-8")
    blocks = [re.findall(r"```.*?```", text, flags=re.S) for text in (README, zh)]
    assert blocks[0] == blocks[1] and len(blocks[0]) >= 8  # every code block, in order, byte for byte
    rows = [[re.match(r"\| (P\d+) \| ([^|]+) \|.*`lessons/(\S+)`", row).groups()
             for row in readme_table.readme_table(text).splitlines()[2:]] for text in (README, zh)]
    assert rows[0] == rows[1] and len(rows[0]) == len(readme_table.LESSONS)
    assert "README.zh-CN.md" in "".join(README.splitlines()[:4]) and "README.md" in "".join(zh.splitlines()[:4])
