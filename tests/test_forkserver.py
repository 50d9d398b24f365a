"""The suite's forked processes (forkserver.py) start as a new interpreter would, wherever a lesson can tell."""
import re
import subprocess
import sys

from conftest import CHILD_ENV, REPO, Forked, popen

STARTUP = ("import locale, os, sys, torch; print(sys.argv, repr(sys.path[0]), os.getcwd(), __name__, os.environ['MARK'],"
           " [(s.encoding, s.errors, s.line_buffering, s.write_through) for s in (sys.stdout, sys.stderr)], "
           "torch.get_num_threads(), locale.getlocale(locale.LC_CTYPE)); raise KeyboardInterrupt")


def test_forked_and_new_interpreters_start_alike_and_run_a_lesson_alike(tmp_path):
    base = {k: v for k, v in CHILD_ENV.items() if k != "PYTHONUNBUFFERED"}
    envs = [dict(base, PYTHONIOENCODING="cp1252:replace", OMP_NUM_THREADS="1", MARK="é", LANG="zh_CN.UTF-8"),
            dict(base, PYTHONUNBUFFERED="1", MARK="-")]
    lesson = [str(REPO / "lessons" / "p17_nn_conv.py"), "--logdir", str(tmp_path)]
    seen = []
    for start in (popen, subprocess.Popen):
        for argv, env in ((["-c", STARTUP, "x"], envs[0]), (["-c", STARTUP], envs[1]), (lesson, envs[0])):
            proc = start([sys.executable, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path)
            out, err = proc.communicate(timeout=120)
            seen.append((proc.returncode, re.sub(rb"\d{8}-\d{6}", b"<time>", out), err.splitlines()[-1:]))
        assert isinstance(proc, Forked) == (start is popen)
    assert seen[:3] == seen[3:]
    assert [code for code, _, _ in seen[:3]] == [-2, -2, 0] and b"['-c', 'x'] '' " in seen[0][1]
    assert b"('cp1252', 'replace', False, False), ('cp1252', 'backslashreplace', True, False)] 1" in seen[0][1]
