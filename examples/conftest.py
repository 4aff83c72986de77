"""Shows, at the end of the run, what the checks that fail on purpose said; the panel's harsh judge.

The tests marked ``@on_purpose`` (a strict ``xfail``) fail on purpose: they show what a failed check
looks like without turning the run red. pytest lists an expected failure by its reason only; this
section adds the assertion each one failed with, as a real failure would show it, and the closing line
says in one sentence what passed, what failed on purpose and where the HTML report is.
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
    if expected:
        terminalreporter.section("failed checks, shown on purpose (xfail)", sep="-")
    for report in expected:
        crash = getattr(report.longrepr, "reprcrash", None)
        message = crash.message.splitlines()[0] if crash is not None else str(report.longrepr)
        message = message.removeprefix("AssertionError: ")
        terminalreporter.write_line(f"{report.nodeid}")
        terminalreporter.write_line(f"    {report.wasxfail}")
        terminalreporter.write_line(f"    {message}")


def pytest_unconfigure(config: pytest.Config) -> None:
    """The closing line, after pytest's counts: the run in one sentence."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    outcomes = ("passed", "failed", "error", "xfailed", "xpassed")
    if reporter is not None and any(reporter.stats.get(key) for key in outcomes):
        reporter.write_line(closing_sentence(reporter), bold=True)


def closing_sentence(terminalreporter: pytest.TerminalReporter) -> str:
    """The run in one sentence: what passed, what failed on purpose, what did not go as expected, where
    the HTML report is."""
    stats = terminalreporter.stats
    counts = {
        key: sum(1 for r in stats.get(key, []) if getattr(r, "when", "call") == "call") for key in stats
    }
    passed, on_purpose = counts.get("passed", 0), counts.get("xfailed", 0)
    unexpected = counts.get("failed", 0) + len(stats.get("error", [])) + counts.get("xpassed", 0)
    html = terminalreporter.config.getoption("--llm-html", None)
    parts = [f"{passed} tests passed", f"{on_purpose} failed on purpose, as expected (listed above)"]
    if unexpected:
        parts.append(f"{unexpected} did not go as expected (see the failures above)")
    where = f"; the HTML report is {html}" if html else ""
    return f"The example suite: {', '.join(parts[:-1])} and {parts[-1]}{where}."
