"""What the app's watched responses add up to (``--llm-watch``): counts, the distribution, the least sure.

Pure: reads the ``app_response`` records the tests reported (merged from every xdist worker) and knows
nothing of pytest. ``_report`` writes its terminal lines and Markdown, and the JSON and HTML sections.
"""

from __future__ import annotations

import html
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._text import fmt, md_cell, plural, shorten
from .figures import BINS, bin_of, number

__all__ = ["AppSummary", "app_summary", "choice_points_text", "html_section"]

LOWEST = 5


def _order(record: Mapping[str, Any]) -> tuple[str, int]:
    return str(record.get("test_id")), int(number(record.get("index")))


@dataclass(frozen=True)
class AppSummary:
    """The app's responses of the run: scored ones (in test order), skipped counts and the figures."""

    scored: tuple[dict[str, Any], ...] = ()
    skipped: tuple[tuple[str, int], ...] = ()
    tests: int = 0
    by: str = "geometric_mean"
    minimum: float = 0.5
    histogram: tuple[int, ...] = (0,) * BINS

    @property
    def received(self) -> int:
        return len(self.scored) + self.skipped_count

    @property
    def skipped_count(self) -> int:
        return sum(count for _, count in self.skipped)

    @property
    def replayed(self) -> int:
        return sum(1 for r in self.scored if r.get("replayed"))

    def scores(self) -> list[float]:
        return [number(r.get("score")) for r in self.scored]

    @property
    def unsure(self) -> list[dict[str, Any]]:
        return [r for r in self.scored if r.get("unsure")]

    def lowest(self, n: int = LOWEST) -> list[dict[str, Any]]:
        """The ``n`` least sure responses, least sure first (ties in test order)."""
        return sorted(self.scored, key=lambda r: (number(r.get("score")), _order(r)))[:n]

    def skipped_text(self) -> str:
        """``no logprobs 2, streamed 1``."""
        return ", ".join(f"{reason} {count}" for reason, count in self.skipped)

    def headline(self) -> str:
        """``7 app responses in 3 tests: 5 scored (5 replayed, 0 live), 2 skipped (no logprobs 2)``."""
        text = (
            f"{plural(self.received, 'app response')} in {plural(self.tests, 'test')}: "
            f"{len(self.scored)} scored ({self.replayed} replayed, {len(self.scored) - self.replayed} live)"
        )
        if self.skipped:
            text += f", {self.skipped_count} skipped ({self.skipped_text()})"
        return text

    def distribution_text(self) -> str:
        scores = self.scores()
        if not scores:
            return f"confidence ({self.by}): none scored"
        return (
            f"confidence ({self.by}): min {fmt(min(scores))}, median {fmt(statistics.median(scores))}, "
            f"mean {fmt(statistics.fmean(scores))}"
        )

    def unsure_text(self) -> str | None:
        unsure = self.unsure
        if not unsure:
            return None
        held_to = sorted({number(r.get("minimum"), self.minimum) for r in unsure})  # a marker's watch_min
        return (
            f"warning: {len(unsure)} of {plural(len(self.scored), 'app response')} unsure "
            f"({self.by} below llm_watch_min {' / '.join(f'{m:.2f}' for m in held_to)})"
        )

    def to_dict(self) -> dict[str, Any]:
        """The aggregates, as JSON-able data (the JSON report's ``summary.app_responses``)."""
        scores = self.scores()
        return {
            "received": self.received,
            "scored": len(self.scored),
            "replayed": self.replayed,
            "live": len(self.scored) - self.replayed,
            "tests": self.tests,
            "skipped": dict(self.skipped),
            "by": self.by,
            "minimum": self.minimum,
            "unsure": len(self.unsure),
            "confidence": {
                "min": min(scores) if scores else None,
                "median": statistics.median(scores) if scores else None,
                "mean": statistics.fmean(scores) if scores else None,
            },
            "histogram": [
                {"low": round(i / BINS, 2), "high": round((i + 1) / BINS, 2), "count": count}
                for i, count in enumerate(self.histogram)
            ],
        }


def app_summary(records: Iterable[Mapping[str, Any]]) -> AppSummary:
    """Aggregate the ``app_response`` records (any order: they are sorted by test id, then arrival)."""
    ordered = sorted((dict(r) for r in records), key=_order)
    scored = tuple(r for r in ordered if r.get("skipped") is None)
    skipped: dict[str, int] = {}
    for record in ordered:
        if record.get("skipped") is not None:
            reason = str(record["skipped"])
            skipped[reason] = skipped.get(reason, 0) + 1
    histogram = [0] * BINS
    for record in scored:
        histogram[bin_of(number(record.get("score")))] += 1
    bys = sorted({str(r.get("by")) for r in scored if r.get("by")})
    minimums = sorted({number(r.get("minimum"), 0.5) for r in scored})
    return AppSummary(
        scored=scored,
        skipped=tuple(sorted(skipped.items())),
        tests=len({str(r.get("test_id")) for r in ordered}),
        by=" / ".join(bys) or "geometric_mean",
        minimum=minimums[0] if minimums else 0.5,
        histogram=tuple(histogram),
    )


def choice_points_text(record: Mapping[str, Any], limit: int = 3) -> str:
    """``' maybe' 0.20 vs ' yes' 0.18, ...``: where the model hesitated, or ``none``."""
    points = [p for p in record.get("choice_points") or () if isinstance(p, Mapping)][:limit]
    if not points:
        return "none"
    return ", ".join(
        f"{p.get('token')!r} {number(p.get('probability')):.2f} vs {p.get('runner_up')!r} "
        f"{number(p.get('runner_up_probability')):.2f}"
        for p in points
    )


def lowest_rows(app: AppSummary, n: int = LOWEST) -> Sequence[tuple[str, ...]]:
    """(score, unsure or sure, test id, choice points, text) of the least sure responses."""
    return [
        (
            f"{number(r.get('score')):.2f}",
            "unsure" if r.get("unsure") else "sure",
            str(r.get("test_id")),
            choice_points_text(r),
            shorten(r.get("text"), 80),
        )
        for r in app.lowest(n)
    ]


def markdown_lines(app: AppSummary) -> list[str]:
    """The GitHub step summary's section: the numbers, then the least sure responses."""

    out = [
        "### App responses (--llm-watch)",
        "",
        f"{app.headline()}; {app.distribution_text()}" + (f"; {app.unsure_text()}" if app.unsure else ""),
    ]
    rows = lowest_rows(app)
    if rows:
        out += ["", f"| {app.by} | status | test | choice points | text |", "|---:|---|---|---|---|"]
        out += ["| " + " | ".join(md_cell(cell) for cell in row) + " |" for row in rows]
    return out


def html_section(app: AppSummary) -> str:
    """The HTML report's section on the app's responses: the numbers and the least sure, in a table."""
    e = html.escape
    lead = f"{app.headline()}. {app.distribution_text()}."
    warning = app.unsure_text()
    rows = "".join(
        f'<tr data-status="{e(status)}"><td class="num">{e(score)}</td><td class="status">{e(status)}</td>'
        f'<td class="test">{e(test)}</td><td><code>{e(points)}</code></td><td>{e(text)}</td></tr>'
        for score, status, test, points, text in lowest_rows(app, 20)
    )
    table = (
        f'<table class="app-responses"><thead><tr><th>{e(app.by)}</th><th>status</th><th>test</th>'
        f"<th>choice points</th><th>text</th></tr></thead><tbody>{rows}</tbody></table>"
        if rows
        else ""
    )
    return (
        '<section id="app-responses"><h2>App responses, least sure first</h2>'
        f'<p class="lead">{e(lead)}</p>'
        + (f'<p class="warn">{e(warning)}</p>' if warning else "")
        + table
        + "</section>"
    )
