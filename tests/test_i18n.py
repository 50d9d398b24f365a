"""Two languages through gettext: the catalog is complete and current, and the switch works as a learner
meets it. CI runs this file under LANG=C.UTF-8 and again under LANG=zh_CN.UTF-8."""
import os
import re
import subprocess
import sys

import pytest

from conftest import CHILD_ENV, REPO, popen

from kit import i18n

sys.path.insert(0, str(REPO / "tools"))
import i18n as catalog_tool  # noqa: E402  (tools/i18n.py)

CJK = re.compile(r"[\u4e00-\u9fff]")
# the test process's own locale: conftest sets LESSONS_LANG=en, and kit.i18n then LANGUAGE, for the other tests
SYSTEM_ENV = {k: v for k, v in os.environ.items() if k not in ("LESSONS_LANG", "LANGUAGE")}


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
    proc = popen([sys.executable, str(REPO / "lessons" / "p18_nn_conv2d.py"), *flags], env=dict(env, LANG=lang_env),
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.parametrize("flag, lang_env, chinese", [("--lang=en", "zh_CN.UTF-8", False), ("--lang=zh", "C.UTF-8", True),
                                                     (None, "zh_CN.UTF-8", True), (None, "C.UTF-8", False)])
def test_help_and_a_one_line_error_follow_lang_and_locale(flag, lang_env, chinese, tmp_path, capsys):
    """The one-line error as a real process; --help in this process, in the language that process would choose."""
    flags = [flag] if flag else []
    import p18_nn_conv2d
    i18n.use(i18n.choose(flags, {"LANG": lang_env}))
    try:
        with pytest.raises(SystemExit):
            p18_nn_conv2d.main(["--help"])
    finally:
        i18n.use("en")
    help_text = capsys.readouterr().out
    error = lesson("--dataset", "folder", "--data-root", str(tmp_path / "none"), "--logdir", str(tmp_path), *flags,
                   lang_env=lang_env)
    assert error.returncode == 1 and len(error.stderr.strip().splitlines()) == 1, error.stderr
    for text in (help_text, error.stderr):
        assert bool(CJK.search(re.sub("神经网络-卷积层|中文", "", text))) == chinese, text  # in both: heading, zh (中文)


def test_under_the_ci_locale_help_speaks_that_language():
    """CI runs this under LANG=C.UTF-8 and LANG=zh_CN.UTF-8: the default follows the system."""
    expected = i18n.choose([], SYSTEM_ENV)
    out = subprocess.run([sys.executable, "-m", "lessons", "--help"], cwd=REPO, env=SYSTEM_ENV, capture_output=True,
                         text=True, encoding="utf-8", timeout=60).stdout
    assert ("用法" in out) == (expected == "zh"), out


# Not prose: `code`, 'quoted' names, "paths", calls f(a, b), the message of an exception torch or PIL raised (up to a
# Chinese bracket), and the lines torch, torchrun and TensorBoard print themselves or the shell commands shown.
NOT_PROSE = re.compile(r"`[^`]*`|(?<![A-Za-z])'[^']*'|\"[^\"]*\"|\b\w*(Error|Exception): [^（]*|[\w.]+\([^()]*\)")
THEIRS = re.compile(r"Warning: |warnings\.warn|^\s*(tensorboard|torchrun|python) |^TensorBoard \d|^\[?W\d|NOTE: ")
WORD = re.compile(r"([a-z]+|[A-Z][a-z]+)(-[a-z]+)*")  # a plain word: not CamelCase, not CPU or N, not nn.Conv2d, --flag


def english_prose(text):
    """The lines of `text` with three or more plain English words in a row (outside code, paths and tensors)."""
    found = []
    for line in text.splitlines():
        body = re.sub(r"^\s*\| ", "", line)  # the tour's "       | " before each line of a lesson
        if THEIRS.search(body):
            continue
        run = 0
        for token in NOT_PROSE.sub(" ~ ", body).split():  # "lessons," and "(seconds" are words; "a.py" is not
            run = run + 1 if WORD.fullmatch(token.strip("()[],.;:!?")) else 0
            if run == 3:
                found.append(line)
                break
    return found


def test_the_english_prose_checker():
    assert english_prose("the loss went down\n损失下降了 loss: 0.5\nData: the built-in synthetic shapes") == [
        "the loss went down", "Data: the built-in synthetic shapes"]
    assert english_prose("tensor([[1., 2.]], grad_fn=<AddBackward0>)\n类别: ['airplane', 'bird', 'cat']\n"
                         "TensorBoard: tensorboard --logdir \"logs/p19 run\"\n"
                         "  (0): Conv2d(3, 32, kernel_size=(5, 5))\n"
                         "保存到 checkpoints/p27/best.pth  SCALARS: train_loss test_accuracy\n"
                         "报错 RuntimeError: mat1 and mat2 shapes cannot be multiplied（它需要 (N, C, H, W)）") == []


@pytest.mark.skipif(i18n.choose([], SYSTEM_ENV) != "zh",
                    reason="a whole tour: under a Chinese locale only (CI's second pass, LANG=zh_CN.UTF-8)")
def test_under_chinese_the_quick_tour_prints_no_english_sentence(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "lessons", "tour", "--quick", "--verbose", "--dataset", "synthetic",
                           "--device", "cpu", "--logdir", tmp_path / "logs", "--checkpoint-dir", tmp_path / "ck"],
                          cwd=REPO, env=SYSTEM_ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, encoding="utf-8",
                          errors="replace", timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert english_prose(proc.stdout) == [], proc.stdout
