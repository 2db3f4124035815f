"""Print-ready briefings from structured content: YAML + Markdown + references + timeline -> PDF."""

from .config import BuildConfig
from .errors import BriefingError, ContentError, Diagnostics
from .pipeline import BuildResult, build

__version__ = "0.1.0"
__all__ = ["BriefingError", "BuildConfig", "BuildResult", "ContentError", "Diagnostics", "__version__", "build"]
