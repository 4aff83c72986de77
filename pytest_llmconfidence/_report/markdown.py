"""The run's summary in Markdown for ``GITHUB_STEP_SUMMARY``: a table of the numbers, the lowest verdicts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._text import fmt, md_cell, plural, value_text
from .summary import (
    Summary,
    calibrated_note,
    cascade_counts,
    certified_counts,
    check_status,
    checked_threshold,
    expected_sentence,
    number,
)


def _expected(count: int) -> str:
    return f", {count} more as expected (xfail)" if count else ""


__all__ = ["markdown"]


def _md_status(record: Mapping[str, Any], band: float) -> str:
    note = calibrated_note(record)
    return check_status(record, band) + (f" ({note})" if note else "")


def markdown(summary: Summary, *, lowest: int = 10) -> str:
    """A Markdown summary for ``GITHUB_STEP_SUMMARY``: a table of the numbers, then the lowest verdicts."""
    rows = [
        ("verdicts", f"{plural(len(summary.verdicts), 'verdict')} in {plural(summary.tests, 'test')}"),
        ("replayed / live", f"{summary.replayed} / {summary.live}"),
        ("checks failed", f"{summary.checks_failed} of {summary.checks}{_expected(summary.checks_xfailed)}"),
        *(
            (
                f"cascade, {model}",
                f"decided {c['decided']}, escalated {c['escalated']}, abstained "
                f"{c['abstained']}, {c['tokens']:,} tokens",
            )
            for model, c in cascade_counts(summary.verdicts).items()
        ),
        *(
            (f"certified checks, {accuracy} accuracy", f"{failed} of {made} failed")
            for accuracy, (made, failed) in certified_counts([*summary.verdicts, *summary.graded]).items()
        ),
        ("undecided", str(summary.undecided)),
        ("borderline", f"{summary.borderline} (within {summary.band:.2f} of the threshold)"),
        (
            "confidence",
            f"min {fmt(summary.confidence_min)}, median {fmt(summary.confidence_median)}, "
            f"mean {fmt(summary.confidence_mean)}",
        ),
        (
            "tokens",
            f"live {summary.tokens['live']['total_tokens']:,}, "
            f"replayed {summary.tokens['replayed']['total_tokens']:,}"
            if summary.tokens_reported
            else "not reported",
        ),
    ]
    if summary.cost.priced:
        rows.append(("cost", summary.cost.text().removeprefix("cost: ")))
    rows.extend(("no price", text) for text in summary.cost.warnings())
    if summary.responses:
        rows.append(
            (
                "responses scored",
                f"{len(summary.responses)} ({summary.response_checks_failed} of "
                f"{summary.response_checks} checks failed{_expected(summary.response_checks_xfailed)})",
            )
        )
    if summary.comparisons:
        from .pairs import comparison_stats

        rows.append(("comparisons", comparison_stats(summary.comparisons).line()))
    if summary.panels:
        from .pairs import panel_agreement, panel_line

        rows.append(("panels", panel_line(summary.panels)))
        rows += [
            (f"{p.first} ~ {p.second}", p.line().split(": ", 1)[1]) for p in panel_agreement(summary.panels)
        ]
    expected = expected_sentence(summary)
    out = [
        "### LLM confidence summary",
        "",
        *([md_cell(expected), ""] if expected else []),
        "| | |",
        "|---|---|",
    ]
    out += [f"| {name} | {md_cell(value)} |" for name, value in rows]
    if summary.verdicts:
        out += [
            "",
            "| confidence | verdict | threshold | status | test | question |",
            "|---:|---|---:|---|---|---|",
        ]
        for record in summary.lowest(lowest):
            out.append(
                f"| {number(record.get('confidence')):.2f} | {value_text(record.get('value'))} | "
                f"{checked_threshold(record):.2f} | {_md_status(record, summary.band)} | "
                f"{md_cell(record.get('test_id'))} | {md_cell(record.get('question'))} |"
            )
    if summary.app is not None:
        from .watch_summary import markdown_lines

        out += ["", *markdown_lines(summary.app)]
    return "\n".join(out) + "\n\n"
