"""`python3 -m checker` is the `drvmc` command."""

from checker.cli import main

main()
