"""Content tree -> the briefings in it and what a CI matrix needs of each; outputs -> checked against manifests.

Kept free of the engine: planning a hundred builds, or checking their artifacts, must not pay for it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from .config import DEFAULT_TEMPLATES_DIR, Variant, briefing_files
from .errors import Diagnostics, SourceLocation

ENGINE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class ListedBriefing:
    """One row of ``briefing list --json``: one job of a CI matrix."""

    slug: str
    folder: str
    editions: list[str]
    digest: str
    """sha256 of every file the build may read (content, templates, engine): the CI cache key."""


def list_briefings(folders: list[Path], variants: tuple[Variant, ...], root: Path) -> list[ListedBriefing]:
    """Each folder with its slug, its path relative to ``root`` (as the matrix will pass it) and its digest."""
    engine = _tree_digest(DEFAULT_TEMPLATES_DIR) + _tree_digest(ENGINE_DIR)
    listed = []
    for folder in folders:
        resolved = folder.resolve()
        try:
            shown = resolved.relative_to(root.resolve()).as_posix()
        except ValueError:
            shown = str(resolved)
        digest = hashlib.sha256((engine + _tree_digest(resolved)).encode()).hexdigest()
        listed.append(ListedBriefing(resolved.name, shown, [v.value for v in variants], digest))
    return listed


def listing_json(listed: list[ListedBriefing]) -> str:
    return json.dumps([asdict(row) for row in listed], separators=(",", ":"))


def _tree_digest(root: Path) -> str:
    """Content, not modification times: a fresh clone on another runner must give the same key."""
    digest = hashlib.sha256()
    for path in briefing_files(root):
        try:
            data = path.read_bytes()
        except OSError:
            data = b"\0unreadable"
        digest.update(f"{path.relative_to(root).as_posix()}\0{len(data)}\0".encode())
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


def verify_outputs(folder: Path, report: Diagnostics) -> int:
    """Check every output a manifest in ``folder`` lists against its sha256; the number of files checked."""
    manifests = sorted(folder.glob("*.manifest.json"))
    if not manifests:
        report.error(SourceLocation(folder), "no *.manifest.json here: nothing to verify")
        return 0
    checked = 0
    for manifest in manifests:
        try:
            outputs = json.loads(manifest.read_text(encoding="utf-8"))["outputs"]
            entries = [(str(entry["path"]), str(entry["sha256"])) for entry in outputs]
        except (OSError, ValueError, KeyError, TypeError):
            report.error(SourceLocation(manifest), "not a manifest written by 'briefing build'")
            continue
        for name, expected in entries:
            path = folder / name
            if Path(name).is_absolute() or ".." in Path(name).parts:
                report.error(SourceLocation(manifest), f"output '{name}' lies outside this folder")
                continue
            try:
                actual = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                report.error(SourceLocation(path), f"missing: listed in {manifest.name}")
                continue
            checked += 1
            if actual != expected:
                report.error(SourceLocation(path), f"sha256 {actual[:12]}… differs from {expected[:12]}… in {manifest.name}")
    return checked
