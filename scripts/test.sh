#!/usr/bin/env bash
# The project's test command: install what is missing, then run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec python3 -m pytest -n 2 "$@"
