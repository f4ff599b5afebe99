"""What the package's tests share: the shared corpus, this interpreter's compiled standard library, and
a line of counts per comparison, printed at the end of the run (``-p no:cacheprovider -rs`` shows the
skips too)."""

import os
import subprocess
import sys
import sysconfig

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPOSITORY = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

COUNTS = []


def pytest_terminal_summary(terminalreporter):
    if COUNTS:
        terminalreporter.write_sep("-", "what was compared")
        for line in COUNTS:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def counts():
    """Append a line saying what a test compared; the lines are printed at the end of the run."""
    return COUNTS


@pytest.fixture(scope="session")
def corpus():
    """The shared corpus's ``pyc`` folder: ``$PYCMARSHAL_CORPUS``, default ``../shared/corpus`` beside
    the repository. Skips, saying so, when it is absent."""
    root = os.environ.get("PYCMARSHAL_CORPUS") or os.path.join(REPOSITORY, "..", "shared", "corpus")
    folder = os.path.join(root, "pyc")
    if not os.path.isdir(folder):
        pytest.skip("no corpus at %s (set PYCMARSHAL_CORPUS)" % root)
    files = []
    for label in sorted(os.listdir(folder)):
        for name in sorted(os.listdir(os.path.join(folder, label))):
            files.append((label, os.path.join(folder, label, name)))
    return files


@pytest.fixture(scope="session")
def stdlib_caches():
    """Every cache of this interpreter's standard library as installed (``site-packages`` left out)."""
    root = sysconfig.get_paths()["stdlib"]
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "site-packages")
        found.extend(os.path.join(folder, name) for name in sorted(names) if name.endswith(".pyc"))
    if len(found) < 1000:
        pytest.skip("only %d compiled files in %s: not a compiled standard library" % (len(found), root))
    return found


def pyc_command():
    """The console script installed beside this interpreter."""
    return os.path.join(os.path.dirname(sys.executable), "pyc")


def run_pyc(*args, **kwargs):
    """Runs the ``pyc`` console script; returns the CompletedProcess (text)."""
    return subprocess.run([pyc_command()] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, **kwargs)
