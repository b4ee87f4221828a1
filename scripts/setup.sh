#!/usr/bin/env bash
# Installs everything drvmc and its tests need on a fresh Debian machine: Graphviz (dot) for
# sequence diagrams, SPIN and Java for the cross-checks, Chromium for the report test, and the
# Python package with its development tools. Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v dot >/dev/null 2>&1 || need_apt+=(graphviz)
command -v spin >/dev/null 2>&1 || need_apt+=(spin)
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc)
command -v java >/dev/null 2>&1 || need_apt+=(default-jre-headless)
if [ "${DRVMC_SKIP_CHROMIUM:-0}" != 1 ]; then
  command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing ${need_apt[*]} (apt-get)" >&2
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >&2
fi

# the installed `drvmc` must be this checkout's (an editable install elsewhere would run other code)
here=$(pwd -P)
installed=$(cd / && python3 -c "import os, drvmc.checker as c; print(os.path.realpath(c.__path__[0]))" \
            2>/dev/null || true)
if [ "$installed" != "$here/checker" ] \
   || ! python3 -c "import z3, lark, typer, rich, pytest, hypothesis, jsonschema, wheel, sarif, xmlschema" \
        >/dev/null 2>&1 \
   || ! command -v drvmc >/dev/null 2>&1; then
  echo "setup: installing drvmc (pip install -e .[dev])" >&2
  python3 -m pip install -q --disable-pip-version-check -e '.[dev]' >&2
  command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
fi

# the mermaid npm package (and jsdom to run it under node) for tests/test_mermaid.py, which
# parses drvmc's `--to mermaid` diagrams; project-local in build/node, skipped without npm
mermaid_dir=build/node
if command -v npm >/dev/null 2>&1 && [ ! -d "$mermaid_dir/node_modules/mermaid" ]; then
  echo "setup: installing mermaid and jsdom (npm, into $mermaid_dir)" >&2
  mkdir -p "$mermaid_dir"
  [ -f "$mermaid_dir/package.json" ] || echo '{"name": "drvmc-test-tools", "private": true}' \
    > "$mermaid_dir/package.json"
  npm install --prefix "$mermaid_dir" --no-audit --no-fund --silent mermaid@11.17.2 \
    jsdom@29.1.1 >&2
fi

# bytecode for this checkout (an editable install gets none from pip): where
# PYTHONDONTWRITEBYTECODE is set, Python would otherwise compile every module at every start
# (about 0.04 s CPU of `drvmc parse`); a source edited later is compiled again in memory
python3 -m compileall -q -j 0 checker translators drvmc >/dev/null
