"""The lesson table of README.md and README.zh-CN.md, generated from lessons/cli/lessons.tsv.

    python tools/readme_table.py            # print the table
    python tools/readme_table.py --check    # exit 1 if a README's table is out of date (the tests run this)
    python tools/readme_table.py --write    # rewrite the table between each README's markers

The rows (P, heading, script, in course order) come from the catalog. README.zh-CN.md keeps its own
Chinese words for a lesson's title and what to look at; a lesson it has no words for gets the English.
"""
import argparse
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "lessons"))  # for cli.catalog, as lessons/__main__.py does

from cli.catalog import LESSONS  # noqa: E402

READMES = [REPO / "README.md", REPO / "README.zh-CN.md"]
HEADERS = {"README.md": "| P | 笔记标题 | Lesson | Script | What to look at | Full run |",
           "README.zh-CN.md": "| P | 笔记标题 | 课程内容 | 脚本 | 看点 | 完整运行 |"}  # and its own words in the rows
# A lesson's default run (no flags) on the 2-core VM, measured (benchmarks/README.md, "Full runs"): seconds, or for
# the training lessons "idle - loaded" minutes, as the VM ran alone or beside other work
FULL_RUN = {"p07_read_data.py": "4 s", "p08_tensorboard_scalar.py": "2 s", "p09_tensorboard_image.py": "2 s",
            "p10_transforms_totensor.py": "4 s", "p11_transforms_dataset.py": "5 s", "p12_transforms_normalize.py": "5 s",
            "p13_transforms_compose.py": "6 s", "p14_dataset_transform.py": "10 s", "p15_dataloader.py": "8 s",
            "p16_nn_module.py": "4 s", "p17_nn_conv.py": "4 s", "p18_nn_conv2d.py": "9 s", "p19_nn_maxpool.py": "7 s",
            "p20_nn_relu.py": "8 s", "p21_nn_linear.py": "7 s", "p22_nn_seq.py": "5 s", "p23_nn_loss.py": "2 s",
            "p23_nn_loss_network.py": "9 s", "p24_nn_optim.py": "2.5-18 min", "p25_model_pretrained.py": "13 s",
            "p26_model_save.py": "7 s", "p26_model_load.py": "8 s", "p27_train.py": "13-37 min",
            "p30_train_gpu_1.py": "13-30 min", "p31_train_gpu_2.py": "13-30 min", "p32_test.py": "6 s",
            "p33_train_fast.py": "3-10 min", "p34_train_ddp.py": "38 min"}


def full_run(script, chinese=False):
    text = FULL_RUN.get(script, "?").replace("-", "–")
    return text.replace(" min", " 分钟").replace(" s", " 秒") if chinese else text
TABLE_START, TABLE_END = "<!-- lessons:start -->", "<!-- lessons:end -->"


def cell(text):
    return text.replace("|", "\\|")


def markdown_table(lessons=LESSONS, header=HEADERS["README.md"], words=None):
    """The table; words: {script: (title, shows)} as a translated README words them (else the English)."""
    rows = [header, "|---|---|---|---|---|---|"]
    for x in lessons:
        title, shows = (words or {}).get(x.script, (cell(x.title), cell(x.shows)))
        rows.append(f"| {cell(x.p)} | {cell(x.heading)} | {title} | `lessons/{x.script}` | {shows} | "
                    f"{full_run(x.script, chinese=words is not None)} |")
    return "\n".join(rows)


def table_words(table):
    """{script: (title, shows)} of a README's table, its cells as written."""
    rows = [[c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]] for row in table.splitlines()[2:]]
    return {m.group(1): (r[2], r[4]) for r in rows if len(r) >= 5 and (m := re.fullmatch(r"`lessons/(.+)`", r[3]))}


def readme_table(text):
    """The table between the README's markers (without them), or None if the markers are missing."""
    start, end = text.find(TABLE_START), text.find(TABLE_END)
    if start < 0 or end < start:
        return None
    return text[start + len(TABLE_START):end].strip("\n")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--write", action="store_true", help="rewrite the table between the READMEs' markers")
    p.add_argument("--check", action="store_true", help="exit 1 if a README's table is out of date")
    p.add_argument("--readme", type=Path, action="append", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if not (args.write or args.check):
        print(markdown_table())
        return 0
    return max(update(readme, args.check) for readme in args.readme or [r for r in READMES if r.is_file()])


def update(readme, check):
    text = readme.read_text(encoding="utf-8")
    current = readme_table(text)
    if current is None:
        print(f"error: {readme} has no {TABLE_START} ... {TABLE_END} markers", file=sys.stderr)
        return 2
    translated = readme.name in HEADERS and readme.name != "README.md"
    table = markdown_table(header=HEADERS.get(readme.name, HEADERS["README.md"]),
                           words=table_words(current) if translated else None)
    if current == table:
        print(f"{readme}: the lesson table is up to date")
        return 0
    if check:
        print(f"{readme}: the lesson table differs from lessons/cli/lessons.tsv; "
              "run `python tools/readme_table.py --write`", file=sys.stderr)
        return 1
    start, end = text.index(TABLE_START) + len(TABLE_START), text.index(TABLE_END)
    readme.write_text(text[:start] + "\n" + table + "\n" + text[end:], encoding="utf-8")
    print(f"{readme}: lesson table rewritten ({len(LESSONS)} lessons)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
