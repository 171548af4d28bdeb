"""What every command shares: exit codes and the one way text reaches the terminal."""

from __future__ import annotations

import sys
from typing import TextIO

#: 0 success; 1 a problem in the user's files or lead (or a failed test, an unsold lead);
#: 2 a usage mistake or an unexpected failure of leadpost itself.
EXIT_OK, EXIT_PROBLEMS, EXIT_FAILURE = 0, 1, 2
#: The shell's codes for a command ended by a closed pipe (128 + SIGPIPE: ``leadpost explain …
#: | head -1``) and by Ctrl-C (128 + SIGINT).
EXIT_BROKEN_PIPE, EXIT_INTERRUPTED = 141, 130


def out(text: str, stream: TextIO | None = None) -> None:
    """Print ``text`` and a newline on ``stream`` (standard output by default)."""
    print(text, file=stream or sys.stdout)
