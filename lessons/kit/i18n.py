"""The lessons in the learner's language: Chinese when the system speaks Chinese, English otherwise.

    from kit.i18n import _
    print(_("the loss went down"))        # 损失下降了 under a Chinese locale

Python's gettext, with the catalog in kit/locale/zh_CN/LC_MESSAGES/lessons.po (its compiled .mo beside
it; tools/i18n.py keeps both current). The language is chosen here, once, at import:
  1. --lang zh|en on the command line (every lesson and `python -m lessons` take it);
  2. the LESSONS_LANG environment variable (the tour passes it to its lessons);
  3. LANGUAGE, LC_ALL, LC_MESSAGES or LANG starting with "zh", or on Windows a Chinese display language;
  4. otherwise English.
The course's own printed lines (训练次数 ...) are not wrapped in _(): they stay as the course wrote them.
argparse's own words ("usage:", "error:") are translated through the same catalog.
"""
import gettext
import os
import sys
from pathlib import Path

DOMAIN = "lessons"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("zh", "en")


def from_system(environ=os.environ):
    """'zh' or 'en' from the locale variables, in gettext's order, or Windows' display language."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        if environ.get(name):
            return "zh" if environ[name].lower().startswith("zh") else "en"
    if sys.platform == "win32":
        import ctypes
        import locale
        code = locale.windows_locale.get(ctypes.windll.kernel32.GetUserDefaultUILanguage(), "")
        return "zh" if code.startswith("zh") else "en"
    return "en"


def from_argv(argv):
    """The value of --lang zh / --lang=zh in argv (the last, as argparse), if any."""
    values = [b if a == "--lang" else a[7:] for a, b in zip(argv, [*argv[1:], ""]) if a.partition("=")[0] == "--lang"]
    return next((v for v in reversed(values) if v in LANGUAGES), None)


def choose(argv=None, environ=os.environ):
    """--lang in argv, else LESSONS_LANG, else the system's language."""
    lang = from_argv(sys.argv[1:] if argv is None else argv) or environ.get("LESSONS_LANG")
    return lang if lang in LANGUAGES else from_system(environ)


def use(lang):
    """Speak `lang` from now on, in this process and in the processes it starts."""
    os.environ["LESSONS_LANG"] = lang
    os.environ["LANGUAGE"] = "zh_CN" if lang == "zh" else "en"  # what gettext reads, also for argparse's words


def current():
    return os.environ.get("LESSONS_LANG", "en")


def _(message):
    """The translation of `message` in the chosen language (the message itself in English)."""
    return gettext.dgettext(DOMAIN, message) if message else message  # gettext's "" is the catalog's header


def N_(message):
    """Marks a message for the catalog where it is defined; _() translates it where it is shown."""
    return message


gettext.bindtextdomain(DOMAIN, LOCALE_DIR)
gettext.textdomain(DOMAIN)  # argparse's _() reads the default domain: its words come from our catalog too
use(choose())
