#!/usr/bin/env bash
# The project's test command: install what is missing, then run the whole suite.
# `--slow` also runs the exhaustive sweeps over the real scenarios (DRVMC_SLOW_TESTS=1).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "${1:-}" = "--slow" ]; then
  shift
  export DRVMC_SLOW_TESTS=1
fi
exec python3 -m pytest -n 2 "$@"
