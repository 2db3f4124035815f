"""The ``theme:`` setting -> a checked ``model.Theme``: logo, colours, figure palette, fonts, template overrides.

A theme is content like any other: every file it names must lie inside the content tree (the
folder holding ``briefings.yaml``, or the briefing folder when there is none), the logo goes
through the checks of content images, the palette is checked for greyscale and colour-vision
deficiencies, and the overriding templates are confined and sandboxed (see ``template_env.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .colour_vision import collisions, contrast_ratio, parse_hex
from .errors import Diagnostics, SourceLocation, did_you_mean
from .images import check_images
from .load import ContentFiles, LocatedDict, LocatedList, LocatedStr, check_known_keys, key_location, read_yaml, resolve_within
from .model import ImageFigure, Theme
from .theme_fonts import read_font_folder

THEME_FILE = "theme.yaml"
TEMPLATES_FOLDER = "templates"
THEME_KEYS = ("logo", "colors", "palette", "fonts", "templates")
QUARTO_THEME_KEYS = {"color": "colors", "colours": "colors", "colour": "colors", "typography": "fonts",
                     "font": "fonts", "custom_dir": "templates"}
"""What users of Quarto's brand.yml or MkDocs' theme settings type, and ours for it."""
COLOR_KEYS = ("accent", "ink")
MIN_CONTRAST = {"ink": 4.5, "accent": 3.0}
"""WCAG 2 AA on white paper: body text 4.5:1; the accent sets headings, rules and marks, 3:1."""
FONT_KEYS = ("folder", "body", "heading", "fallback")
LOGO_SUFFIXES = (".svg", ".png")
OVERRIDABLE = ("partials/", "css/")
"""Template overrides replace pieces, never the page templates (whose structure the layout checks rely on)."""
MIN_PALETTE, MAX_PALETTE = 2, 10


def tree_root(files: ContentFiles) -> Path:
    """What a theme may read: the folder of ``briefings.yaml``, or the briefing folder alone."""
    return files.defaults.parent if files.defaults is not None else files.folder


def read_theme(files: ContentFiles, value: Any, builtin_templates: Path, report: Diagnostics) -> Theme:
    """Check the ``theme:`` value (a folder, a YAML file or a mapping) and the override folders."""
    root = tree_root(files)
    reader = _ThemeReader(root, builtin_templates, report)
    override_dirs = [files.folder / TEMPLATES_FOLDER]
    if root != files.folder:
        override_dirs.append(root / TEMPLATES_FOLDER)
    theme: dict[str, Any] = {}
    if isinstance(value, LocatedStr):
        theme = reader.read_reference(value)
    elif isinstance(value, LocatedDict):
        theme = reader.read_mapping(value, value.location.path.parent)
    elif value is not None:
        report.error(getattr(value, "location", None), "'theme' is a folder holding theme.yaml, a YAML file, or a "
                                                       "mapping of logo, colors, palette, fonts and templates")
    if "templates" in theme:
        override_dirs.append(theme.pop("templates"))
    template_dirs = tuple(d for d in dict.fromkeys(override_dirs) if reader.check_overrides(d))
    if not theme and not template_dirs:
        return Theme()
    return Theme(root=root, template_dirs=template_dirs, files=tuple(reader.files), folders=tuple(reader.folders),
                 **theme)


class _ThemeReader:
    """Reads one theme; every file it touches is remembered as an input of the build."""

    def __init__(self, root: Path, builtin_templates: Path, report: Diagnostics) -> None:
        self.root, self.builtin, self.report = root, builtin_templates, report
        self.content = ContentFiles(root, None)
        self.files: list[Path] = []
        self.folders: list[Path] = []

    def read_reference(self, value: LocatedStr) -> dict[str, Any]:
        """``theme: theme/`` (a folder with theme.yaml) or ``theme: brand.yaml``, relative to where it is written."""
        path = self.inside(value, value.location.path.parent, folder=None)
        if path is None:
            return {}
        if path.is_dir():
            self.folders.append(path)
            path = path / THEME_FILE
            if not path.is_file():
                self.report.error(value.location, f"theme folder '{value}' has no {THEME_FILE}")
                return {}
        elif path.suffix.lower() not in (".yaml", ".yml"):
            self.report.error(value.location, f"theme '{value}' is neither a folder nor a .yaml file")
            return {}
        tree = read_yaml(self.content, path, value.location, self.report)
        self.files.append(path)
        if tree is None:
            return {}
        if not isinstance(tree, LocatedDict):
            self.report.error(getattr(tree, "location", SourceLocation(path)),
                              f"{path.name} must be a mapping of keys such as 'logo:' and 'colors:'")
            return {}
        theme = self.read_mapping(tree, path.parent)
        if "templates" not in theme and (path.parent / TEMPLATES_FOLDER).is_dir() and path.parent != self.root:
            theme["templates"] = path.parent / TEMPLATES_FOLDER
        return theme

    def read_mapping(self, tree: LocatedDict, base: Path) -> dict[str, Any]:
        """The theme's keys as ``Theme`` fields; paths are relative to the file they are written in."""
        theme: dict[str, Any] = {}
        check_known_keys(tree, THEME_KEYS, "the theme", self.report, aliases=QUARTO_THEME_KEYS,
                         alias_hint="it is '{alias}' here", listing=f"; a theme has {', '.join(THEME_KEYS)}")
        if isinstance(logo := tree.get("logo"), LocatedStr):
            theme["logo"] = self.logo(logo, base)
        elif "logo" in tree:
            self._expected(tree, "logo", "a path to an .svg or .png file")
        if (colors := tree.get("colors")) is not None:
            theme |= self.colors(colors)
        if (palette := tree.get("palette")) is not None:
            theme["palette"] = self.palette(palette)
        if (fonts := tree.get("fonts")) is not None:
            theme |= self.fonts(fonts, base)
        if isinstance(templates := tree.get("templates"), LocatedStr):
            folder = self.inside(templates, base, folder=True)
            if folder is not None:
                theme["templates"] = folder
        elif "templates" in tree:
            self._expected(tree, "templates", "a folder of template overrides")
        return {name: value for name, value in theme.items() if value not in (None, ())}

    def _expected(self, tree: LocatedDict, key: str, what: str) -> None:
        written = next(k for k in tree if k == key)
        self.report.error(getattr(tree[key], "location", key_location(written, tree)), f"theme '{key}' must be {what}")

    def inside(self, value: LocatedStr, base: Path, folder: bool | None) -> Path | None:
        """Resolve a theme path by the content's rules, within the content tree rather than one folder."""
        return resolve_within(
            value, base, self.root, self.report, expect={True: "folder", False: "file", None: None}[folder],
            outside=f"the content tree ({self._root_name()}); a theme reads only files beside briefings.yaml "
                    "or in the briefing folder",
            relative_to="the file they are written in",
        )

    def _root_name(self) -> str:
        return f"'{self.root.name}/'"

    def logo(self, value: LocatedStr, base: Path) -> Path | None:
        path = self.inside(value, base, folder=False)
        if path is None:
            return None
        if path.suffix.lower() not in LOGO_SUFFIXES:
            self.report.error(value.location, f"logo '{value}' must be an SVG or PNG file")
            return None
        errors = len(self.report.errors)
        check_images(self.content, [ImageFigure(None, path.relative_to(self.root).as_posix(), value.location)],
                     self.report)
        self.files.append(path)
        self.files.extend(p for p in self.content.texts if p not in self.files)  # what an SVG logo pulls in
        return path if len(self.report.errors) == errors else None

    def colors(self, value: Any) -> dict[str, str]:
        if not isinstance(value, LocatedDict):
            self.report.error(getattr(value, "location", None), "theme 'colors' must be a mapping: accent, ink")
            return {}
        found: dict[str, str] = {}
        for key, colour in value.items():
            if key not in COLOR_KEYS:
                self.report.error(key_location(key, value), f"unknown colour '{key}'{did_you_mean(key, COLOR_KEYS)} "
                                                            f"(a theme sets {', '.join(COLOR_KEYS)})")
            elif (parsed := self.colour(colour, key)) is not None:
                found[key] = parsed
                if (ratio := contrast_ratio(parsed, "#ffffff")) < MIN_CONTRAST[key]:
                    self.report.warning(colour.location, f"{key} '{parsed}' stands {ratio:.1f}:1 against white paper; "
                                                         f"at least {MIN_CONTRAST[key]:g}:1 reads (WCAG 2 AA): choose "
                                                         "a darker colour")
        return found

    def colour(self, value: Any, what: str) -> str | None:
        channels = parse_hex(value) if isinstance(value, LocatedStr) else None
        if channels is None:
            self.report.error(getattr(value, "location", None),
                              f"{what}: '{value}' is not a colour (write it as \"#1f3b5a\", quoted)")
            return None
        return "#{:02x}{:02x}{:02x}".format(*channels)

    def palette(self, value: Any) -> tuple[str, ...]:
        """Timeline category colours, checked in greyscale and for colour-vision deficiencies."""
        if not isinstance(value, LocatedList):
            self.report.error(getattr(value, "location", None), "theme 'palette' must be a list of colours")
            return ()
        if not MIN_PALETTE <= len(value) <= MAX_PALETTE:
            self.report.error(value.location, f"theme 'palette' lists {len(value)} colours; give "
                                              f"{MIN_PALETTE} to {MAX_PALETTE}")
            return ()
        colours = [self.colour(item, f"palette colour {n}") for n, item in enumerate(value, 1)]
        if any(colour is None for colour in colours):
            return ()
        checked = tuple(colour for colour in colours if colour is not None)
        ok = True
        for clash in collisions(checked):
            ok = False
            first, second = checked[clash.first], checked[clash.second]
            if clash.viewer == "greyscale":
                how = (f"print as the same grey (lightness L* {clash.difference:.1f} apart, at least "
                       f"{clash.minimum:g} needed): make one darker or lighter")
            else:
                how = (f"look alike with {clash.viewer} (CIEDE2000 {clash.difference:.1f}, at least "
                       f"{clash.minimum:g} needed): change the hue or lightness of one")
            self.report.error(value[clash.second].location,
                              f"palette colours {clash.first + 1} '{first}' and {clash.second + 1} '{second}' {how}")
        return checked if ok else ()

    def fonts(self, value: Any, base: Path) -> dict[str, Any]:
        if not isinstance(value, LocatedDict):
            self.report.error(getattr(value, "location", None),
                              "theme 'fonts' must be a mapping: folder, body, heading, fallback")
            return {}
        for key in value:
            if key not in FONT_KEYS:
                self.report.error(key_location(key, value), f"unknown font setting '{key}'"
                                                            f"{did_you_mean(key, FONT_KEYS)} ({', '.join(FONT_KEYS)})")
        folder_value = value.get("folder")
        if not isinstance(folder_value, LocatedStr):
            self.report.error(value.location, "theme 'fonts' needs 'folder:', a folder of .ttf or .otf files")
            return {}
        folder = self.inside(folder_value, base, folder=True)
        if folder is None:
            return {}
        fonts = read_font_folder(folder, self.root, folder_value.location, self.report)
        self.folders.append(folder)
        self.files.extend(font.path for font in fonts)
        families = sorted({font.family for font in fonts})
        found: dict[str, Any] = {"fonts": fonts}
        for role in ("body", "heading"):
            name = value.get(role)
            if name is None:
                continue
            if not isinstance(name, LocatedStr) or name not in families:
                hint = did_you_mean(str(name), families)
                self.report.error(getattr(name, "location", value.location),
                                  f"{role} font '{name}' is not in '{folder_value}'{hint}; its families: "
                                  f"{', '.join(families) or 'none'}")
                continue
            found[f"{role}_family"] = str(name)
        if "fallback" in value:
            found["fallback_families"] = self.fallback_families(value, families, folder_value)
        elif "body" not in value and "heading" not in value and len(families) == 1:
            found["body_family"] = families[0]
        return found

    def fallback_families(self, fonts: LocatedDict, families: list[str], folder: str) -> tuple[str, ...]:
        """``fallback: [Noto Sans CJK SC]``: families of the folder that add characters, after the built-in fonts."""
        value = fonts["fallback"]
        names = value if isinstance(value, LocatedList) else [value]
        found: list[str] = []
        for name in names:
            where = getattr(name, "location", fonts.location)
            if not isinstance(name, LocatedStr) or name not in families:
                self.report.error(where, f"fallback font '{name}' is not in '{folder}'{did_you_mean(str(name), families)}; "
                                         f"its families: {', '.join(families) or 'none'}")
            elif name in (fonts.get("body"), fonts.get("heading")):
                self.report.error(where, f"fallback font '{name}' is already the theme's body or heading font")
            else:
                found.append(str(name))
        return tuple(dict.fromkeys(found))

    def check_overrides(self, folder: Path) -> bool:
        """A template override folder: each file replaces a built-in partial or stylesheet, and stays inside."""
        if not folder.is_dir():
            return False
        self.folders.append(folder)
        for path in sorted(p for p in folder.rglob("*") if not p.is_dir()):
            name = path.relative_to(folder).as_posix()
            where = SourceLocation(path)
            try:
                escapes = not path.resolve().is_relative_to(self.root)
            except (OSError, RuntimeError):
                escapes = True
            if escapes:
                self.report.error(where, f"template override '{name}' is a link to a file outside the content tree "
                                         f"({self._root_name()}); overrides are content and stay inside it")
            elif not path.is_file():
                self.report.error(where, f"template override '{name}' is not a regular file (a pipe, a device or a "
                                         "broken link)")
            elif not name.startswith(OVERRIDABLE):
                self.report.error(where, f"'{name}' cannot be overridden: a templates/ folder replaces files under "
                                         f"{' or '.join(OVERRIDABLE)} only")
            elif not (self.builtin / name).is_file():
                known = [p.relative_to(self.builtin).as_posix() for p in self.builtin.rglob("*") if p.is_file()]
                self.report.error(where, f"template override '{name}' replaces no built-in template"
                                         f"{did_you_mean(name, known)}")
            else:
                self.files.append(path)
        # A file added to a subfolder (a new override) changes the build: the folders' listings are inputs too.
        self.folders.extend(sorted({p for p in folder.rglob("*") if p.is_dir()} - set(self.folders)))
        return True
