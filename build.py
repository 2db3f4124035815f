"""``python build.py [ARGS]`` is ``briefing build [ARGS]``."""

import sys

from briefing.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["build", *sys.argv[1:]]))
