"""Checks in tests marked xfail fail as those tests expect: every report counts them apart, not as failures."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from chromium import dump_dom, needs_chromium
from fake_openai import FakeOpenAI, verdict

from pytest_llmconfidence._report.summary import check_status, summarize

ROOT = Path(__file__).resolve().parent.parent


def _verdict(test_id: str, passed: bool, *, xfail: bool = False, value: Any = True) -> dict[str, Any]:
    record: dict[str, Any] = {
        "kind": "verdict",
        "test_id": test_id,
        "value": value,
        "confidence": 0.95 if passed else 0.4,
        "checks": [
            {"kind": "confident_true", "threshold": 0.9, "passed": passed, "score": 0.99 if passed else 0.4}
        ],
    }
    if xfail:
        record["xfail"] = True
    return record


def test_failed_checks_of_xfailed_tests_are_counted_as_expected_not_failed() -> None:
    """checks_failed counts the failures that matter; checks_xfailed those the tests marked xfail expect."""
    summary = summarize(
        [
            _verdict("t::ok", True),
            _verdict("t::bad", False),
            _verdict("t::on_purpose", False, xfail=True),
            _verdict("t::on_purpose_undecided", False, xfail=True, value=None),
            _verdict("t::on_purpose_but_passed", True, xfail=True),
        ]
    )
    assert (summary.checks, summary.checks_failed, summary.checks_xfailed) == (5, 1, 2)
    assert (summary.undecided, summary.undecided_xfailed) == (1, 1)
    assert summary.failed_verdicts == 1
    assert summary.aggregates()["checks_xfailed"] == 2
    assert [check_status(r, 0.05) for r in summary.verdicts] == [
        "passed",
        "failed",
        "xfailed",
        "xfailed",
        "passed",
    ]


SUITE = """
import pytest

def test_polite(judge):
    assert judge("Is the reply polite?", "Thank you!").confident_true(0.9)

@pytest.mark.xfail(reason="on purpose", raises=AssertionError)
def test_rude_reply_is_caught(judge):
    assert judge("Is the reply rude?", "Go away.").confident_false(0.9)
"""


@pytest.fixture
def xfail_run(judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A run of two judged tests, one xfailed on a failed check, with every report written."""
    fake_openai.rule("polite?", verdict(0.97, 0.02))
    fake_openai.rule("rude?", verdict(0.6, 0.3))
    judged.makepyfile(test_suite=SUITE)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(judged.path / "step.md"))
    result = judged.runpytest("-p", "no:xdist", "--llm-report=r.json", "--llm-html=r.html")
    result.assert_outcomes(passed=1, xfailed=1)
    return judged, result


def test_every_report_counts_an_xfailed_check_as_expected(xfail_run: Any) -> None:
    """The terminal, the JSON, the GitHub step summary and the HTML page: 0 failed, 1 more as expected."""
    judged, result = xfail_run
    result.stdout.fnmatch_lines(["checks: 0 of 2 checks failed, 1 more as expected (xfail); *"])
    report = json.loads((judged.path / "r.json").read_text())
    assert (report["summary"]["checks_failed"], report["summary"]["checks_xfailed"]) == (0, 1)
    flagged = {r["test_id"].rsplit("::", 1)[1]: r.get("xfail", False) for r in report["verdicts"]}
    assert flagged == {"test_polite": False, "test_rude_reply_is_caught": True}
    assert "| checks failed | 0 of 2, 1 more as expected (xfail) |" in (judged.path / "step.md").read_text()
    page = (judged.path / "r.html").read_text()
    cards = _cards(page)
    assert cards["checks failed"] == ("0 / 2", "card")
    assert cards["failed as expected (xfail)"] == ("1", "card")
    assert 'class="status failed"' not in page
    assert (
        "As expected: 1 test marked xfail failed, as they expect, with 1 failed check (1 of verdicts); an "
        "expected failure fails no run. Every other check held." in page
    )
    assert "As expected: 1 test marked xfail failed" in (judged.path / "step.md").read_text()


class _Cards(HTMLParser):
    """The page's number tiles: label -> (value, class)."""

    def __init__(self) -> None:
        super().__init__()
        self.cards: dict[str, tuple[str, str]] = {}
        self._card: str | None = None
        self._texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        cls = dict(attrs).get("class") or ""
        if tag == "div" and cls.split()[:1] == ["card"]:
            self._card, self._texts = cls, []

    def handle_data(self, data: str) -> None:
        if self._card is not None:
            self._texts.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self._card is not None:
            value, label = ([*self._texts, "", ""])[:2]
            self.cards[label] = (value, self._card)
            self._card = None


def _cards(page: str) -> dict[str, tuple[str, str]]:
    parser = _Cards()
    parser.feed(page)
    return parser.cards


@needs_chromium
def test_the_example_report_opens_on_its_success_in_a_browser(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`make examples`' page, as a browser renders it: no red tile; it says which checks were expected to fail."""
    shutil.copytree(ROOT / "examples", pytester.path / "examples")
    shutil.copytree(ROOT / "cassettes" / "examples", pytester.path / "cassettes" / "examples")
    pytester.makeini("[pytest]\n")
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    result = pytester.runpytest(
        "examples", "-p", "no:cacheprovider", "--llm-watch", "--llm-html=examples.html"
    )
    assert result.ret == pytest.ExitCode.OK
    page = pytester.path / "examples.html"
    dom = dump_dom(page, tmp_path / "profile", timeout=120)
    cards = _cards(dom)
    assert cards["checks failed"] == ("0 / 14", "card")
    assert cards["failed as expected (xfail)"] == ("5", "card")
    assert not [label for label, (_, cls) in cards.items() if "bad" in cls.split()]
    expected = re.search(r'<p class="expected">(.*?)</p>', dom, re.DOTALL)
    assert expected is not None
    assert expected.group(1) == (
        "As expected: 10 tests marked xfail failed, as they expect, with 9 failed checks (5 of verdicts, 2 of "
        "scores and choices, 1 of comparisons, 1 of panels); an expected failure fails no run. Every other "
        "check held."
    )


def test_a_baseline_comparison_does_not_count_an_expected_failure_as_now_failing() -> None:
    """A check that passed before and now fails in a test marked xfail is expected, not a regression."""
    from pytest_llmconfidence._report.baseline import compare

    before = [_verdict("t::on_purpose", True), _verdict("t::real", True)]
    after = [_verdict("t::on_purpose", False, xfail=True), _verdict("t::real", False)]
    now_failing = [c.test_id for c in compare(before, after).changes if c.what == "now_failing"]
    assert now_failing == ["t::real"]


def test_comparison_and_panel_checks_of_xfailed_tests_are_expected_too() -> None:
    """Pairwise and panel lines count an xfailed test's failed check apart, as the verdicts' line does."""
    from pytest_llmconfidence._report.pairs import comparison_stats, panel_line

    failed = {"checks": [{"kind": "prefers", "threshold": 0.9, "passed": False}], "xfail": True}
    stats = comparison_stats([{"kind": "comparison", "consistent": True, "position_bias": 0.0, **failed}])
    assert (stats.checks, stats.checks_failed, stats.checks_xfailed) == (1, 0, 1)
    assert stats.line().endswith("0 of 1 check failed, 1 more as expected (xfail)")
    assert panel_line([{"kind": "panel", "agreement": 1.0, "value": True, **failed}]).endswith(
        "0 of 1 check failed, 1 more as expected (xfail)"
    )
