#!/usr/bin/env bash
# The built-in demo: build probesim and run `probesim demo`, the same as
# `make demo`. Arguments go to probesim demo: scripts/demo.sh --html demo.html
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build >&2
exec bin/probesim demo "$@"
