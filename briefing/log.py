"""Loggers and the level policy.

``LOGGER`` ("briefing") carries diagnostics and the final summary; ``PROGRESS_LOGGER``
("briefing.progress") carries one line per stage, silenced by ``--quiet``. Both write to
standard error, so standard output stays free for what a user may pipe.
"""

from __future__ import annotations

import logging
import sys

LOGGER = logging.getLogger("briefing")
PROGRESS_LOGGER = logging.getLogger("briefing.progress")


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to ``sys.stderr`` as it is when a message is logged, not as it was when logging was set up.

    ``main()`` may run many times in one process (tests, embedding), each time with its own stderr,
    and a thread (the preview's, the watcher's) may log after that stderr was closed.
    """

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(quiet: bool = False) -> None:
    """Send our messages to stderr as plain lines; quiet hides progress, not problems."""
    handler = _StderrHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    LOGGER.handlers[:] = [handler]
    LOGGER.setLevel(logging.INFO)
    LOGGER.propagate = False
    PROGRESS_LOGGER.setLevel(logging.WARNING if quiet else logging.INFO)
