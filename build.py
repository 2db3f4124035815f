"""``python build.py [ARGS]`` is ``briefing build [ARGS]``."""

import sys

try:
    from briefing.cli import main
except ModuleNotFoundError as missing:  # a Python without the project's packages, e.g. the system one
    from briefing.errors import missing_dependency

    sys.stderr.write(f"error: {missing_dependency(missing)}\n")
    raise SystemExit(2) from None

if __name__ == "__main__":
    raise SystemExit(main(["build", *sys.argv[1:]]))
