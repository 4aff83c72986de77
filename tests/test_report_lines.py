"""The report core without pytest: records -> aggregates, summary lines, JSON, Markdown, HTML, files."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_llmconfidence import _files
from pytest_llmconfidence._files import write_atomic
from pytest_llmconfidence._report.html import render_html, svg_histogram
from pytest_llmconfidence._report.json_report import to_json
from pytest_llmconfidence._report.markdown import markdown
from pytest_llmconfidence._report.output import write_reports
from pytest_llmconfidence._report.summary import bin_of, summarize
from pytest_llmconfidence._report.terminal import plain, summary_lines


def verdict_record(
    confidence: float,
    *,
    value: bool | None = True,
    checks: list[tuple[float, bool]] = (),  # type: ignore[assignment]
    replayed: bool = False,
    usage: tuple[int, int] | None = (40, 1),
    test_id: str = "test_a.py::test_a",
    question: str = "Is it right?",
) -> dict[str, Any]:
    """A record as ``Verdict.to_record()`` makes it, with the plugin's kind and test id."""
    return {
        "kind": "verdict",
        "test_id": test_id,
        "value": value,
        "confidence": confidence,
        "normalized": confidence,
        "p_true": confidence if value else 1 - confidence,
        "p_false": 1 - confidence if value else confidence,
        "coverage": 1.0,
        "token": "true" if value else "false",
        "position": 0,
        "alternatives": [{"token": "true", "probability": confidence, "logprob": -0.1}],
        "question": question,
        "response": "a reply",
        "context": None,
        "model": "m",
        "threshold": 0.9,
        "replayed": replayed,
        "usage": None
        if usage is None
        else {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)},
        "latency_s": 0.01,
        "expected": None,
        "calibrated": None,
        "checks": [
            {"kind": "confident_true", "threshold": threshold, "passed": passed, "score": confidence}
            for threshold, passed in checks
        ],
    }


def test_aggregates_count_replayed_live_failed_undecided_and_tokens_apart() -> None:
    """Counts, the confidence distribution and the tokens (replayed and live apart) add up."""
    records = [
        verdict_record(0.99, checks=[(0.9, True)], replayed=True, usage=(100, 1), test_id="t::a"),
        verdict_record(0.60, checks=[(0.9, False), (0.5, True)], usage=(50, 2), test_id="t::b"),
        verdict_record(0.0, value=None, usage=None, test_id="t::b"),
        verdict_record(0.80, replayed=True, usage=(10, 1), test_id="t::c"),
    ]
    summary = summarize(records)
    assert (len(summary.verdicts), summary.tests, summary.replayed, summary.live) == (4, 3, 2, 2)
    assert (summary.checks, summary.checks_failed, summary.failed_verdicts) == (3, 1, 1)
    assert summary.undecided == 1
    assert summary.confidence_min == 0.0
    assert summary.confidence_median == pytest.approx(0.70)
    assert summary.confidence_mean == pytest.approx(2.39 / 4)
    assert summary.histogram == (1, 0, 0, 0, 0, 0, 1, 0, 1, 1)
    assert summary.tokens == {
        "live": {"prompt_tokens": 50, "completion_tokens": 2, "total_tokens": 52, "cached_tokens": 0},
        "replayed": {"prompt_tokens": 110, "completion_tokens": 2, "total_tokens": 112, "cached_tokens": 0},
    }
    lines = plain(summary_lines(summary))
    assert lines[0] == "4 verdicts in 3 tests: 2 replayed, 2 live"
    assert "tokens: live 52 (prompt 50, completion 2); replayed 112 (prompt 110, completion 2)" in lines


@pytest.mark.parametrize(
    ("confidence", "threshold", "passed", "borderline"),
    [
        (0.93, 0.9, True, True),  # passed, but only just
        (0.95, 0.9, True, True),  # exactly at the band's edge
        (0.96, 0.9, True, False),
        (0.87, 0.9, False, True),  # failed, just below
        (0.80, 0.9, False, False),
        (0.52, 0.5, True, True),  # the threshold checked, not the default
    ],
)
def test_borderline_is_within_the_band_of_the_threshold_checked(
    confidence: float, threshold: float, passed: bool, borderline: bool
) -> None:
    """A checked verdict within llm_borderline of its check's threshold is borderline, passed or not."""
    summary = summarize([verdict_record(confidence, checks=[(threshold, passed)])], band=0.05)
    assert summary.verdicts[0]["borderline"] is borderline
    assert summary.borderline == int(borderline)


def test_unchecked_verdicts_are_never_borderline() -> None:
    """Without a check there is no threshold to be close to."""
    assert summarize([verdict_record(0.9)]).borderline == 0


@given(st.floats(min_value=0.0, max_value=1.0))
def test_every_confidence_lands_in_the_bin_that_holds_it(confidence: float) -> None:
    """Bins are [0, 0.1), ..., [0.9, 1.0]: 1.0 goes in the last bin."""
    index = bin_of(confidence)
    assert 0 <= index <= 9
    assert index / 10 - 1e-9 <= confidence
    assert confidence < (index + 1) / 10 + 1e-9 or index == 9


@given(st.lists(st.floats(min_value=0.0, max_value=1.0), max_size=30))
def test_histogram_counts_every_verdict_once(confidences: list[float]) -> None:
    """The histogram's counts add up to the number of verdicts; min <= median <= max."""
    summary = summarize([verdict_record(c) for c in confidences])
    assert sum(summary.histogram) == len(confidences)
    if confidences:
        assert summary.confidence_min == min(confidences)
        assert summary.confidence_median is not None
        assert min(confidences) <= summary.confidence_median <= max(confidences)


def test_bin_edges() -> None:
    """0.1 opens the second bin, 0.9 the last; 0.0 is in the first."""
    assert [bin_of(x) for x in (0.0, 0.0999, 0.1, 0.5, 0.8999, 0.9, 1.0)] == [0, 0, 1, 5, 8, 9, 9]


def test_no_records_give_no_lines() -> None:
    """Nothing judged, nothing to say; off says nothing either."""
    assert summary_lines(summarize([])) == []
    assert summary_lines(summarize([verdict_record(0.5)]), "off") == []


def test_unknown_kinds_are_carried_but_not_counted() -> None:
    """A record of a kind this version does not know does not break the summary."""
    summary = summarize([{"kind": "future", "test_id": "t::x"}, verdict_record(0.9)])
    assert len(summary.verdicts) == 1 and summary.other == 1
    assert plain(summary_lines(summary))[0] == "1 verdict in 1 test: 0 replayed, 1 live"


def test_lines_carry_markup_for_failed_borderline_and_bins() -> None:
    """Failures are red, borderline yellow, bins below 0.5 red and above the threshold green."""
    summary = summarize(
        [verdict_record(0.2, checks=[(0.9, False)]), verdict_record(0.92, checks=[(0.9, True)])]
    )
    segments = [segment for line in summary_lines(summary) for segment in line]
    assert ("1 of 2 checks failed", {"red": True}) in segments
    assert ("1 borderline", {"yellow": True}) in segments
    assert ("failed", {"red": True}) in segments and ("borderline", {"yellow": True}) in segments
    bars = [(text, markup) for text, markup in segments if text and set(text) == {"#"}]
    assert bars == [("#" * 40, {"red": True}), ("#" * 40, {"green": True})]


def test_questions_are_cut_to_one_line() -> None:
    """A long multi-line question is flattened and cut with '...' to fit the width."""
    question = "Does the reply\nstay polite " + "and kind " * 40
    summary = summarize([verdict_record(0.5, question=question)])
    (row,) = [line for line in plain(summary_lines(summary, width=120)) if "test_a" in line]
    assert "\n" not in row and row.endswith("...") and len(row) <= 120
    assert "Does the reply stay polite and kind" in row


def test_json_report_is_flat_and_serialisable() -> None:
    """to_json gives the aggregates and one object per verdict with its checks, status and flag."""
    records = [verdict_record(0.92, checks=[(0.9, True)]), verdict_record(0.4, checks=[(0.9, False)])]
    data = json.loads(json.dumps(to_json(summarize(records))))
    assert [v["status"] for v in data["verdicts"]] == ["borderline", "failed"]
    assert [v["borderline"] for v in data["verdicts"]] == [True, False]
    assert data["verdicts"][1]["checks"] == [
        {"kind": "confident_true", "threshold": 0.9, "passed": False, "score": 0.4}
    ]
    assert data["summary"]["checks_failed"] == 1 and data["summary"]["verdicts"] == 2


def test_markdown_escapes_table_breaking_text() -> None:
    """Pipes, newlines and HTML in questions cannot break the GitHub table."""
    text = markdown(summarize([verdict_record(0.5, question="a | b\n<script>x</script>")]))
    assert (
        "| 0.50 | true | 0.90 | unchecked | test_a.py::test_a | a &#124; b &lt;script&gt;x&lt;/script&gt; |"
        in text
    )
    assert "<script>" not in text


def test_write_atomic_replaces_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    """The file is replaced in one rename; no temporary file remains."""
    target = tmp_path / "deep" / "report.json"
    write_atomic(target, "one")
    write_atomic(target, "two")
    assert target.read_text() == "two"
    assert os.listdir(target.parent) == ["report.json"]


def test_interrupted_write_keeps_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the rename never happens, the previous report is intact and the temporary file is gone."""
    target = tmp_path / "report.json"
    target.write_text("previous")

    def fail(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(_files.os, "replace", fail)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "new")
    assert target.read_text() == "previous"
    assert os.listdir(tmp_path) == ["report.json"]


def test_a_file_written_in_pieces_is_all_of_them_or_the_previous_one(tmp_path: Path) -> None:
    """Pieces of text are written one after the other into one file; a failure while they are made
    leaves the previous file whole and no temporary file."""
    target = tmp_path / "merged.json"
    write_atomic(target, iter(["{", '"a": "é"', "}"]))
    assert target.read_text(encoding="utf-8") == '{"a": "é"}'

    def pieces() -> Iterator[str]:
        yield "half"
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_atomic(target, pieces())
    assert target.read_text(encoding="utf-8") == '{"a": "é"}'
    assert os.listdir(tmp_path) == ["merged.json"]


def test_write_reports_skips_the_step_summary_without_records(tmp_path: Path) -> None:
    """The GitHub step summary is appended only when something was judged."""
    step = tmp_path / "step.md"
    assert write_reports(summarize([]), github_summary=str(step)) == []
    assert not step.exists()
    (written,) = write_reports(summarize([verdict_record(0.5)]), github_summary=str(step))
    assert written.error is None and "### LLM confidence summary" in step.read_text()


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def test_html_page_escapes_user_text_and_loads_nothing() -> None:
    """Questions, responses and test ids are escaped; no script, no external resource."""
    record = verdict_record(0.5, question='<script>alert("q")</script>', test_id="t.py::test_<i>")
    record["response"] = "<img src=x onerror=alert(1)>"
    html = render_html(summarize([record]))
    parser = _Tags()
    parser.feed(html)
    assert {"script", "img", "i", "link", "iframe"}.isdisjoint(parser.tags)
    assert "&lt;script&gt;alert(&quot;q&quot;)&lt;/script&gt;" in html
    assert "default-src 'none'" in html
    assert "src=" not in html.replace("&lt;img src=x", "")


def test_svg_histogram_has_a_bar_per_bin_and_the_threshold() -> None:
    """Ten bars whose data-count are the bin counts, and a dashed threshold line."""
    svg = svg_histogram(summarize([verdict_record(0.05), verdict_record(0.95), verdict_record(1.0)]))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count('class="bin"') == 10
    assert 'data-low="0.9" data-count="2"' in svg and 'data-low="0.0" data-count="1"' in svg
    assert "threshold 0.90" in svg and "stroke-dasharray" in svg


def test_json_verdicts_are_sorted_by_test_whatever_order_workers_reported_them() -> None:
    """Verdicts are listed by test id, each test's in the order it made them, so reports diff cleanly."""
    records = [
        verdict_record(0.1, test_id="t.py::test_b", question="b1"),
        verdict_record(0.2, test_id="t.py::test_a", question="a1"),
        verdict_record(0.3, test_id="t.py::test_b", question="b2"),
    ]
    assert [v["question"] for v in to_json(summarize(records))["verdicts"]] == ["a1", "b1", "b2"]


def test_html_lists_scored_responses_apart() -> None:
    """Response records get their own table: aggregates, weakest token, check status, the text escaped."""
    response = {
        "kind": "response",
        "test_id": "t.py::test_r",
        "text": "It <b>rains</b>",
        "mean": 0.6,
        "geometric_mean": 0.42,
        "min": 0.2,
        "min_token": " rains",
        "checks": [{"kind": "at_least", "threshold": 0.8, "passed": False, "score": 0.42}],
    }
    html = render_html(summarize([response, verdict_record(0.9)]))
    assert html.count('<tr class="response" data-status="failed">') == 1
    assert "<td>It &lt;b&gt;rains&lt;/b&gt;</td>" in html
    assert "1 verdict in 1 test: 0 replayed, 1 live; 1 response scored" in html
