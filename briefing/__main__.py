"""``python -m briefing`` is the ``briefing`` command."""

from .cli import main

raise SystemExit(main())
