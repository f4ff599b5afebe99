"""The ``pyc`` console script the wheel installs, and ``python -m pycmarshal``: the same command as the
Rust binary."""

import os
import subprocess
import sys

import pycmarshal
from conftest import pyc_command, run_pyc
from test_check import damaged_tree


def test_the_console_script_runs_the_pyc_command(tmp_path):
    assert os.path.exists(pyc_command())
    version = run_pyc("--version")
    assert version.returncode == 0 and version.stdout.strip() == "pyc %s" % pycmarshal.__version__
    tree = damaged_tree(str(tmp_path))
    checked = run_pyc("check", tree)
    assert checked.returncode == 1
    assert checked.stdout.splitlines()[-1].startswith("9 files, ")
    usage = run_pyc("dump", "--python", "9.9", "x.pyc")
    assert usage.returncode == 2 and "known: 1.0" in usage.stderr
    cleaned = run_pyc("clean", "--dry-run", tree)
    assert cleaned.returncode == 1 and "would remove: 7" in cleaned.stdout.splitlines()[-1]


def test_python_m_pycmarshal_is_the_same_command(tmp_path):
    tree = damaged_tree(str(tmp_path))
    module = subprocess.run([sys.executable, "-m", "pycmarshal", "check", tree],
                            stdout=subprocess.PIPE, universal_newlines=True)
    assert module.returncode == 1
    assert module.stdout.splitlines()[:-1] == run_pyc("check", tree).stdout.splitlines()[:-1]
