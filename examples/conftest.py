"""Shows, at the end of the run, what the checks that fail on purpose said; the panel's harsh judge.

The tests marked ``@on_purpose`` (a strict ``xfail``) fail on purpose: they show what a failed check
looks like without turning the run red. pytest lists an expected failure by its reason only; this
section adds the assertion each one failed with, as a real failure would show it.
"""

from __future__ import annotations

import pytest
from panel_judges import HARSH_JUDGE, harsh_messages


def pytest_llmconfidence_build_messages(question, response, context, config):
    """The panel's harsh judge gets its own prompt; every other judge keeps the default (None)."""
    return harsh_messages(question, response) if config.model == HARSH_JUDGE else None


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    expected = [report for report in terminalreporter.stats.get("xfailed", []) if report.when == "call"]
    if not expected:
        return
    terminalreporter.section("failed checks, shown on purpose (xfail)", sep="-")
    for report in expected:
        crash = getattr(report.longrepr, "reprcrash", None)
        message = crash.message.splitlines()[0] if crash is not None else str(report.longrepr)
        message = message.removeprefix("AssertionError: ")
        terminalreporter.write_line(f"{report.nodeid}")
        terminalreporter.write_line(f"    {report.wasxfail}")
        terminalreporter.write_line(f"    {message}")
    these = "This test" if len(expected) == 1 else f"These {len(expected)} tests"
    terminalreporter.write_line(
        f"{these} failed as expected; every other check passed. See examples/README.md."
    )
