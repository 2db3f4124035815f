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


def configure_logging(quiet: bool = False) -> None:
    """Send our messages to stderr as plain lines; quiet hides progress, not problems."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    LOGGER.handlers[:] = [handler]
    LOGGER.setLevel(logging.INFO)
    LOGGER.propagate = False
    PROGRESS_LOGGER.setLevel(logging.WARNING if quiet else logging.INFO)
