"""Print-ready briefings from structured content: YAML + Markdown + references + timeline -> PDF."""

from typing import TYPE_CHECKING, Any

from .config import BuildConfig
from .errors import BriefingError, ContentError, Diagnostics
from .model import BuildResult

if TYPE_CHECKING:
    from .pipeline import build

__version__ = "0.1.0"
__all__ = ["BriefingError", "BuildConfig", "BuildResult", "ContentError", "Diagnostics", "__version__", "build"]


def __getattr__(name: str) -> Any:
    # ``build`` pulls in the engine; importing the package (the CLI does) must stay cheap.
    if name == "build":
        from .pipeline import build

        return build
    raise AttributeError(name)
