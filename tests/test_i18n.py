"""Two languages through gettext: the catalog is complete and current, and the switch works as a learner
meets it. CI runs this file under LANG=C.UTF-8 and again under LANG=zh_CN.UTF-8."""
import os
import re
import subprocess
import sys

import pytest

from conftest import CHILD_ENV, REPO

from kit import i18n

sys.path.insert(0, str(REPO / "tools"))
import i18n as catalog_tool  # noqa: E402  (tools/i18n.py)

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_message_has_a_current_chinese_translation():
    assert catalog_tool.problems() == []


@pytest.mark.parametrize("argv, environ, expected", [
    (["--lang", "zh"], {"LANG": "C"}, "zh"),
    (["--lang=en"], {"LANG": "zh_CN.UTF-8"}, "en"),
    ([], {"LESSONS_LANG": "zh", "LANG": "C"}, "zh"),
    ([], {"LANGUAGE": "zh_TW:en", "LANG": "C"}, "zh"),
    ([], {"LC_ALL": "", "LC_MESSAGES": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
    ([], {"LANG": "en_US.UTF-8"}, "en"),
    ([], {}, "en"),
])
def test_the_language_is_chosen_in_one_place(argv, environ, expected):
    assert i18n.choose(argv, environ) == expected


def lesson(*flags, lang_env):
    env = {k: v for k, v in CHILD_ENV.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LESSONS_LANG")}
    return subprocess.run([sys.executable, str(REPO / "lessons" / "p18_nn_conv2d.py"), *flags],
                          env=dict(env, LANG=lang_env), capture_output=True, text=True, encoding="utf-8", timeout=120)


@pytest.mark.parametrize("flag, lang_env, chinese", [("--lang=en", "zh_CN.UTF-8", False), ("--lang=zh", "C.UTF-8", True),
                                                     (None, "zh_CN.UTF-8", True), (None, "C.UTF-8", False)])
def test_help_and_a_one_line_error_follow_lang_and_locale(flag, lang_env, chinese, tmp_path):
    flags = [flag] if flag else []
    help_text = lesson("--help", *flags, lang_env=lang_env).stdout
    error = lesson("--dataset", "folder", "--data-root", str(tmp_path / "none"), "--logdir", str(tmp_path), *flags,
                   lang_env=lang_env)
    assert error.returncode == 1 and len(error.stderr.strip().splitlines()) == 1, error.stderr
    for text in (help_text, error.stderr):
        assert bool(CJK.search(text.replace("神经网络-卷积层", ""))) == chinese, text  # the heading is Chinese in both


def test_under_the_ci_locale_help_speaks_that_language():
    """CI runs this under LANG=C.UTF-8 and LANG=zh_CN.UTF-8: the default follows the system."""
    env = {k: v for k, v in os.environ.items() if k not in ("LESSONS_LANG", "LANGUAGE")}
    expected = i18n.choose([], env)
    out = subprocess.run([sys.executable, "-m", "lessons", "--help"], cwd=REPO, env=env, capture_output=True,
                         text=True, encoding="utf-8", timeout=60).stdout
    assert ("用法" in out) == (expected == "zh"), out
