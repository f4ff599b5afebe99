"""The ``pyc`` command (``python -m pycmarshal``, or the ``pyc`` console script): the same program as
the Rust binary, run in this process."""

import signal
import sys

from ._pycmarshal import run_cli


def main():
    """Runs ``pyc`` with this process's arguments; returns its exit status (0, 1 or 2)."""
    # The command is native code, which Python's own SIGINT handler cannot interrupt: Ctrl-C stops it
    # as it stops the binary. Python already ignores SIGPIPE, as Rust programs do.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.stdout.flush()
    return run_cli(["pyc"] + sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
