"""Bytes -> files, all or nothing: one file, or a briefing's whole set of outputs, replaced in one step.

A set is staged as complete temporary files, then a journal naming them is written, then each is
renamed into place with the old file kept as a hard-linked backup. A failure while renaming puts the
backups back; a kill (nothing runs) leaves the journal, and the next build of that folder rolls the
set forward before it reads anything. Either way every file of a briefing comes from one build.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

from .errors import OutputError
from .processes import signals_held

JOURNAL_SUFFIX = ".commit.json"


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` in one step, so readers and concurrent builds never see half a file."""
    temporary = _stage(path, data)
    with _removed_on_failure(temporary, path):
        os.replace(temporary, path)


def write_set(files: Mapping[Path, bytes], name: str) -> None:
    """Replace every file of ``files`` (in one folder) or none of them (see the module docstring)."""
    folder = next(iter(files)).parent
    journal = folder / f".{name}.{os.getpid()}{JOURNAL_SUFFIX}"
    staged: dict[Path, Path] = {}
    try:
        for path, data in files.items():
            staged[path] = _stage(path, data)
        _write_journal(journal, staged)
    except BaseException:
        for temporary in staged.values():
            temporary.unlink(missing_ok=True)
        raise
    with signals_held():
        _commit(staged, journal)


def recover(folder: Path) -> None:
    """Finish a set of outputs whose commit a kill interrupted (the temporary files are complete)."""
    if not folder.is_dir():
        return
    for journal in folder.glob(f".*{JOURNAL_SUFFIX}"):
        try:
            record = json.loads(journal.read_text(encoding="utf-8"))
            staged = {folder / final: folder / temporary for final, temporary in record["files"]}
            owner = int(record["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            journal.unlink(missing_ok=True)  # unreadable: it was never complete, so nothing was renamed
            continue
        if owner != os.getpid() and _alive(owner):
            continue  # another build is committing this very moment
        with suppress(OutputError):
            _commit({final: temporary for final, temporary in staged.items() if temporary.exists()}, journal)
        for final in staged:
            _backup_name(final).unlink(missing_ok=True)


def _stage(path: Path, data: bytes) -> Path:
    """A complete, synced copy of ``data`` beside ``path``, under a temporary name."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "a folder has this name", str(path))
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise output_error(path, error) from error
    temporary = Path(name)
    with _removed_on_failure(temporary, path):
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
    return temporary


@contextmanager
def _removed_on_failure(temporary: Path, path: Path) -> Iterator[None]:
    """On any failure the temporary file goes; a failure of the file system names ``path`` and its cause."""
    try:
        yield
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise output_error(path, error) from error
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _write_journal(journal: Path, staged: Mapping[Path, Path]) -> None:
    pairs = [[final.name, temporary.name] for final, temporary in staged.items()]
    write_atomically(journal, json.dumps({"pid": os.getpid(), "files": pairs}).encode("utf-8"))
    _sync_folder(journal.parent)


def _commit(staged: Mapping[Path, Path], journal: Path) -> None:
    """Rename each staged file into place; on failure put every replaced file back."""
    backups: dict[Path, Path | None] = {}
    try:
        for final, temporary in staged.items():
            backups[final] = _backup(final)
            os.replace(temporary, final)
    except OSError as error:
        for final, backup in backups.items():
            with suppress(OSError):
                if backup is None:
                    final.unlink(missing_ok=True)
                else:  # (a no-op when the file was not replaced yet: both names are one file)
                    os.replace(backup, final)
                    backup.unlink(missing_ok=True)
        for temporary in staged.values():
            temporary.unlink(missing_ok=True)
        journal.unlink(missing_ok=True)
        raise output_error(final, error) from error
    for backup in backups.values():
        if backup is not None:
            backup.unlink(missing_ok=True)
    journal.unlink(missing_ok=True)
    _sync_folder(journal.parent)


def _backup(path: Path) -> Path | None:
    """A second name for the file about to be replaced (no copy: a hard link needs no space)."""
    backup = _backup_name(path)
    backup.unlink(missing_ok=True)
    try:
        os.link(path, backup)
    except FileNotFoundError:
        return None
    except OSError:  # a file system without hard links
        shutil.copy2(path, backup)
    return backup


def _backup_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.previous")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _sync_folder(folder: Path) -> None:
    with suppress(OSError):
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def output_error(path: Path, error: OSError) -> OutputError:
    causes = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exceeded",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EROFS: "the file system is read-only",
        errno.ENAMETOOLONG: "the path is too long",
        errno.EISDIR: "a folder has this name",
        errno.ENOTDIR: "a part of the path is a file, not a folder",
        errno.EEXIST: "a part of the path is a file, not a folder",
    }
    cause = causes.get(error.errno or 0, error.strerror or str(error))
    return OutputError(f"cannot write '{path}': {cause}")
