"""A briefing folder being edited -> a fresh PDF after every save, from one warm process."""

from __future__ import annotations

import time
from pathlib import Path

from .config import BuildConfig, briefing_files
from .errors import ContentError, Diagnostics
from .log import LOGGER


def watch(config: BuildConfig, interval: float = 0.3, max_builds: int | None = None) -> int:
    """Rebuild whenever a file of the briefing or the templates changes; bad content never stops it."""
    from .pipeline import build  # imported once: every rebuild after the first is warm

    LOGGER.info("watching %s (Ctrl-C to stop)", config.content_dir)
    seen: dict[Path, int] | None = None
    builds = 0
    try:
        while max_builds is None or builds < max_builds:
            state = _state(config)
            if state != seen:
                seen = state
                _rebuild(build, config)
                builds += 1
            else:
                time.sleep(interval)
    except KeyboardInterrupt:
        LOGGER.info("stopped watching")
    return 0


def _rebuild(build: object, config: BuildConfig) -> None:
    started = time.perf_counter()
    report = Diagnostics(strict=config.strict)
    try:
        result = build(config, report)  # type: ignore[operator]
    except ContentError:
        for diagnostic in report:
            LOGGER.info("%s", diagnostic)
        LOGGER.info("build failed in %.2f s; waiting for the next save", time.perf_counter() - started)
        return
    except Exception as error:
        LOGGER.error("internal error: %s: %s; waiting for the next save", type(error).__name__, error)
        return
    for diagnostic in report:
        LOGGER.info("%s", diagnostic)
    pages = ", ".join(f"{o.path.name} ({o.pages} pages)" for o in result.outputs if o.pages)
    LOGGER.info("rebuilt in %.2f s: %s", time.perf_counter() - started, pages)


def _state(config: BuildConfig) -> dict[Path, int]:
    """Modification times of every file that can change the output (never the outputs themselves)."""
    state = {}
    for root in (config.content_dir, config.templates_dir):
        for path in briefing_files(root, config.generated_dirs()):
            try:
                state[path] = path.stat().st_mtime_ns
            except OSError:  # deleted between the listing and now: the next scan sees it gone
                continue
    return state
