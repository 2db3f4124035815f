"""Images of the content -> located problems, before the engine opens any of them.

The engine's own fetcher refuses files outside the allowed folders, but only at layout time,
without saying which line of the content asked for them, and after it has paid for decoding.
Here every image, and everything an SVG pulls in, is checked against the same limits first:
local files inside the briefing, a bounded pixel count, a bounded SVG expansion, no cycles.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from .errors import Diagnostics
from .load import ContentFiles, LocatedStr, read_text, resolve_inside
from .model import ImageFigure

MAX_IMAGE_PIXELS = 40_000_000
"""About 8000 x 5000: larger images are refused before the engine decodes them (decompression bombs)."""
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")
MAX_SVG_ELEMENTS = 20_000
"""Elements an SVG draws once every ``<use>`` is expanded: a 2 KB file of nested uses can ask for billions."""
MAX_SVG_DEPTH = 4
"""SVG images inside SVG images inside…: deeper nesting is refused, and so is any cycle."""

SVG_REFERENCE = re.compile(r"url\(\s*['\"]?([^'\")]*)|@import\s+['\"]([^'\"]*)")
"""References in SVG styles: ``url(...)`` and ``@import "..."``."""
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:|^//")


def check_images(files: ContentFiles, images: Sequence[ImageFigure], report: Diagnostics) -> None:
    """Images are local files inside the briefing folder, of a known kind and a sane size."""
    for image in images:
        if _SCHEME.match(image.path):
            report.error(image.location, f"image '{image.path}': only local files inside the briefing folder can be used")
            continue
        path = resolve_inside(files, LocatedStr(image.path, image.location), report)
        if path is None:
            continue
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            report.error(image.location, f"image '{image.path}': expected one of {', '.join(IMAGE_SUFFIXES)}")
        else:
            _ImageCheck(files, image, report).check(path, ())


class _ImageCheck:
    """One image of the content and all it refers to; every problem is located at the image."""

    def __init__(self, files: ContentFiles, image: ImageFigure, report: Diagnostics) -> None:
        self.files, self.image, self.report = files, image, report

    def error(self, message: str) -> None:
        self.report.error(self.image.location, f"image '{self.image.path}'{message}")

    def check(self, path: Path, chain: tuple[Path, ...]) -> None:
        if path.suffix.lower() == ".svg":
            self._check_svg(path, chain)
        else:
            self._check_raster(path, self._via(chain, path))

    def _via(self, chain: tuple[Path, ...], path: Path) -> str:
        """How an image nested in SVGs is reached, for the message: '' for the image itself."""
        if not chain:
            return ""
        steps = [p.relative_to(self.files.folder).as_posix() for p in (*chain[1:], path)]
        return f" (through {' -> '.join(steps)})"

    def _check_svg(self, path: Path, chain: tuple[Path, ...]) -> None:
        from lxml import etree

        if path in chain:
            self.error(f"{self._via(chain, path)}: SVG images that include each other form a cycle")
            return
        if len(chain) >= MAX_SVG_DEPTH:
            self.error(f"{self._via(chain, path)}: SVG images nested more than {MAX_SVG_DEPTH} deep")
            return
        text = read_text(self.files, path, self.image.location, self.report)
        if text is None:
            return
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
        via = self._via(chain, path)
        try:
            root = etree.fromstring(text.encode("utf-8"), parser)
        except etree.XMLSyntaxError as error:
            self.error(f"{via} is not a readable SVG file: {error.msg}")
            return
        if root.getroottree().docinfo.doctype:
            self.error(f"{via}: an SVG may not have a <!DOCTYPE> (no entities, no DTD)")
            return
        expanded = _expanded_size(root)
        if expanded is None:
            self.error(f"{via}: a <use> element refers to itself or to an element containing it")
            return
        if expanded > MAX_SVG_ELEMENTS:
            self.error(f"{via} expands to more than {MAX_SVG_ELEMENTS:,} elements once its <use> references are followed; "
                       f"the limit is {MAX_SVG_ELEMENTS:,}")
            return
        for reference in _references(root):
            self._check_reference(reference, path, (*chain, path))

    def _check_reference(self, reference: str, svg: Path, chain: tuple[Path, ...]) -> None:
        if not reference or reference.startswith("#"):
            return
        if reference.lower().startswith("data:"):
            self._check_data_uri(reference, chain)
            return
        allowed = not _SCHEME.match(reference) and not reference.startswith("/")
        target = None
        if allowed:
            try:
                target = (svg.parent / unquote(reference.split("#")[0].split("?")[0])).resolve()
            except (OSError, RuntimeError, ValueError):
                allowed = False
        if target is None or not allowed or not target.is_relative_to(self.files.folder):
            self.error(f" refers to '{reference}'; an image may only use files inside the briefing folder")
            return
        if target.is_file() and target.suffix.lower() in IMAGE_SUFFIXES:
            self.check(target, chain)

    def _check_data_uri(self, reference: str, chain: tuple[Path, ...]) -> None:
        header, _, payload = reference.partition(",")
        if not header.lower().startswith("data:image/") or "image/svg" in header.lower():
            return  # fonts and styles are the engine's to refuse; nested SVG data is rare and small
        try:
            data = base64.b64decode(unquote(payload), validate=False) if ";base64" in header.lower() else b""
        except (binascii.Error, ValueError):
            self.error(f"{self._via(chain, chain[-1])}: an embedded image is not valid base64")
            return
        if data:
            self._check_raster(io.BytesIO(data), f"{self._via(chain, chain[-1])}: an embedded image")

    def _check_raster(self, source: Path | io.BytesIO, via: str) -> None:
        from PIL import Image, ImageFile, UnidentifiedImageError

        limit = f"the limit is {MAX_IMAGE_PIXELS:,} pixels"
        try:
            with warnings.catch_warnings():
                # Pillow warns above its own bound and refuses above twice that; ours is lower, checked below.
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(source) as opened:  # reads the header only, decodes nothing
                    width, height = opened.size
        except Image.DecompressionBombError as error:
            pixels = re.search(r"\((\d+) pixels\)", str(error))
            size = f"{int(pixels[1]):,} pixels" if pixels else "too many pixels"
            self.error(f"{via} has {size}; {limit}")
            return
        except (UnidentifiedImageError, OSError, ValueError):
            self.error(f"{via} is not a readable image file")
            return
        if width * height > MAX_IMAGE_PIXELS:
            self.error(f"{via} is {width} x {height} pixels; {limit}")
            return
        # WeasyPrint sets this switch for the whole process when imported; it would let broken data pass.
        tolerant, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
        try:
            if isinstance(source, io.BytesIO):
                source.seek(0)
            with Image.open(source) as opened:  # the engine may copy the data into the PDF without decoding it
                opened.load()
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
            self.error(f"{via} cannot be decoded: {error}")
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = tolerant


def _references(root: Any) -> list[str]:
    """Every href/src attribute and every ``url()``/``@import`` in attributes and style sheets."""
    from lxml import etree

    references = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for name, value in element.attrib.items():
            if etree.QName(name).localname in ("href", "src"):
                references.append(value)
            references.extend(a or b for a, b in SVG_REFERENCE.findall(value))
        if isinstance(element.text, str) and etree.QName(element).localname == "style":
            references.extend(a or b for a, b in SVG_REFERENCE.findall(element.text))
    return list(dict.fromkeys(r.strip() for r in references))


def _expanded_size(root: Any) -> int | None:
    """Elements drawn once each ``<use href="#id">`` is replaced by a copy of its target; None on a cycle."""
    from lxml import etree

    by_id = {element.get("id"): element for element in root.iter() if isinstance(element.tag, str) and element.get("id")}
    sizes: dict[Any, int] = {}
    visiting: set[Any] = set()

    def size(element: Any) -> int | None:
        if element in sizes:
            return sizes[element]
        if element in visiting:
            return None
        visiting.add(element)
        total = 1
        for child in element:
            if not isinstance(child.tag, str):
                continue
            inner = size(child)
            if inner is None:
                return None
            total += inner
            if total > MAX_SVG_ELEMENTS:
                break  # enough to refuse; no need to count a billion
        if isinstance(element.tag, str) and etree.QName(element).localname == "use":
            href = next((v for k, v in element.attrib.items() if etree.QName(k).localname == "href"), "")
            target = by_id.get(href[1:]) if href.startswith("#") else None
            if target is not None:
                inner = size(target)
                if inner is None:
                    return None
                total += inner
        visiting.discard(element)
        sizes[element] = min(total, MAX_SVG_ELEMENTS + 1)
        return sizes[element]

    return size(root)
