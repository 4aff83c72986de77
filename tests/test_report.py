"""The confidence summary, the JSON/HTML/Markdown reports and the JUnit property, through pytester."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI, completion, verdict

# Four tests, five verdicts: one borderline pass, one failed check, one undecided, two unchecked.
SUITE = """
import pytest

def test_sure(judge):
    assert judge("Is the sky blue?", "Blue.").confident_true(0.9)

def test_close_call(judge):
    assert judge("Is it close?", "Maybe.").confident_true(0.9)

def test_refund(judge):
    assert judge("Does the reply refuse the refund?", "Sure!").confident_true(0.9)

def test_unsure(judge):
    judge("Is it undecidable?", "Hmm.")
    judge("Is the sky blue?", "Azure.")
"""


@pytest.fixture
def suite(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> pytest.Pytester:
    """The four-test suite above, its verdicts scripted on the fake endpoint."""
    fake_openai.rule("Is the sky blue?", verdict(0.99, 0.01))
    fake_openai.rule("Is it close?", verdict(0.93, 0.06))
    fake_openai.rule("refuse the refund", verdict(0.30, 0.65))
    fake_openai.rule("undecidable", completion([("maybe", 0.9), ("perhaps", 0.1)]))
    judged.makepyfile(test_suite=SUITE)
    return judged


WITH_WORKERS = [pytest.param(["-p", "no:xdist"], id="no-xdist"), pytest.param(["-n", "2"], id="two-workers")]


@pytest.mark.parametrize("mode", WITH_WORKERS)
def test_summary_counts_verdicts_checks_undecided_and_borderline(
    suite: pytest.Pytester, mode: list[str]
) -> None:
    """One 'llm confidence summary' section merges every verdict, also from xdist workers."""
    result = suite.runpytest(*mode)
    result.assert_outcomes(passed=3, failed=1)
    out = result.stdout.str()
    assert out.count("llm confidence summary") == 1
    result.stdout.fnmatch_lines(
        [
            "*= llm confidence summary =*",
            "5 verdicts in 4 tests: 0 replayed, 5 live",
            "checks: 1 of 3 checks failed; 1 undecided; 1 borderline (within 0.05 of the threshold checked)",
            "confidence: min 0.00, median 0.93, mean 0.71",
            "confidence histogram:",
            "  0.0-0.1 |#* 1",
            "  0.6-0.7 |#* 1",
            "  0.9-1.0 |#* 3",
            "lowest confidence (5 of 5):",
            "  conf  verdict    need  check       test id  question",
            "  0.00  undecided  0.90  unchecked   test_suite.py::test_unsure  Is it undecidable?",
            "  0.65  false      0.90  failed      test_suite.py::test_refund  Does the reply refuse the refund?",
            "  0.93  true       0.90  borderline  test_suite.py::test_close_call  Is it close?",
            "tokens: live 215 (prompt 210, completion 5); replayed 0 (prompt 0, completion 0)",
        ]
    )


def test_summary_lists_only_the_five_lowest_unless_full(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """short shows the five lowest-confidence verdicts; full adds every verdict."""
    for i in range(7):
        fake_openai.rule(f"question {i}?", verdict(0.5 + i * 0.07, 0.0))
    judged.makepyfile(
        """
        import pytest
        @pytest.mark.parametrize("i", range(7))
        def test_it(judge, i):
            judge(f"question {i}?", "x")
        """
    )
    short = judged.runpytest().stdout.str()
    assert "question 4?" in short and "question 5?" not in short and "question 6?" not in short
    assert "all verdicts" not in short
    result = judged.runpytest("--llm-summary=full")
    result.stdout.fnmatch_lines(["all verdicts (7):", "*", "  0.50  true *::test_it[[]0[]]  question 0?"])
    assert result.stdout.str().count("question 6?") == 1
    assert result.stdout.str().count("question 0?") == 2


def test_summary_off_prints_no_section(suite: pytest.Pytester) -> None:
    """--llm-summary=off (or llm_summary = off) prints no confidence section."""
    assert "confidence summary" not in suite.runpytest("--llm-summary=off").stdout.str()


def test_no_section_when_no_test_judged(pytester: pytest.Pytester) -> None:
    """A run without a judged call prints nothing about confidence and writes no step summary."""
    step = pytester.path / "step.md"
    pytester.makepyfile("def test_plain(): assert True")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GITHUB_STEP_SUMMARY", str(step))
        result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert "confidence summary" not in result.stdout.str()
    assert not step.exists()


def test_colours_follow_the_color_option(suite: pytest.Pytester) -> None:
    """The summary uses the terminal reporter's markup: colours with --color=yes, none with --color=no."""
    coloured = suite.runpytest("--color=yes").stdout.str()
    section = coloured[coloured.index("llm confidence summary") :]
    assert "\x1b[31m1 of 3 checks failed" in section
    assert "\x1b[33m1 borderline" in section
    plain = suite.runpytest("--color=no").stdout.str()
    assert "\x1b[" not in plain


def test_summary_hook_appends_lines_from_a_conftest(suite: pytest.Pytester) -> None:
    """pytest_llmconfidence_summary(records, config) returns lines added to the section."""
    suite.makeconftest(
        """
        def pytest_llmconfidence_summary(records, config):
            low = [r for r in records if r["confidence"] < 0.9]
            return [f"custom: {len(records)} records, {len(low)} below 0.9, config={type(config).__name__}"]
        """
    )
    result = suite.runpytest()
    result.stdout.fnmatch_lines(
        ["*llm confidence summary*", "tokens: *", "custom: 5 records, 2 below 0.9, config=Config"]
    )


@pytest.mark.parametrize("mode", WITH_WORKERS)
def test_json_report_has_every_verdict_and_the_aggregates(suite: pytest.Pytester, mode: list[str]) -> None:
    """--llm-report writes a flat verdicts list (fields, test id, checks, borderline) and the numbers."""
    result = suite.runpytest("--llm-report=out/report.json", *mode)
    path = suite.path / "out" / "report.json"
    result.stdout.fnmatch_lines([f"*generated llm confidence report (JSON): {path}*"])
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["version"] == 1
    summary = data["summary"]
    assert summary["verdicts"] == 5 and summary["tests"] == 4
    assert (summary["replayed"], summary["live"]) == (0, 5)
    assert (summary["checks"], summary["checks_failed"], summary["verdicts_failed"]) == (3, 1, 1)
    assert (summary["undecided"], summary["borderline"], summary["borderline_band"]) == (1, 1, 0.05)
    assert summary["confidence"] == {"min": 0.0, "median": pytest.approx(0.93), "mean": pytest.approx(0.712)}
    assert [b["count"] for b in summary["histogram"]] == [1, 0, 0, 0, 0, 0, 1, 0, 0, 3]
    assert summary["histogram"][9] == {"low": 0.9, "high": 1.0, "count": 3}
    assert summary["tokens"]["live"] == {
        "prompt_tokens": 210,
        "completion_tokens": 5,
        "total_tokens": 215,
        "cached_tokens": 0,
    }
    assert summary["tokens"]["replayed"]["total_tokens"] == 0
    by_question = {v["question"]: v for v in data["verdicts"] if v["question"] != "Is the sky blue?"}
    close = by_question["Is it close?"]
    assert close["test_id"] == "test_suite.py::test_close_call"
    assert close["value"] is True and close["confidence"] == pytest.approx(0.93)
    assert close["p_false"] == pytest.approx(0.06) and close["coverage"] == pytest.approx(0.99)
    assert close["checks"] == [
        {"kind": "confident_true", "threshold": 0.9, "passed": True, "score": pytest.approx(0.93)}
    ]
    assert close["borderline"] is True and close["status"] == "borderline"
    assert close["usage"] == {
        "prompt_tokens": 42,
        "completion_tokens": 1,
        "total_tokens": 43,
        "cached_tokens": 0,
    }
    assert close["model"] == "fake-judge" and close["replayed"] is False and close["response"] == "Maybe."
    refund = by_question["Does the reply refuse the refund?"]
    assert refund["status"] == "failed" and refund["checks"][0]["passed"] is False
    undecided = by_question["Is it undecidable?"]
    assert undecided["value"] is None and undecided["confidence"] == 0 and undecided["status"] == "unchecked"
    assert [alt["token"] for alt in undecided["alternatives"]] == ["maybe", "perhaps"]
    assert sorted(v["test_id"] for v in data["verdicts"]) == [
        "test_suite.py::test_close_call",
        "test_suite.py::test_refund",
        "test_suite.py::test_sure",
        "test_suite.py::test_unsure",
        "test_suite.py::test_unsure",
    ]
    assert [p.name for p in path.parent.iterdir()] == ["report.json"]


def test_json_report_is_written_even_without_verdicts(pytester: pytest.Pytester) -> None:
    """A requested report is always written, with zero verdicts when nothing was judged."""
    pytester.makepyfile("def test_plain(): pass")
    pytester.runpytest("--llm-report=report.json").assert_outcomes(passed=1)
    data = json.loads((pytester.path / "report.json").read_text())
    assert data["verdicts"] == [] and data["summary"]["verdicts"] == 0
    assert data["summary"]["confidence"] == {"min": None, "median": None, "mean": None}


def test_borderline_band_is_configurable(suite: pytest.Pytester) -> None:
    """llm_borderline widens the band: 0.99 against 0.9 is borderline within 0.1."""
    result = suite.runpytest("-o", "llm_borderline=0.1", "--llm-report=r.json")
    result.stdout.fnmatch_lines(["checks: 1 of 3 checks failed; 1 undecided; 2 borderline (within 0.10 *"])
    data = json.loads((suite.path / "r.json").read_text())
    assert sorted(v["test_id"] for v in data["verdicts"] if v["borderline"]) == [
        "test_suite.py::test_close_call",
        "test_suite.py::test_sure",
    ]


def test_unwritable_report_path_is_reported_not_raised(suite: pytest.Pytester) -> None:
    """A report that cannot be written is named in red; the run's outcome is unchanged."""
    (suite.path / "blocker").write_text("a file, not a directory")
    result = suite.runpytest("--llm-report=blocker/report.json")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["could not write llm confidence report (JSON) to *blocker*report.json: *"])
    assert "INTERNALERROR" not in result.stdout.str()


class _Page(HTMLParser):
    """Collects what the tests look for: tags, the SVG bins, table rows and all text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.bins: list[dict[str, str | None]] = []
        self.rows: list[dict[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        attributes = dict(attrs)
        if tag == "rect" and attributes.get("class") == "bin":
            self.bins.append(attributes)
        if tag == "tr" and attributes.get("class") == "verdict":
            self.rows.append(attributes)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_report_is_self_contained_with_svg_histogram_and_every_verdict(
    suite: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """--llm-html writes one page: an inline SVG histogram, a row per verdict, user text escaped."""
    fake_openai.rule("<script>", verdict(0.97, 0.02))
    suite.makepyfile(
        test_markup="""
        def test_markup(judge):
            judge("Is <script>alert(1)</script> & co escaped?", "<img src=x onerror=alert(1)>")
        """
    )
    result = suite.runpytest("--llm-html=report.html")
    html = (suite.path / "report.html").read_text(encoding="utf-8")
    result.stdout.fnmatch_lines(["*generated llm confidence report (HTML): *report.html*"])
    page = _Page()
    page.feed(html)
    page.close()
    assert "svg" in page.tags and "script" not in page.tags and "img" not in page.tags
    assert [b["data-count"] for b in page.bins] == ["1", "0", "0", "0", "0", "0", "1", "0", "0", "4"]
    assert len(page.rows) == 6
    assert [r["data-status"] for r in page.rows] == [
        "unchecked",
        "failed",
        "borderline",
        "unchecked",
        "passed",
        "unchecked",
    ]
    text = "".join(page.text)
    for question in (
        "Is the sky blue?",
        "Is it close?",
        "Does the reply refuse the refund?",
        "Is it undecidable?",
    ):
        assert question in text
    assert "Is <script>alert(1)</script> & co escaped?" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert "<img src=x" not in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "6 verdicts in 5 tests: 0 replayed, 6 live" in text


def test_github_step_summary_gets_a_markdown_table_appended(suite: pytest.Pytester) -> None:
    """With GITHUB_STEP_SUMMARY set, a Markdown table of the summary is appended to that file."""
    step = suite.path / "step_summary.md"
    step.write_text("## Earlier step\n\n", encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GITHUB_STEP_SUMMARY", str(step))
        suite.runpytest().assert_outcomes(passed=3, failed=1)
    text = step.read_text(encoding="utf-8")
    assert text.startswith("## Earlier step\n\n### LLM confidence summary\n")
    assert text.count("### LLM confidence summary") == 1
    for row in (
        "| verdicts | 5 verdicts in 4 tests |",
        "| replayed / live | 0 / 5 |",
        "| checks failed | 1 of 3 |",
        "| undecided | 1 |",
        "| borderline | 1 (within 0.05 of the threshold) |",
        "| confidence | min 0.00, median 0.93, mean 0.71 |",
        "| tokens | live 215, replayed 0 |",
        "| 0.65 | false | 0.90 | failed | test_suite.py::test_refund | Does the reply refuse the refund? |",
    ):
        assert row in text


@pytest.mark.parametrize("mode", WITH_WORKERS)
def test_junit_xml_records_each_tests_lowest_confidence(suite: pytest.Pytester, mode: list[str]) -> None:
    """Each judged test gets an llm_min_confidence property in --junitxml; unjudged tests get none."""
    suite.makepyfile(test_plain="def test_plain(): pass")
    suite.runpytest("--junitxml=junit.xml", *mode)
    tree = ET.parse(suite.path / "junit.xml")
    found: dict[str, Any] = {}
    for case in tree.iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        found[case.get("name", "")] = props.get("llm_min_confidence")
    assert found == {
        "test_sure": "0.99",
        "test_close_call": "0.93",
        "test_refund": "0.65",
        "test_unsure": "0.0",
        "test_plain": None,
    }


def test_response_and_unknown_records_are_counted_apart(judged: pytest.Pytester) -> None:
    """Records of kind 'response' are counted as responses scored; unknown kinds do not break the summary."""
    judged.makepyfile(
        """
        from pytest_llmconfidence.plugin import record

        class Scored:
            def __init__(self, kind, **fields):
                self.data = {"kind": kind, **fields}
            def to_record(self):
                return dict(self.data)
            def describe(self):
                return str(self.data)

        def test_scored(request):
            check = {"kind": "at_least", "threshold": 0.8, "passed": False, "score": 0.78}
            record(request.node, Scored("response", mean=0.9, geometric_mean=0.78, min=0.2, min_token="Paris", checks=[check]))
            record(request.node, Scored("something-new", note="ignored"))
        """
    )
    result = judged.runpytest("--llm-summary=full", "--llm-report=r.json")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*llm confidence summary*",
            "1 response scored: 1 of 1 check failed; 1 borderline",
            "all responses (1):",
            "  geometric mean 0.78  mean 0.90  min 0.20 at 'Paris'  failed      test_*.py::test_scored",
        ]
    )
    assert "verdicts in" not in result.stdout.str()
    data = json.loads(Path(judged.path / "r.json").read_text())
    assert data["summary"]["verdicts"] == 0 and data["summary"]["responses"] == 1
    assert data["responses"][0]["min_token"] == "Paris" and data["responses"][0]["borderline"] is True


@pytest.mark.parametrize("mode", WITH_WORKERS)
def test_replayed_and_live_verdicts_and_tokens_are_counted_apart(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, mode: list[str]
) -> None:
    """Verdicts replayed from cassettes and verdicts that called the endpoint are counted, and their tokens, apart."""
    judged.makepyfile(
        test_old="def test_old(judge):\n    judge('Is it old?', 'x')\n    judge('Is it older?', 'x')"
    )
    judged.runpytest().assert_outcomes(passed=1)
    judged.makepyfile(test_new="def test_new(judge):\n    judge('Is it new?', 'x')")
    result = judged.runpytest("--llm-report=r.json", *mode)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "3 verdicts in 2 tests: 2 replayed, 1 live",
            "tokens: live 43 (prompt 42, completion 1); replayed 86 (prompt 84, completion 2)",
        ]
    )
    data = json.loads((judged.path / "r.json").read_text())
    assert [(v["test_id"], v["replayed"]) for v in data["verdicts"]] == [
        ("test_new.py::test_new", False),
        ("test_old.py::test_old", True),
        ("test_old.py::test_old", True),
    ]
    assert (data["summary"]["replayed"], data["summary"]["live"]) == (2, 1)


def test_the_summary_is_built_once_and_every_writer_prints_it(suite: pytest.Pytester, tmp_path: Path) -> None:
    """Terminal, JSON, HTML and the GitHub step summary all print the one summary the run built."""
    suite.makeconftest(
        """
        import pytest_llmconfidence._report.summary as summary

        built = []
        original = summary.summarize

        def counting(*args, **kwargs):
            built.append(1)
            return original(*args, **kwargs)

        summary.summarize = counting

        def pytest_unconfigure(config):
            summary.summarize = original
            print("SUMMARIES BUILT", len(built))
        """
    )
    step = tmp_path / "step.md"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GITHUB_STEP_SUMMARY", str(step))
        result = suite.runpytest("--llm-report=r.json", "--llm-html=r.html", "-s")
    result.stdout.fnmatch_lines(["*= llm confidence summary =*", "SUMMARIES BUILT 1"])
    data = json.loads((suite.path / "r.json").read_text())
    assert data["summary"]["verdicts"] == 5
    assert "5 verdicts" in (suite.path / "r.html").read_text()
    assert "5 verdicts in 4 tests" in step.read_text()
