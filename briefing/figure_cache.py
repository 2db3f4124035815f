"""Drawn figures <-> ``.cache/figures``: SVG files plus a JSON sidecar, keyed by a content hash.

Reading the cache never imports matplotlib, so an unchanged briefing rebuilds without it.
The cache is only a hint: anything missing, unreadable or inconsistent is redrawn.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from .model import DrawnFigure, FigureText
from .write import write_atomically


@dataclass(frozen=True)
class DrawnPart:
    """One part as drawn, before it is on disk: its three SVGs and what the page needs."""

    svg: bytes
    print_svg: bytes
    html_svg: bytes
    alt_text: str
    width_mm: float
    height_mm: float
    event_count: int
    texts: tuple[FigureText, ...]
    font_size_pt: float


def hash_payload(payload: dict[str, Any]) -> str:
    """A stable hash of everything that changes a figure (JSON with sorted keys)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def matplotlib_version() -> str:
    """The installed version, read from package metadata so matplotlib itself is not imported."""
    try:
        return metadata.version("matplotlib")
    except metadata.PackageNotFoundError:
        return "unknown"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def safe_name(figure_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", figure_id).lstrip(".") or "figure"


def read_cached(figure_id: str, folder: Path, sidecar: Path, key: str) -> tuple[DrawnFigure, ...] | None:
    """A figure drawn earlier with the same key, or None when a file is missing or unreadable."""
    if not sidecar.is_file():
        return None
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
        if data.get("key") != key:
            return None
        parts = tuple(_part(figure_id, folder, part) for part in data["parts"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # a damaged cache entry is simply redrawn
    files = [path for part in parts for path in (part.svg_path, part.print_svg_path, part.html_svg_path)]
    if not parts or not all(path is not None and _readable_svg(path) for path in files):
        return None
    return parts


def _readable_svg(path: Path) -> bool:
    """A cached SVG cut short (a full disk, a killed build) must not reach the page."""
    try:
        return path.is_file() and path.read_bytes().rstrip().endswith(b"</svg>")
    except OSError:
        return False


def _part(figure_id: str, folder: Path, part: dict[str, Any]) -> DrawnFigure:
    texts = tuple(
        FigureText(str(t["text"]), str(t["role"]), float(t["x"]), float(t["baseline"]), str(t["anchor"]),
                   bool(t["bold"]))
        for t in part["texts"]
    )
    return DrawnFigure(
        id=figure_id,
        svg_path=folder / str(part["svg"]),
        alt_text=str(part["alt_text"]),
        width_mm=float(part["width_mm"]),
        height_mm=float(part["height_mm"]),
        event_count=int(part["event_count"]),
        print_svg_path=folder / str(part["print_svg"]),
        html_svg_path=folder / str(part["html_svg"]),
        texts=texts,
        font_size_pt=float(part["font_size_pt"]),
    )


def store(figure_id: str, stem: Path, sidecar: Path, key: str, parts: Sequence[DrawnPart]) -> tuple[DrawnFigure, ...]:
    """Write every SVG first, then the sidecar that lists them, so a half-written entry is never read."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    drawn = []
    records = []
    for index, part in enumerate(parts, start=1):
        names = {kind: f"{stem.name}-{index}{suffix}.svg" for kind, suffix in
                 (("svg", ""), ("print_svg", "-print"), ("html_svg", "-html"))}
        for kind, data in (("svg", part.svg), ("print_svg", part.print_svg), ("html_svg", part.html_svg)):
            write_atomically(stem.parent / names[kind], data)
        record = {
            **names,
            "alt_text": part.alt_text,
            "width_mm": part.width_mm,
            "height_mm": part.height_mm,
            "event_count": part.event_count,
            "font_size_pt": part.font_size_pt,
            "texts": [
                {"text": t.text, "role": t.role, "x": t.x_mm, "baseline": t.baseline_mm, "anchor": t.anchor,
                 "bold": t.bold}
                for t in part.texts
            ],
        }
        records.append(record)
        drawn.append(_part(figure_id, stem.parent, record))
    text = json.dumps({"key": key, "id": figure_id, "parts": records}, indent=2, ensure_ascii=False, sort_keys=True)
    write_atomically(sidecar, (text + "\n").encode("utf-8"))
    return tuple(drawn)
