#!/usr/bin/env bash
# The interrupt tests (tests/test_interrupt.py), N times in a row with W pytest workers each
# (default: 10 runs at -n 4, on purpose more workers than this machine's cores). They send real
# SIGINT/SIGTERM to real drvmc processes, at moments chosen by the processes' own progress, so
# they must pass under load as well as on an idle machine (issue 13). Not part of the default
# suite: it takes minutes.
#
# Usage: bash scripts/interrupt_stress.sh [RUNS] [WORKERS]
# Prints one line per run and a summary; exit status 0 only if every run passed.
set -u
cd "$(dirname "$0")/.."

runs=${1:-10}
workers=${2:-4}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

pass=0
fail=0
start=$(date +%s)
for i in $(seq 1 "$runs"); do
    t0=$(date +%s)
    if python3 -m pytest tests/test_interrupt.py -n "$workers" -rf -p no:cacheprovider \
            >"$log" 2>&1; then
        pass=$((pass + 1))
        echo "run $i/$runs: passed ($(grep -E '[0-9]+ (passed|failed)' "$log" | tail -n 1 \
                                      | sed 's/^=* *//; s/ *=*$//'))"
    else
        fail=$((fail + 1))
        echo "run $i/$runs: FAILED ($(( $(date +%s) - t0 ))s)"
        grep -E '^(FAILED|ERROR) ' "$log" | sed 's/^/    /'
    fi
done
echo "interrupt stress: $pass of $runs runs passed, $fail failed (pytest -n $workers," \
     "$(( $(date +%s) - start ))s)"
[ "$fail" -eq 0 ]
