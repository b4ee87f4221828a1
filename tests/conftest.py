"""Suite-wide settings: exhaustive sweeps over the real scenarios are `slow`.

They run with DRVMC_SLOW_TESTS=1 (scripts/test.sh --slow); the default suite keeps every scenario
covered by the explicit-state engine (tests/test_explicit.py checks every variant's expect lines)
and ties BMC to it on generated specs (tests/test_differential.py), so it stays within minutes.
"""

from __future__ import annotations

import os
import tempfile

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: a long sweep, run with DRVMC_SLOW_TESTS=1")
    # distributed runs record their jobs' times (app.job_times): in a directory of the test
    # run's, inherited by the drvmc processes the tests start, not in the user's cache
    os.environ.setdefault("DRVMC_CACHE_DIR", tempfile.mkdtemp(prefix="drvmc-test-cache-"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("DRVMC_SLOW_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="slow sweep: set DRVMC_SLOW_TESTS=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
