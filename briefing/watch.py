"""A briefing folder being edited -> one rebuild after every save, from one warm process.

Changes come from the operating system through ``watchfiles`` (inotify on Linux), not from
polling. An editor's save is several events (write a temporary file, rename it, touch the
folder); they arrive within milliseconds and are taken as one change. Outputs and caches are
never inputs: ``output/`` may lie inside the briefing folder (``cd b && briefing watch .``), and a
build writing there must not count as a save, or the build would start itself for ever.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

from .config import UNREAD_FOLDERS, BuildConfig, find_defaults
from .errors import BriefingError, ContentError, Diagnostic, Diagnostics, Severity
from .log import LOGGER
from .model import BuildResult

T = TypeVar("T")

QUIET_TIME = 0.05
"""Seconds without a new event that end one save (watchfiles' ``step``)."""
MAX_WAIT = 1.6
"""A stream of events longer than this (a checkout, a copy) is still cut into rebuilds this often."""
EDITOR_LITTER = (".tmp", ".swp", ".swx", ".swpx", "~", ".kate-swp", ".crswap")
"""Temporary files of editors and of our own writer: never content."""
REAPPEAR_POLL = 0.2
"""How often a vanished folder is looked for again."""


@dataclass(frozen=True)
class WatchedPaths:
    """What a build reads (the roots) and what it writes (never watched, though inside a root)."""

    roots: tuple[Path, ...]
    generated: tuple[Path, ...]

    @classmethod
    def of(cls, config: BuildConfig) -> WatchedPaths:
        """The briefing, the templates, and the tree a ``briefings.yaml`` above it shares (its theme)."""
        defaults = find_defaults(config.content_dir.resolve())
        folders = (config.content_dir, config.templates_dir, *((defaults.parent,) if defaults else ()))
        roots = tuple(dict.fromkeys(p.resolve() for p in folders))
        return cls(roots, tuple(p.resolve() for p in config.generated_dirs()))

    def is_input(self, path: Path) -> bool:
        """Whether a change at ``path`` can change the outputs."""
        if path.name.endswith(EDITOR_LITTER) or path.name.startswith(".#"):
            return False
        if any(path == folder or folder in path.parents for folder in self.generated):
            return False
        root = next((r for r in self.roots if r == path or r in path.parents), None)
        if root is None:
            return False
        return not any(part in UNREAD_FOLDERS for part in path.relative_to(root).parts)


class ChangeFeed:
    """Saves under the watched roots, one set of paths per save, from a thread of its own.

    Started before the first build, so a save made while it runs is not lost; saves made during
    a rebuild are merged into one by ``next_change``. A root that vanishes (a folder deleted or
    renamed away) is reported as a change, then looked for until it comes back.
    """

    def __init__(self, paths: WatchedPaths, quiet_time: float = QUIET_TIME) -> None:
        self.paths = paths
        self.quiet_time = quiet_time
        self._changes: queue.Queue[set[Path]] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="briefing-watch", daemon=True)

    def __enter__(self) -> ChangeFeed:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def next_change(self, timeout: float | None = None) -> set[Path] | None:
        """Wait for a save; every save queued meanwhile is merged in. None: nothing within ``timeout``."""
        try:
            changed = self._changes.get(timeout=timeout)
        except queue.Empty:
            return None
        while True:
            try:
                changed |= self._changes.get_nowait()
            except queue.Empty:
                return changed

    def _run(self) -> None:
        import watchfiles

        while not self._stop.is_set():
            roots = [root for root in self.paths.roots if root.is_dir()]
            if len(roots) < len(self.paths.roots):
                self._wait_for_roots()
                continue
            try:
                for batch in watchfiles.watch(
                    *roots, watch_filter=lambda _change, path: self.paths.is_input(Path(path)),
                    debounce=int(MAX_WAIT * 1000), step=max(1, int(self.quiet_time * 1000)),
                    stop_event=self._stop, raise_interrupt=False, ignore_permission_denied=True,
                ):
                    self._changes.put({Path(path) for _, path in batch})
            except (OSError, RuntimeError) as error:  # a root gone between the check and the watch
                LOGGER.debug("watching stopped: %s", error)
                self._stop.wait(REAPPEAR_POLL)
            # The watch ends when one of its roots is deleted: wait for it to come back.

    def _wait_for_roots(self) -> None:
        missing = [root for root in self.paths.roots if not root.is_dir()]
        LOGGER.info("%s: folder missing; waiting for it to come back", ", ".join(map(str, missing)))
        while not self._stop.is_set() and not all(root.is_dir() for root in self.paths.roots):
            self._stop.wait(REAPPEAR_POLL)
        if not self._stop.is_set():
            self._changes.put(set(self.paths.roots))


Builder = Callable[[BuildConfig, Diagnostics], BuildResult]


def watch(config: BuildConfig, quiet_time: float = QUIET_TIME, max_builds: int | None = None) -> int:
    """Rebuild whenever a file of the briefing or the templates is saved; bad content never stops it."""
    build = warm_builder()

    LOGGER.info("watching %s (Ctrl-C to stop)", config.content_dir)
    builds = 0
    try:
        with ChangeFeed(WatchedPaths.of(config), quiet_time) as feed:
            rebuild(build, config)
            builds += 1
            while max_builds is None or builds < max_builds:
                changed = feed.next_change(timeout=1.0)
                if changed is None:
                    continue
                LOGGER.info("changed: %s", _names(changed))
                rebuild(build, config)
                builds += 1
    except KeyboardInterrupt:
        LOGGER.info("stopped watching")
    return 0


def warm_builder() -> Builder:
    """Builds for one long-lived process: the pipeline imported once, and References laid out by one
    build kept for the next (``layout_parts.KeptLayouts``)."""
    from .layout_parts import KeptLayouts
    from .pipeline import build

    return partial(build, kept=KeptLayouts())


def attempt(action: Callable[[], T], report: Diagnostics) -> tuple[T | None, list[Diagnostic] | None]:
    """Run one rebuild (watch) or refresh (preview); its problems are returned, never raised: a
    watcher outlives bad content, unwritable outputs and our own bugs, and the next save retries."""
    try:
        return action(), None
    except ContentError:
        return None, list(report)
    except BriefingError as error:  # outputs that cannot be written, say: the message names the path
        return None, [*report, Diagnostic(Severity.ERROR, str(error))]
    except Exception as error:
        return None, [*report, Diagnostic(Severity.ERROR, f"internal error: {type(error).__name__}: {error}")]


def rebuild(build: Builder, config: BuildConfig) -> tuple[BuildResult | None, list[Diagnostic]]:
    """One build; its problems are logged (and returned), never raised: the next save gets another chance."""
    started = time.perf_counter()
    report = Diagnostics(strict=config.strict)
    result, problems = attempt(lambda: build(config, report), report)
    for diagnostic in problems if problems is not None else report:
        LOGGER.info("%s", diagnostic)
    if result is None:
        LOGGER.info("build failed in %.2f s; waiting for the next save", time.perf_counter() - started)
        return None, problems or []
    pages = ", ".join(f"{o.path.name} ({o.pages} pages)" if o.pages else o.path.name for o in result.outputs)
    LOGGER.info("rebuilt in %.2f s: %s", time.perf_counter() - started, pages)
    return result, list(report)


def _names(paths: Iterable[Path]) -> str:
    names = sorted(path.name for path in paths)
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
