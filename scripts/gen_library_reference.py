"""Regenerate the library reference in docs/LIBRARY.md from the doc comments in specs/lib/.

    python scripts/gen_library_reference.py            # rewrite the generated section
    python scripts/gen_library_reference.py --check    # exit 1 if it is stale

Only the text between `<!-- BEGIN GENERATED: library reference -->` and
`<!-- END GENERATED: library reference -->` is written (drvmc/lsp/reference.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from drvmc.checker.errors import DrvmcError
from drvmc.lsp import reference

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--doc", type=Path, default=ROOT / "docs" / "LIBRARY.md")
    ap.add_argument("--lib", type=Path, default=ROOT / "specs" / "lib")
    ap.add_argument("--check", action="store_true", help="only say whether it is up to date")
    args = ap.parse_args(argv)
    try:
        old = args.doc.read_text(encoding="utf-8")
        new = reference.updated(old, reference.section(args.lib))
    except (OSError, ValueError, DrvmcError) as e:
        print(f"gen_library_reference: error: {e}", file=sys.stderr)
        return 2
    if args.check:
        if new != old:
            print(f"{args.doc}: the generated library reference is stale: run "
                  f"`{reference.COMMAND}`", file=sys.stderr)
            return 1
        return 0
    if new != old:
        args.doc.write_text(new, encoding="utf-8")
        print(f"{args.doc}: library reference regenerated")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
