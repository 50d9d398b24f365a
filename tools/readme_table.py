"""README.md's lesson table, generated from lessons/kit/catalog.py.

    python tools/readme_table.py            # print the table
    python tools/readme_table.py --check    # exit 1 if README.md's table is out of date (the tests run this)
    python tools/readme_table.py --write    # rewrite the table between README.md's markers
"""
import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "lessons"))  # for kit.catalog, as lessons/__main__.py does

from kit.catalog import LESSONS  # noqa: E402

README = REPO / "README.md"
TABLE_START, TABLE_END = "<!-- lessons:start -->", "<!-- lessons:end -->"


def markdown_table(lessons=LESSONS):
    def cell(text):
        return text.replace("|", "\\|")

    rows = ["| P | 笔记标题 | Lesson | Script | What to look at |", "|---|---|---|---|---|"]
    rows += [f"| {cell(x.p)} | {cell(x.heading)} | {cell(x.title)} | `lessons/{x.script}` | {cell(x.shows)} |"
             for x in lessons]
    return "\n".join(rows)


def readme_table(text):
    """The table between the README's markers (without them), or None if the markers are missing."""
    start, end = text.find(TABLE_START), text.find(TABLE_END)
    if start < 0 or end < start:
        return None
    return text[start + len(TABLE_START):end].strip("\n")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--write", action="store_true", help="rewrite the table between the README's markers")
    p.add_argument("--check", action="store_true", help="exit 1 if the README's table is out of date")
    p.add_argument("--readme", type=Path, default=README, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    table = markdown_table()
    if not (args.write or args.check):
        print(table)
        return 0
    text = args.readme.read_text(encoding="utf-8")
    current = readme_table(text)
    if current is None:
        print(f"error: {args.readme} has no {TABLE_START} ... {TABLE_END} markers", file=sys.stderr)
        return 2
    if current == table:
        print(f"{args.readme}: the lesson table is up to date")
        return 0
    if args.check:
        print(f"{args.readme}: the lesson table differs from lessons/kit/catalog.py; "
              "run `python tools/readme_table.py --write`", file=sys.stderr)
        return 1
    start, end = text.index(TABLE_START) + len(TABLE_START), text.index(TABLE_END)
    args.readme.write_text(text[:start] + "\n" + table + "\n" + text[end:], encoding="utf-8")
    print(f"{args.readme}: lesson table rewritten ({len(LESSONS)} lessons)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
