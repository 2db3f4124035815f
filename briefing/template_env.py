"""Theme + built-in templates -> the one Jinja environment: overrides first, confined and sandboxed.

Overriding templates are content, written by whoever writes briefings: they must not read files
outside the content tree or run anything. Two guards:

- the loader: each override folder is a ``FileSystemLoader`` (which already refuses ``..`` in
  template names) that also refuses a file whose real path leaves the content tree (a symlink);
- the sandbox: ``jinja2.sandbox.SandboxedEnvironment`` refuses ``__class__``, ``__globals__``
  and the like, the usual way from a template to arbitrary Python. The context holds ``Path``
  objects, whose methods read and write files, so paths are refused too, beyond their names.
  Jinja's sandbox is the documented way to render untrusted templates; the built-in templates
  run in it as well, so they are tested under the rules the overrides meet.
"""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from .model import Theme

SAFE_PATH_ATTRIBUTES = frozenset({"name", "stem", "suffix", "as_uri"})
"""What a template may ask of a path: its name, and its ``file:`` URL (which the engine fetches confined)."""


class _ConfinedLoader(jinja2.FileSystemLoader):
    """An override folder: templates whose real path stays inside the content tree, nothing else."""

    def __init__(self, folder: Path, root: Path) -> None:
        super().__init__(folder)
        self.root = root

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        source, filename, uptodate = super().get_source(environment, template)
        if not Path(filename).resolve().is_relative_to(self.root):
            raise jinja2.TemplateNotFound(template)
        return source, filename, uptodate


class ContentSandbox(SandboxedEnvironment):
    """Jinja's sandbox, with file paths opaque beyond their names."""

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, PurePath) and attr not in SAFE_PATH_ATTRIBUTES:
            return False
        return bool(super().is_safe_attribute(obj, attr, value))

    def is_safe_callable(self, obj: Any) -> bool:
        if isinstance(getattr(obj, "__self__", None), PurePath):
            return getattr(obj, "__name__", "") in SAFE_PATH_ATTRIBUTES
        return bool(super().is_safe_callable(obj))


def template_loader(templates_dir: Path, theme: Theme) -> jinja2.BaseLoader:
    """The briefing's overrides, then the tree's, then the theme's, then the built-in templates."""
    builtin = jinja2.FileSystemLoader(templates_dir)
    if theme.root is None or not theme.template_dirs:
        return builtin
    root = theme.root
    return jinja2.ChoiceLoader([*(_ConfinedLoader(folder, root) for folder in theme.template_dirs), builtin])


def make_sandbox(templates_dir: Path, theme: Theme) -> jinja2.Environment:
    """Autoescaped, undefined names are errors, templates from disk only, sandboxed."""
    return ContentSandbox(
        loader=template_loader(templates_dir, theme),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
