"""Keep the Chinese catalog current: extract every message, update the .po, compile the .mo.

    python tools/i18n.py update     # new messages into lessons.po (empty msgstr), gone ones removed, then compile
    python tools/i18n.py compile    # lessons.po -> lessons.mo (committed, so a fresh clone needs no step)
    python tools/i18n.py check      # exit 1 naming what is missing, untranslated, stale or mismatched

The messages: every _("...") and N_("...") in lessons/ (Babel's Python extractor), every lesson's docstring
(its --help description), and argparse's and the system's (e.strerror) words that a learner sees. Needs Babel
(requirements-test.txt); the lessons themselves need only the compiled .mo and Python's gettext.
"""
import ast
import io
import re
import string
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "lessons"))
from cli import catalog  # noqa: E402  (the lesson list's titles, in lessons/cli/lessons.tsv)
LESSONS = REPO / "lessons"
PO = LESSONS / "kit" / "locale" / "zh_CN" / "LC_MESSAGES" / "lessons.po"
MO = PO.with_suffix(".mo")
# argparse's words in --help and in its one-line errors (Python 3.10-3.13 spell them so)
ARGPARSE = ["usage: ", "options", "positional arguments", "show this help message and exit",
            "%(prog)s: error: %(message)s\n", "argument %(argument_name)s: %(message)s",
            "invalid choice: %(value)r (choose from %(choices)s)", "unrecognized arguments: %s",
            "the following arguments are required: %s", "expected one argument", "invalid %(type)s value: %(value)r",
            "ambiguous option: %(option)s could match %(matches)s"]
# the system's words for a failed read or write (e.strerror on Linux and macOS), shown through _(e.strerror)
SYSTEM = ["No such file or directory", "Permission denied", "Operation not permitted", "No space left on device",
          "Read-only file system", "Is a directory", "Not a directory", "File exists", "File too large",
          "Disk quota exceeded", "Input/output error", "Directory not empty", "File name too long",
          "Too many open files", "Device or resource busy", "Cross-device link"]


def sources():
    return sorted(p for p in LESSONS.rglob("*.py") if "__pycache__" not in p.parts)


def messages():
    """{msgid: [where, ...]} of every message in the sources."""
    found = {m: ["argparse"] for m in ARGPARSE} | {m: ["strerror"] for m in SYSTEM}
    for path in sources():
        where = str(path.relative_to(REPO))
        for lineno, message, _comments, _context in extract_from_file("python", path, keywords={"_": None, "N_": None}):
            if isinstance(message, str) and message:
                found.setdefault(message, []).append(f"{where}:{lineno}")
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")), clean=False)
        if doc and (path.name.startswith("p") and path.parent == LESSONS or path.name == "__main__.py"):
            found.setdefault(doc, []).append(f"{where}:1")  # flags.parser(__doc__) shows _(doc) as --help
    for n, lesson in enumerate(catalog.LESSONS, start=2):  # the lesson list shows _(title) and _(shows)
        for text in (lesson.title, lesson.shows):
            found.setdefault(text, []).append(f"lessons/cli/lessons.tsv:{n}")
    return found


def fields(text):
    """The {name} and %(name)s / %s fields a message's translation must keep."""
    names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None} if "{" in text else set()
    return names | set(re.findall(r"%\(\w+\)[sdr]|%[sdr]", text))


def read():
    with open(PO, "rb") as f:
        return read_po(f)


def update():
    found = messages()
    catalog = read() if PO.is_file() else Catalog(locale="zh_CN", project="lessons")
    template = Catalog()
    for msgid, where in found.items():
        template.add(msgid, locations=[(w.rsplit(":", 1)[0], int(w.rsplit(":", 1)[1]) if ":" in w else 0) for w in where])
    catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    catalog.fuzzy = False  # the header: its charset tells gettext how to read the .mo
    PO.parent.mkdir(parents=True, exist_ok=True)
    with open(PO, "wb") as f:
        write_po(f, catalog, width=0, sort_output=False, omit_header=False)
    compile_mo()
    return catalog


def compiled(catalog):
    buf = io.BytesIO()
    write_mo(buf, catalog)
    return buf.getvalue()


def compile_mo():
    MO.write_bytes(compiled(read()))


def problems():
    """What is wrong with the catalog, one line each; [] when it is complete and current."""
    if not PO.is_file():
        return [f"{PO} is missing: run python tools/i18n.py update"]
    catalog, found = read(), messages()
    ids = {m.id for m in catalog if m.id}
    out = [f"not in the catalog: {m!r} ({found[m][0]})" for m in found if m not in ids]
    out += [f"in the catalog but no longer used: {m!r}" for m in sorted(ids - set(found))]
    for m in catalog:
        if m.id and m.id in found:
            if not m.string or m.fuzzy:
                out.append(f"no Chinese yet for {m.id!r} ({found[m.id][0]})")
            elif fields(m.id) != fields(m.string):
                out.append(f"the translation of {m.id!r} has the fields {sorted(fields(m.string))}, "
                           f"the message {sorted(fields(m.id))}")
    if not MO.is_file() or MO.read_bytes() != compiled(catalog):
        out.append(f"{MO.name} is stale: run python tools/i18n.py compile")
    return out


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "update":
        update()
    elif command == "compile":
        compile_mo()
    found = problems()
    print("\n".join(found) or f"{PO.relative_to(REPO)}: complete and current")
    sys.exit(1 if found and command == "check" else 0)
