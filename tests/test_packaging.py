"""What `pip install .` puts into site-packages: the one `drvmc` namespace and nothing generic.

The wheel is built from this checkout (no build isolation: setuptools and wheel are the
development tools `scripts/setup.sh` installs) and its file list read: every module, the grammar
and the bundled spec library must sit under `drvmc/`, with the console script pointing there.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_installs_only_the_drvmc_namespace(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True, text=True, cwd=tmp_path)
    (wheel,) = tmp_path.glob("drvmc-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/", 1)[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"drvmc"}
    for needed in ("drvmc/checker/app/cli.py", "drvmc/checker/lang/grammar.lark",
                   "drvmc/checker/ir/nodes.py", "drvmc/translators/z3_encoding.py",
                   "drvmc/counterexamples/dot.py", "drvmc/specs/lib/devres.drv",
                   "drvmc/specs/component_master_devres.drv"):
        assert needed in names, needed
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "drvmc = drvmc.checker.app.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()
