"""Progress on a terminal: one live line per briefing (stage, editions, elapsed), drawn by rich.

Elsewhere (a pipe, a CI log, ``--quiet``) progress stays what the log module prints: one plain
line per stage and edition. On a terminal, the stage records of every process (briefings built
in parallel, editions laid out in parallel) reach the one process that owns the terminal through
a pipe, and only it draws: lines never interleave. Each record is one ``os.write`` of less than
``PIPE_BUF`` bytes, which the kernel keeps whole without a lock, so a worker killed mid-write
cannot leave a lock held and hang the others.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from contextlib import suppress
from dataclasses import dataclass, field
from types import TracebackType
from typing import IO

from rich.console import Console, Group
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from .config import Variant
from .log import PROGRESS_LOGGER

EDITION_NAMES = frozenset(v.value for v in Variant)
STOP = b'{"stop": true}\n'
MAX_RECORD = 512
"""Well under PIPE_BUF (4096 on Linux, 512 by POSIX): one write, one whole record."""


@dataclass(frozen=True)
class Stage:
    number: int
    total: int
    name: str


@dataclass
class BriefingProgress:
    """What the live line of one briefing shows: its stage, or its editions' stages once they are laid out."""

    started: float
    stage: Stage | None = None
    editions: dict[str, Stage] = field(default_factory=dict)
    finished: float | None = None
    spinner: Spinner = field(default_factory=lambda: Spinner("dots", style="cyan"))

    def line(self, now: float) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        if self.editions and self.finished is None:
            slowest = min(self.editions.values(), key=lambda stage: stage.number)
            text.append(slowest.name)
            for name, stage in self.editions.items():
                text.append(f"  {name} ", style="dim")
                text.append(f"{stage.number}/{stage.total}")
        elif self.stage is not None:
            text.append(self.stage.name if self.finished is None else "done")
        elapsed = (self.finished or now) - self.started
        text.append(f"  {elapsed:.1f} s", style="dim")
        return text


def stage_record(record: logging.LogRecord) -> dict[str, str | int] | None:
    """The briefing, edition and stage of a progress record (``"[slug edition] 7/10 Laying out pages"``)."""
    if not isinstance(record.args, tuple) or len(record.args) != 4:
        return None
    label, number, total, name = record.args
    if not isinstance(number, int) or not isinstance(total, int):
        return None
    slug, _, edition = str(label).rpartition(" ")
    if edition not in EDITION_NAMES or not slug:
        slug, edition = str(label), ""
    return {"briefing": slug, "edition": edition, "stage": number, "total": total, "name": str(name)}


class _PipeHandler(logging.Handler):
    """Sends each stage record, as one JSON line, to the process drawing the terminal."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self.fd = fd

    def emit(self, record: logging.LogRecord) -> None:
        fields = stage_record(record)
        if fields is None:
            return
        data = (json.dumps(fields, ensure_ascii=False) + "\n").encode()
        if len(data) <= MAX_RECORD:
            with suppress(OSError):  # the terminal process has gone: nothing left to draw on
                os.write(self.fd, data)


class LiveProgress:
    """While open, stage records become live lines instead of printed ones; the lines vanish at the end.

    Worker processes must be forked inside the ``with`` block: they inherit the pipe's writing end
    with the logging handler.
    """

    def __init__(self, stream: IO[str]) -> None:
        self.console = Console(file=stream)
        self.briefings: dict[str, BriefingProgress] = {}
        self._lock = threading.Lock()
        self._read_fd, self._write_fd = os.pipe()
        self._handler = _PipeHandler(self._write_fd)
        self._reader = threading.Thread(target=self._read, name="progress", daemon=True)
        self._live = Live(
            self, console=self.console, transient=True, refresh_per_second=8, redirect_stdout=False,
            redirect_stderr=False,
        )
        self._saved: tuple[list[logging.Handler], bool] = ([], True)

    @staticmethod
    def wanted(stream: IO[str], quiet: bool) -> bool:
        """A live line only where someone watches: a terminal that can move the cursor."""
        console = Console(file=stream)
        return not quiet and console.is_terminal and not console.is_dumb_terminal

    def __enter__(self) -> LiveProgress:
        self._saved = (PROGRESS_LOGGER.handlers[:], PROGRESS_LOGGER.propagate)
        PROGRESS_LOGGER.handlers[:] = [self._handler]
        PROGRESS_LOGGER.propagate = False
        self._reader.start()
        self._live.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None,
    ) -> None:
        PROGRESS_LOGGER.handlers[:], PROGRESS_LOGGER.propagate = self._saved
        os.write(self._write_fd, STOP)
        self._reader.join(timeout=2)
        self._live.stop()
        for fd in (self._write_fd, self._read_fd):
            os.close(fd)

    def _read(self) -> None:
        with os.fdopen(os.dup(self._read_fd), "rb") as pipe:
            for line in pipe:
                record = json.loads(line)
                if record.get("stop"):
                    return
                self.update(record)

    def update(self, record: dict[str, str | int]) -> None:
        """Record a stage reached: by the briefing as a whole, or by one of its editions."""
        now = time.monotonic()
        slug, edition, stage, total = (str(record["briefing"]), str(record["edition"]),
                                       int(record["stage"]), int(record["total"]))
        with self._lock:
            progress = self.briefings.setdefault(slug, BriefingProgress(started=now))
            shown = Stage(stage, total, str(record["name"]))
            if edition:
                progress.editions[edition] = shown
            else:
                progress.stage = shown
            if stage == total and not edition:
                progress.finished = now

    def __rich__(self) -> Group:
        now = time.monotonic()
        table = Table.grid(padding=(0, 1))
        with self._lock:
            for slug, progress in self.briefings.items():
                mark = Text("✓", style="green") if progress.finished else progress.spinner
                table.add_row(mark, Text(slug, style="bold", no_wrap=True), progress.line(now))
        return Group(table)
