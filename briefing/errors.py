"""Diagnostics collected by every stage, and the exceptions the CLI prints without a traceback."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path


@dataclass(frozen=True, order=True)
class SourceLocation:
    """Where a problem is, as editors understand it (1-based line and column)."""

    path: Path
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        numbers = [str(n) for n in (self.line, self.column) if n is not None]
        return ":".join([_display_path(self.path), *numbers])

    def shifted(self, lines: int = 0, column: int | None = None) -> SourceLocation:
        """Return the location ``lines`` further down, at ``column`` if given."""
        line = None if self.line is None else self.line + lines
        return SourceLocation(self.path, line, column if column is not None else self.column)


def _display_path(path: Path) -> str:
    """Show paths relative to the working directory when they are inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class Severity(Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    """One message for the user, compiler style."""

    severity: Severity
    message: str
    location: SourceLocation | None = None

    def __str__(self) -> str:
        prefix = f"{self.location}: " if self.location else ""
        return _one_line(f"{prefix}{self.severity.value}: {self.message}")


_INVISIBLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""Control characters, and the bidirectional overrides that could reorder a terminal line (Trojan Source)."""


def _one_line(text: str) -> str:
    """Show quoted content verbatim but harmless: one message stays one line that reads as written."""
    return _INVISIBLE.sub(lambda match: match[0].encode("unicode_escape").decode("ascii"), text)


@dataclass
class Diagnostics:
    """Problems collected across stages; a stage keeps going and the gate decides."""

    strict: bool = False
    items: list[Diagnostic] = field(default_factory=list)

    def error(self, location: SourceLocation | None, message: str) -> None:
        self.add(Diagnostic(Severity.ERROR, message, location))

    def warning(self, location: SourceLocation | None, message: str) -> None:
        self.add(Diagnostic(Severity.WARNING, message, location))

    def add(self, diagnostic: Diagnostic) -> None:
        if diagnostic not in self.items:  # the same message twice helps nobody
            self.items.append(diagnostic)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.WARNING]

    def has_failures(self) -> bool:
        """Errors fail a build; so do warnings under ``--strict``."""
        return bool(self.errors or (self.strict and self.warnings))

    def __iter__(self) -> Iterator[Diagnostic]:
        """In file order, as a compiler lists them; problems without a place come last."""
        return iter(sorted(self.items, key=_reading_order))

    def __len__(self) -> int:
        return len(self.items)


def _reading_order(diagnostic: Diagnostic) -> tuple[int, str, int, int]:
    location = diagnostic.location
    if location is None:
        return (1, "", 0, 0)
    return (0, str(location.path), location.line or 0, location.column or 0)


class BriefingError(Exception):
    """Expected failure; the CLI prints it without a traceback."""

    exit_code = 1


class UsageError(BriefingError):
    """The command line asks for something impossible."""

    exit_code = 2


class OutputError(BriefingError):
    """An output could not be written: the message names the path and the cause."""

    exit_code = 3


class ContentError(BriefingError):
    """The content has errors; carries the diagnostics that stopped the build."""

    def __init__(self, report: Diagnostics, stage: str = "") -> None:
        self.report = report
        count = len(report.errors) or len(report.warnings)
        plural = "s" if count != 1 else ""
        kind = f"error{plural}" if report.errors else f"warning{plural} (--strict)"
        where = f" while {stage.lower()}" if stage else ""
        super().__init__(f"build failed{where}: {count} {kind}" if count else f"build failed{where}")


def did_you_mean(found: str, known: Iterable[str]) -> str:
    """Return ' (did you mean 'x'?)' for the closest known word, or ''."""
    matches = difflib.get_close_matches(found, list(known), n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""


def expected_one_of(known: Iterable[str]) -> str:
    """Format a list of allowed words for a message."""
    return ", ".join(f"'{word}'" for word in known)


def missing_dependency(missing: ModuleNotFoundError) -> str:
    """What to do when run by a Python that lacks the project's packages (stdlib only: it must import there)."""
    import sys

    return (
        f"{sys.executable} lacks the package '{missing.name}' this tool needs; run 'make' once (it creates "
        ".venv and installs everything), then use '.venv/bin/briefing' or '.venv/bin/python build.py'"
    )
