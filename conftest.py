"""Repository-wide pytest hook: with KEFU_REQUIRE_FULL_SUITE=1 (set by scripts/test.sh
and so by CI), a skipped test fails the session instead of passing silently.

A skip usually means a missing dependency (Chromium, PostgreSQL, Redis, ...), and
the full suite must really run where the harness promises it does. Selecting zero
tests already exits with code 5 (NO_TESTS_COLLECTED), which the script treats as a
failure too. This file registers nothing else: fixtures live beside the tests.
"""

from __future__ import annotations

import os

import pytest

REQUIRE_FULL_SUITE = os.environ.get("KEFU_REQUIRE_FULL_SUITE") == "1"

# (node id, reason) of every skipped test or collector, in the order seen.
_skipped: list[tuple[str, str]] = []


def _skip_reason(report: pytest.CollectReport | pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # (path, lineno, reason)
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # xfail also reports as "skipped" but carries `wasxfail`: not a skip.
    if REQUIRE_FULL_SUITE and report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append((report.nodeid, _skip_reason(report)))


def pytest_collectreport(report: pytest.CollectReport) -> None:
    # Module-level pytest.skip(..., allow_module_level=True) / importorskip.
    if REQUIRE_FULL_SUITE and report.skipped:
        _skipped.append((report.nodeid, _skip_reason(report)))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _skipped and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _skipped:
        return
    terminalreporter.section(
        f"KEFU_REQUIRE_FULL_SUITE=1: {len(_skipped)} skipped, failing the session", red=True
    )
    for nodeid, reason in _skipped:
        terminalreporter.line(f"SKIPPED {nodeid}: {reason}", red=True)
