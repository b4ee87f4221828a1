"""`python3 -m drvmc.checker` is the `drvmc` command."""

from drvmc.checker.app.cli import main

main()
