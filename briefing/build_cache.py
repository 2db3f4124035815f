"""Build config + files on disk -> "nothing changed": skip a build whose inputs and outputs are as left.

Kept free of heavy imports: a no-op rebuild must not pay for the engine it does not run.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .config import BuildConfig, briefing_files, find_defaults
from .manifest import TOOLS, tool_version

RECORD_DIR = "builds"


def fingerprint(config: BuildConfig, epoch: int) -> str:
    """A hash of every file the build may read, the options and the tool versions."""
    digest = hashlib.sha256()
    options = (sorted(v.value for v in config.variants), config.paper and config.paper.value, config.strict, epoch,
               str(config.output_dir.resolve()), [tool_version(name) for name in ("briefing", *TOOLS)])
    digest.update(json.dumps(options, default=str).encode())
    defaults = find_defaults(config.content_dir.resolve())
    if defaults is not None:  # the content tree's briefings.yaml is an input of every briefing beneath it
        stat = defaults.stat()
        digest.update(f"{defaults}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    engine = Path(__file__).resolve().parent  # a checkout updated without a version change still rebuilds
    for root in (config.content_dir.resolve(), config.templates_dir.resolve(), engine):
        for path in briefing_files(root, config.generated_dirs()):
            try:
                stat = path.stat()
            except OSError:  # a broken link or a loop: the build itself will say where
                digest.update(f"{path.relative_to(root)}\0unreadable\n".encode())
                continue
            # Size and modification time stand in for content: reading 3 MB of fonts every time would not.
            digest.update(f"{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def up_to_date(config: BuildConfig, print_: str) -> list[tuple[Path, int | None]] | None:
    """The outputs of the last build if it had this fingerprint and its files are untouched, else None.

    The record is only a hint: anything unreadable, of the wrong shape or naming other files than
    this build writes means "build".
    """
    try:
        data = json.loads(_record_path(config).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("fingerprint") != print_:
            return None
        for entry in data.get("theme_inputs", []):  # theme files outside the briefing folder, as last built
            stat = Path(entry["path"]).stat()
            if stat.st_size != entry["size"] or stat.st_mtime_ns != entry["mtime_ns"]:
                return None
        entries = data["outputs"]
        expected = {str(config.output_path(v)) for v in config.variants} | {str(config.manifest_path())}
        if not isinstance(entries, list) or {entry["path"] for entry in entries} != expected:
            return None
        outputs = []
        for entry in entries:
            path = Path(entry["path"])
            stat = path.stat()
            if stat.st_size != entry["size"] or stat.st_mtime_ns != entry["mtime_ns"]:
                return None
            pages = entry.get("pages")
            outputs.append((path, pages if isinstance(pages, int) else None))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return [output for output in outputs if output[0] != config.manifest_path()]


def remember(
    config: BuildConfig, print_: str, outputs: list[tuple[Path, int | None]], theme_inputs: tuple[Path, ...] = (),
) -> None:
    """Record a successful build so an identical one can be skipped (failing to is no error).

    ``theme_inputs`` (a theme's files and folders, which may lie outside the briefing folder and
    so outside the fingerprint) are recorded with their sizes and times: editing a logo rebuilds.
    """
    from .errors import OutputError
    from .write import write_atomically

    entries = []
    try:
        for path, pages in [*outputs, (config.manifest_path(), None)]:
            stat = path.stat()
            entries.append({"path": str(path), "pages": pages, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns})
        extras = []
        for path in theme_inputs:
            stat = path.stat()
            extras.append({"path": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns})
        data = {"fingerprint": print_, "outputs": entries, "theme_inputs": extras}
        write_atomically(_record_path(config), (json.dumps(data, indent=2) + "\n").encode("utf-8"))
    except (OSError, OutputError):
        return


def forget(config: BuildConfig) -> None:
    """``--no-cache``: the record goes with the figures."""
    _record_path(config).unlink(missing_ok=True)


def _record_path(config: BuildConfig) -> Path:
    name = hashlib.sha256(str(config.content_dir.resolve()).encode()).hexdigest()[:16]
    return config.cache_dir / RECORD_DIR / f"{config.slug}-{name}.json"


