"""A laid-out print edition -> press-ready PDF/X: crop marks outside the bleed, RGB tagged as sRGB.

Runs as WeasyPrint's *finisher*, on the PDF objects just before they are written, so nothing
is parsed or serialised twice.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from .errors import Diagnostics
from .load import ContentFiles, LocatedDict, LocatedStr, check_known_keys, resolve_inside
from .model import PrintSettings

MM = 72 / 25.4
BLEED_MM = 3.0
"""Trim to bleed edge, on every side: what print shops ask for."""
SLUG_MM = 9.0
"""Paper beyond the bleed that carries the crop marks."""
MARK_LENGTH_MM = 5.0
MARK_WIDTH_PT = 0.25
REGISTRATION = "1 1 1 1 k 1 1 1 1 K"
"""Crop marks print on every plate (registration colour), as imposition software expects."""
SRGB_PROFILE_NAME = "--srgb"
"""The ``@color-profile`` of the print stylesheet whose ICC profile describes RGB content."""
DEFAULT_CONDITION = "CGATS TR 001"
"""The registry name of US SWOP, the condition of the default output profile (Artifex's SWOP-based CMYK)."""
PRINT_KEYS = ("stitched", "profile", "condition")


def read_print_settings(files: ContentFiles, value: Any, report: Diagnostics) -> PrintSettings:
    """``print: {stitched, profile, condition}``; the profile must be a CMYK output profile inside the folder."""
    if value is None:
        return PrintSettings()
    if not isinstance(value, LocatedDict):
        report.error(value.location, "'print' is a mapping, e.g. 'print: {profile: press.icc, condition: FOGRA39}'")
        return PrintSettings()
    check_known_keys(value, PRINT_KEYS, "print", report)
    stitched = value.get("stitched")
    if stitched is not None and str(stitched).lower() not in ("true", "false", "yes", "no"):
        report.error(stitched.location, f"'stitched' is true or false, found '{stitched}'")
    profile = _output_profile(files, value.get("profile"), report)
    condition = value.get("condition")
    if condition is not None and not (isinstance(condition, LocatedStr) and condition.strip()):
        report.error(getattr(condition, "location", value.location), "'condition' names the printing condition, e.g. FOGRA39")
        condition = None
    if profile is not None and condition is None:
        report.error(value.location, "with 'profile', also give 'condition': the name the print shop uses for it")
    return PrintSettings(
        stitched=str(stitched).lower() in ("true", "yes"),
        profile=profile,
        condition=str(condition).strip() if condition is not None else None,
    )


def _output_profile(files: ContentFiles, value: Any, report: Diagnostics) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, LocatedStr):
        report.error(value.location, "'profile' is the path of an .icc file in the briefing folder")
        return None
    path = resolve_inside(files, value, report)
    if path is None:
        return None
    try:
        header = path.read_bytes()[:128]
    except OSError as error:
        report.error(value.location, f"cannot read '{value}': {error.strerror}")
        return None
    # ICC header: bytes 12-16 the device class, 16-20 the colour space, 36-40 the signature 'acsp'.
    if len(header) < 128 or header[36:40] != b"acsp":
        report.error(value.location, f"'{value}' is not an ICC colour profile")
    elif header[12:16] != b"prtr" or header[16:20] != b"CMYK":
        found = f"{header[12:16].decode('latin-1').strip()} / {header[16:20].decode('latin-1').strip()}"
        report.error(value.location, f"'{value}' is a {found} profile; the print edition needs a CMYK output (prtr) profile")
    else:
        return path
    return None


def finish_for_press(document: Any, pdf: Any, document_id: str, condition: str = DEFAULT_CONDITION) -> None:
    """Widen each page for the crop marks, draw them, make DeviceRGB mean sRGB, fix the XMP id."""
    import pydyf

    _stable_xmp_id(pdf, document_id)
    for intent in pdf.catalog.get("OutputIntents", []):  # the engine names the condition after the CSS profile
        intent["OutputConditionIdentifier"] = pydyf.String(condition)
        intent["Info"] = pydyf.String(condition)
    for page in _pages(pdf):
        trim = [float(v) for v in page["TrimBox"]]
        slug = (BLEED_MM + SLUG_MM) * MM
        page["MediaBox"] = pydyf.Array([trim[0] - slug, trim[1] - slug, trim[2] + slug, trim[3] + slug])
        bleed = BLEED_MM * MM
        page["BleedBox"] = pydyf.Array([trim[0] - bleed, trim[1] - bleed, trim[2] + bleed, trim[3] + bleed])
        marks = pydyf.Stream([_crop_marks(trim)])
        pdf.add_object(marks)
        contents = page["Contents"]
        page["Contents"] = pydyf.Array([contents, marks.reference])
    _default_rgb_is_srgb(pdf)


def _stable_xmp_id(pdf: Any, document_id: str) -> None:
    """WeasyPrint gives PDF/X-4 a random xmpMM:DocumentID; derive it from the inputs instead."""
    metadata = pdf.catalog.get("Metadata")
    if metadata is None:
        return
    reference = metadata.decode() if isinstance(metadata, bytes) else str(metadata)
    stream = pdf.objects[int(reference.split()[0])]
    stable = f"xmp.did:{uuid.UUID(document_id[:32])}".encode("ascii")
    stream.stream = [re.sub(rb"xmp\.did:[0-9a-f\-]{36}", stable, _as_bytes(chunk)) for chunk in stream.stream]


def _as_bytes(chunk: Any) -> bytes:
    return chunk if isinstance(chunk, bytes) else str(chunk).encode("utf-8")


def _pages(pdf: Any) -> list[Any]:
    kids = pdf.pages["Kids"]
    return [pdf.objects[number] for number in kids[::3]]


def _crop_marks(trim: list[float]) -> str:
    """Eight short lines at the corners, starting at the bleed edge so they never print on the page."""
    left, bottom, right, top = trim
    gap, length = BLEED_MM * MM, MARK_LENGTH_MM * MM
    lines = []
    for x, y, sx, sy in ((left, bottom, -1, -1), (right, bottom, 1, -1), (left, top, -1, 1), (right, top, 1, 1)):
        # horizontal mark on the trim line y, vertical mark on the trim line x
        lines.append(f"{x + sx * gap:.3f} {y:.3f} m {x + sx * (gap + length):.3f} {y:.3f} l S")
        lines.append(f"{x:.3f} {y + sy * gap:.3f} m {x:.3f} {y + sy * (gap + length):.3f} l S")
    return "\n".join(["q", REGISTRATION, f"{MARK_WIDTH_PT} w", "0 J", *lines, "Q"])


def _default_rgb_is_srgb(pdf: Any) -> None:
    """Colour spaces named in the print stylesheet get ``DefaultRGB``: DeviceRGB becomes sRGB.

    PDF/X-4 accepts device-independent RGB; with DefaultRGB the RIP converts figures and
    images from sRGB to the output intent instead of guessing.
    """
    for candidate in pdf.objects:
        if isinstance(candidate, dict) and SRGB_PROFILE_NAME in candidate:
            candidate["DefaultRGB"] = candidate[SRGB_PROFILE_NAME]
