#!/bin/sh
# Install the Debian packages the build and the tests need, when they are missing:
#   poppler-utils        pdftoppm/pdftotext, to look at and test rendered pages
#   libharfbuzz-subset0  WeasyPrint's fast font subsetting (it falls back to slow fontTools without it)
#   libgs-common         the CMYK ICC profile that is the print edition's output intent
#   chromium             only with the argument "test": the browser the web edition's tests drive (big,
#                        so `make` never installs it; `make test` does)
#   time                 only with the argument "bench": GNU time, the benchmark's wall time and peak memory
# Runs apt-get only as root (as CI does); otherwise prints the command to run.
set -eu
missing=""
if [ "${1:-}" = test ]; then
  [ -x /usr/bin/chromium ] || missing="$missing chromium"
fi
if [ "${1:-}" = bench ]; then
  [ -x /usr/bin/time ] || missing="$missing time"
fi
command -v pdftoppm >/dev/null 2>&1 || missing="$missing poppler-utils"
if ! ldconfig -p 2>/dev/null | grep -q 'libharfbuzz-subset\.so\.0'; then
  missing="$missing libharfbuzz-subset0"
fi
[ -f /usr/share/color/icc/ghostscript/default_cmyk.icc ] || missing="$missing libgs-common"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian packages:$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
  echo "warning: missing Debian packages:$missing; install them with: sudo apt-get install$missing" >&2
fi
