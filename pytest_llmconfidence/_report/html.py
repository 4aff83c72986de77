"""The HTML confidence report: one self-contained page, the histogram drawn as inline SVG.

No network, and no script but the page's own: a Content-Security-Policy forbids both. Past 1,000 verdicts
one small script, allowed by its hash, pages through the verdicts the table leaves out; they are embedded
as JSON data, never as code. Every piece of user text (questions, responses, test ids, tokens) is
escaped. Pure: knows nothing of pytest.
"""

from __future__ import annotations

import collections
import itertools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from html import escape
from typing import Any

from .._text import fmt, plural, shorten, value_text
from .summary import (
    BINS,
    Summary,
    bin_tone,
    calibrated_note,
    check_status,
    checked_threshold,
    expected_sentence,
)
from .summary import number as _num

__all__ = ["html_test_id", "page", "render_html", "report_sections", "svg_histogram", "svg_reliability"]

_COLOURS = {"red": "#d1495b", "yellow": "#e6a23c", "green": "#3c9d5d"}
_STYLE = """
:root { color-scheme: light; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa;
  --red: #d1495b; --yellow: #b7791f; --green: #2f855a; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
  margin: 0 auto; padding: 24px 32px 48px; max-width: 1200px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 28px 0 10px; }
.lead { color: var(--muted); margin: 0 0 18px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 120px;
  background: var(--soft); }
.card b { display: block; font-size: 20px; }
.card span { color: var(--muted); font-size: 12px; }
.card.bad b { color: var(--red); } .card.warn b { color: var(--yellow); }
svg text { font: 11px system-ui, sans-serif; fill: var(--muted); }
svg { max-width: 100%; height: auto; }
svg.histogram { width: 100%; max-width: 760px; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; font-size: 12px; color: var(--muted); }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.test { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px;
  overflow-wrap: break-word; }
.status { font-weight: 600; white-space: nowrap; }
.failed { color: var(--red); } .borderline { color: var(--yellow); } .passed { color: var(--green); }
.unchecked, .xfailed { color: var(--muted); }
.expected { margin: 12px 0 0; }
details summary { cursor: pointer; }
details dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 8px 0 4px; }
details dt { color: var(--muted); }
details dd { margin: 0; white-space: pre-wrap; word-break: break-word; }
table.long { table-layout: fixed; }
.chunk { content-visibility: auto; contain-intrinsic-size: auto 4000px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.iv { color: var(--muted); font-size: 11px; }
.note { color: var(--muted); font-size: 12px; margin: 4px 0 0; }
.bar { display: inline-block; height: 8px; border-radius: 2px; vertical-align: middle; margin-right: 6px; }
td, th { overflow-wrap: break-word; }
td.wide { min-width: 16em; }
.pager { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 10px; }
.pager input { min-width: 16em; }
.pager .shown { color: var(--muted); font-variant-numeric: tabular-nums; }
/* Narrow windows (a phone, a CI log beside the code): each table row becomes a card, test id and
   question on lines of their own, the short cells labelled in between; nothing scrolls sideways. */
@media (max-width: 900px) {
  body { padding: 16px 12px 32px; }
  table, tbody, tr, td { display: block; width: auto; }
  thead { display: none; }
  tr { display: flex; flex-wrap: wrap; align-items: baseline; gap: 2px 14px; padding: 8px 0;
    border-bottom: 1px solid var(--line); }
  td { border: 0; padding: 0; }
  td.test, td.wide { flex: 1 1 100%; min-width: 0; }
  td.num { text-align: left; }
  td[data-label]::before { content: attr(data-label) " "; color: var(--muted); font-size: 12px;
    font-weight: normal; }
  details dl { grid-template-columns: minmax(0, max-content) minmax(0, 1fr); }
}
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def html_test_id(value: Any) -> str:
    """A test id, escaped, with line-break opportunities after ``::``, ``/`` and ``_`` and before ``[``.

    A test named as a sentence (``test_late_returns_are_refused``) wraps between its words, never
    inside one, so the id column stays narrow enough to leave the question its room.
    """
    text = _e(value)
    for mark, marked in (("::", "::<wbr>"), ("/", "/<wbr>"), ("_", "_<wbr>"), ("[", "<wbr>[")):
        text = text.replace(mark, marked)
    return text


_LEGEND = (("red", "at or below 0.5"), ("yellow", "below the threshold"), ("green", "at or above it"))


def svg_histogram(summary: Summary, *, width: int = 640, height: int = 240) -> str:
    """The confidence histogram (bins of 0.1) as an inline SVG element, the threshold dashed.

    A legend above the plot names the threshold and the colours, so no label sits on the bars.
    """
    left, right, top, bottom = 40, 12, 40, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(summary.histogram) or 1
    step = plot_w / BINS
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="histogram" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="confidence histogram">',
        "<title>Confidence of the verdicts, bins of 0.1</title>",
        _histogram_legend(summary.thresholds[0], left),
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#8c959f"/>',
    ]
    for tick in range(0, peak + 1, max(1, -(-peak // 4))):
        y = top + plot_h - plot_h * tick / peak
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#eaeef2"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    for index, count in enumerate(summary.histogram):
        bar_h = plot_h * count / peak
        x = left + index * step + 3
        y = top + plot_h - bar_h
        colour = _COLOURS[bin_tone(index, summary.thresholds[0])]
        low, high = index / BINS, (index + 1) / BINS
        parts.append(
            f'<rect class="bin" data-low="{low:.1f}" data-count="{count}" x="{x:.1f}" y="{y:.1f}" '
            f'width="{step - 6:.1f}" height="{bar_h:.1f}" rx="2" fill="{colour}">'
            f"<title>{low:.1f}–{high:.1f}: {plural(count, 'verdict')}</title></rect>"
        )
        if count:
            parts.append(
                f'<text x="{x + (step - 6) / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">{count}</text>'
            )
    for index in range(BINS + 1):
        x = left + index * step
        parts.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{index / BINS:.1f}</text>'
        )
    tx = left + plot_w * summary.thresholds[0]
    parts.append(
        f'<line class="threshold" x1="{tx:.1f}" y1="{top - 6}" x2="{tx:.1f}" y2="{top + plot_h}" '
        'stroke="#1f2328" stroke-dasharray="4 3"/>'
    )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle">confidence</text></svg>'
    )
    return "".join(parts)


def _histogram_legend(threshold: float, left: int) -> str:
    """The legend row above the histogram: the dashed threshold with its value, then the bar colours."""
    label = f"threshold {threshold:.2f}"
    parts = [
        '<g class="legend">',
        f'<line x1="{left}" y1="8" x2="{left + 16}" y2="8" stroke="#1f2328" stroke-dasharray="4 3"/>',
        f'<text class="threshold-label" x="{left + 22}" y="12">{label}</text>',
    ]
    x = left + 22 + len(label) * 6.2 + 18
    for tone, words in _LEGEND if threshold > 0.5 else (_LEGEND[0], ("green", "above 0.5")):
        parts.append(f'<rect x="{x:.1f}" y="3" width="10" height="10" rx="2" fill="{_COLOURS[tone]}"/>')
        parts.append(f'<text x="{x + 14:.1f}" y="12">{words}</text>')
        x += 14 + len(words) * 6.2 + 18
    parts.append("</g>")
    return "".join(parts)


def _thresholds_note(summary: Summary) -> list[str]:
    """A line under the histogram when the verdicts were judged against more than one threshold."""
    if len(summary.thresholds) < 2:
        return []
    others = ", ".join(f"{value:.2f}" for value in summary.thresholds[1:])
    return [
        f'<p class="note">The checks used more than one threshold: the line and the colours show '
        f"{summary.thresholds[0]:.2f}, the most used; the others were {others}.</p>"
    ]


_SERIES = (("#8c959f", "raw"), ("#3c6fd1", "calibrated"))


def svg_reliability(series: Sequence[tuple[str, Sequence[Mapping[str, Any]]]], *, size: int = 320) -> str:
    """A reliability diagram: per equal-mass bin, accuracy against mean confidence; the diagonal is perfect.

    ``series`` is a list of ``(label, bins)``; each bin maps ``confidence``, ``accuracy`` and ``count``,
    and optionally ``interval`` (the accuracy's interval, drawn as a vertical bar).
    """
    pad = 40
    plot = size - pad - 14
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="reliability" width="{size + 180}" height="{size}" '
        f'viewBox="0 0 {size + 180} {size}" role="img" aria-label="reliability diagram">',
        "<title>Reliability diagram: accuracy against confidence, equal-mass bins</title>",
        f'<rect x="{pad}" y="14" width="{plot}" height="{plot}" fill="none" stroke="#8c959f"/>',
        f'<line class="diagonal" x1="{pad}" y1="{14 + plot}" x2="{pad + plot}" y2="14" stroke="#d0d7de" '
        'stroke-dasharray="4 3"/>',
    ]
    for tick in range(0, 11, 2):
        v = tick / 10
        x, y = pad + plot * v, 14 + plot - plot * v
        parts.append(f'<text x="{x:.1f}" y="{14 + plot + 14}" text-anchor="middle">{v:.1f}</text>')
        parts.append(f'<text x="{pad - 6}" y="{y + 4:.1f}" text-anchor="end">{v:.1f}</text>')
    for (label, bins), (colour, _name) in zip(series, _SERIES * (len(series) // 2 + 1), strict=False):
        points = []
        for b in bins:
            x = pad + plot * min(max(_num(b.get("confidence")), 0.0), 1.0)
            y = 14 + plot - plot * min(max(_num(b.get("accuracy")), 0.0), 1.0)
            points.append(f"{x:.1f},{y:.1f}")
            interval = b.get("interval")
            if isinstance(interval, Sequence) and len(interval) == 2:
                y_low = 14 + plot - plot * min(max(_num(interval[0]), 0.0), 1.0)
                y_high = 14 + plot - plot * min(max(_num(interval[1]), 0.0), 1.0)
                parts.append(
                    f'<line class="interval" x1="{x:.1f}" y1="{y_low:.1f}" x2="{x:.1f}" y2="{y_high:.1f}" '
                    f'stroke="{colour}" stroke-opacity="0.45"/>'
                )
            count = plural(int(_num(b.get("count"))), "verdict")
            parts.append(
                f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}">'
                f"<title>{_e(label)}: confidence {_num(b.get('confidence')):.3f}, accuracy "
                f"{_num(b.get('accuracy')):.3f}, {count}</title></circle>"
            )
        if points:
            parts.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="1.5"/>'
            )
    for index, ((label, _bins), (colour, _name)) in enumerate(zip(series, _SERIES * 2, strict=False)):
        y = 24 + index * 18
        parts.append(f'<circle cx="{size + 8}" cy="{y - 4}" r="4" fill="{colour}"/>')
        parts.append(f'<text x="{size + 16}" y="{y}">{_e(label)}</text>')
    parts.append(
        f'<text x="{pad + plot / 2:.1f}" y="{size - 2}" text-anchor="middle">confidence</text>'
        f'<text x="12" y="{14 + plot / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 12 {14 + plot / 2:.1f})">accuracy</text></svg>'
    )
    return "".join(parts)


def _with_interval(value: Any, interval: Any) -> str:
    if value is None:
        return "-"
    text = f"{_num(value):.3f}"
    if isinstance(interval, Sequence) and len(interval) == 2:
        text += f' <span class="iv">[{_num(interval[0]):.3f}, {_num(interval[1]):.3f}]</span>'
    return text


def _metric_cells(m: Mapping[str, Any] | None) -> str:
    if not m:
        return '<td class="num" colspan="5">-</td>'
    shares = ", ".join(
        f"≥{_e(t)}: {'-' if v.get('right') is None else format(v['right'], '.2f')} of {v.get('count', 0)}"
        for t, v in (m.get("above") or {}).items()
    )
    intervals = m.get("intervals") or {}
    labels = {"accuracy": "accuracy", "ece": "ECE", "brier": "Brier", "auroc": "AUROC"}
    cells = {name: _with_interval(m.get(name), intervals.get(name)) for name in labels}
    cells["ece"] += f" ({m.get('bins', 0)} bins)"
    return (
        f'<td class="num" data-label="n">{m.get("n", 0)}</td>'
        + "".join(f'<td class="num" data-label="{labels[name]}">{cell}</td>' for name, cell in cells.items())
        + f'<td class="wide" data-label="right when confidence above">{_e(shares)}</td>'
    )


def _calibration_section(calibration: Sequence[Any]) -> str:
    parts = ["<h2>Calibration</h2>"]
    if not calibration:
        parts.append(
            "<p>No labelled verdicts: give <code>judge(..., expected=True)</code> to measure calibration.</p>"
        )
        return "".join(parts)
    for index, report in enumerate(calibration):
        data = report.to_dict() if hasattr(report, "to_dict") else dict(report)
        if index == 0 and data.get("legend"):
            parts.append(f'<p class="lead">{_e(data["legend"])}</p>')
        rows = [("all verdicts, raw", data.get("all_raw")), ("held-out, raw", data.get("held_out_raw"))]
        fitted = data.get("map")
        if fitted:
            rows.append((f"held-out, {fitted.get('method')}", data.get("held_out_calibrated")))
        title = (
            data.get("model")
            if data.get("question", "verdicts") == "verdicts"
            else (f"{data.get('model')}, {data.get('question')}")
        )
        parts.append(f"<h3>{_e(title)}</h3>")
        sentences = [
            *(data.get("sentences") or ()),
            *([data["map_sentence"]] if data.get("map_sentence") else []),
        ]
        if sentences:
            parts.append('<ul class="sentences">' + "".join(f"<li>{_e(s)}</li>" for s in sentences) + "</ul>")
        parts.append(
            '<table class="calibration"><thead><tr><th>verdicts</th><th>n</th><th>accuracy</th><th>ECE</th>'
            "<th>Brier</th><th>AUROC</th><th>right when confidence above</th></tr></thead><tbody>"
            + "".join(
                f'<tr><td class="wide">{_e(label)}</td>{_metric_cells(m)}</tr>' for label, m in rows if m
            )
            + "</tbody></table>"
        )
        series = []
        if data.get("held_out_raw") and data.get("held_out_calibrated"):
            series = [
                ("held-out, raw", data["held_out_raw"].get("reliability", [])),
                ("held-out, calibrated", data["held_out_calibrated"].get("reliability", [])),
            ]
        elif data.get("all_raw"):
            series = [("all verdicts, raw", data["all_raw"].get("reliability", []))]
        parts.append(svg_reliability(series))
        for block in data.get("threshold_sentences") or ():
            parts.append(
                f'<p>Thresholds on {_e(block.get("on"))}:</p><ul class="thresholds">'
                + "".join(f"<li>{_e(s)}</li>" for s in block.get("sentences") or ())
                + "</ul>"
            )
        certified = [c.get("sentence") for c in data.get("certified") or () if isinstance(c, Mapping)]
        if certified:
            parts.append(
                "<p>Certified thresholds (fixed-sequence test, exact binomial bound):</p>"
                '<ul class="thresholds">' + "".join(f"<li>{_e(s)}</li>" for s in certified) + "</ul>"
            )
        parts.extend(f"<p>{_e(note)}</p>" for note in data.get("notes") or ())
    return "".join(parts)


_OUTCOME_WORDS = {"xfailed": "failed, as expected (xfail)"}


def _card(value: str, label: str, tone: str = "") -> str:
    cls = f"card {tone}".strip()
    return f'<div class="{cls}"><b>{_e(value)}</b><span>{_e(label)}</span></div>'


def _alternatives(record: Mapping[str, Any]) -> str:
    alternatives = [alt for alt in record.get("alternatives") or [] if isinstance(alt, Mapping)]
    alternatives.sort(key=lambda alt: -_num(alt.get("probability")))
    return ", ".join(
        f"<code>{_e(repr(alt.get('token')))}</code> {_num(alt.get('probability')):.4f}"
        for alt in alternatives[:8]
    )


def _failed_words(record: Mapping[str, Any], check: Mapping[str, Any]) -> str:
    """For a failed confident_true/confident_false: "false at 0.46, needed true ≥ 0.30"."""
    kind = str(check.get("kind", ""))
    if check.get("passed") or kind not in ("confident_true", "confident_false"):
        return ""
    value = record.get("value")
    value_word = "undecided" if value is None else str(value).lower()
    needed = kind.removeprefix("confident_")
    return (
        f": {_e(value_word)} at {_num(record.get('confidence')):.2f}, needed {needed} "
        f"&ge; {_num(check.get('threshold')):.2f}"
    )


def _details(record: Mapping[str, Any], *, open_: bool = False) -> str:
    rows: list[tuple[str, str]] = []
    if record.get("response") is not None:
        rows.append(("response", _e(record["response"])))
    if record.get("context") is not None:
        rows.append(("context", _e(record["context"])))
    rows.append(
        (
            "p_true / p_false",
            f"{_num(record.get('p_true')):.4f} / {_num(record.get('p_false')):.4f} "
            f"(coverage {_num(record.get('coverage')):.4f}, normalized {_num(record.get('normalized')):.4f})",
        )
    )
    rows.append(
        ("token", f"<code>{_e(repr(record.get('token')))}</code> at position {_e(record.get('position'))}")
    )
    top = _alternatives(record)
    if top:
        rows.append(("top tokens", top))
    for check in record.get("checks") or []:
        if isinstance(check, Mapping):
            outcome = "passed" if check.get("passed") else "xfailed" if record.get("xfail") else "failed"
            score = f"score {_num(check.get('score')):.4f}"
            if check.get("calibrated"):
                score = f"calibrated {_num(check.get('score')):.4f}, raw {_num(check.get('raw')):.4f}"
            rows.append(
                (
                    "check",
                    f"{_e(check.get('kind'))} &ge; {_num(check.get('threshold')):.2f}: "
                    f'<span class="{outcome}">{_OUTCOME_WORDS.get(outcome, outcome)}</span> ({score})'
                    f"{_failed_words(record, check)}",
                )
            )
    source = "replayed from cassette" if record.get("replayed") else "live"
    latency = _num(record.get("latency_s")) * 1000
    rows.append(("model", f"{_e(record.get('model'))} ({source}, {latency:.0f} ms)"))
    usage = record.get("usage")
    if isinstance(usage, Mapping):
        rows.append(
            (
                "tokens",
                f"{_num(usage.get('total_tokens')):.0f} (prompt {_num(usage.get('prompt_tokens')):.0f}, "
                f"completion {_num(usage.get('completion_tokens')):.0f})",
            )
        )
    if "cost_usd" in record:
        from .cost import dollars

        amount = record.get("cost_usd")
        rows.append(("cost", _e(dollars(_num(amount)) if amount is not None else "no price for this model")))
    body = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)
    return (
        f"<details{' open' if open_ else ''}>"
        f"<summary>{_e(shorten(record.get('question'), 140, marker='...'))}</summary>"
        f"<dl><dt>question</dt><dd>{_e(record.get('question'))}</dd>{body}</dl></details>"
    )


FULL_ROWS = 1000
"""Up to this many verdicts, every one is a row of the table, details included."""
LOWEST_ROWS = 200
FAILED_ROWS = 1000
OPEN_FAILED = 100
"""Up to this many failing verdicts in the table have their details open."""
"""Past FULL_ROWS, the table holds the lowest LOWEST_ROWS and the first FAILED_ROWS failing verdicts; the
rest are embedded as compact data and listed a page at a time by the page's script (a page that opens
quickly at 100,000)."""


_LONG_COLUMNS = (
    "<colgroup>"
    + "".join(f'<col style="width:{width}%">' for width in (24, 7, 11, 9, 10, 8, 31))
    + "</colgroup>"
)


_VERDICT_HEAD = (
    "<thead><tr><th>test</th><th>verdict</th><th>confidence</th><th>threshold</th><th>check</th>"
    "<th>source</th><th>question (click for details)</th></tr></thead>"
)
LONG_CHUNK = 100
"""A long table is cut into tables of this many rows, laid out only when scrolled near."""


def _verdict_table(summary: Summary, ordered: Sequence[Mapping[str, Any]], *, long: bool) -> str:
    """The verdicts in full, a row each. A long one (beside the other verdicts, listed apart) is laid out
    from its column widths, not by measuring every cell, and cut into tables of ``LONG_CHUNK`` rows
    that share those widths, each laid out only when scrolled near (``content-visibility``): it opens
    fast."""
    rows = _verdict_rows(summary, ordered)
    if not long:
        return f'<table class="verdicts">{_VERDICT_HEAD}<tbody>{"".join(rows)}</tbody></table>'
    return "".join(
        f'<div class="chunk"><table class="verdicts long">{_LONG_COLUMNS}{_VERDICT_HEAD if not start else ""}'
        f"<tbody>{''.join(rows[start : start + LONG_CHUNK])}</tbody></table></div>"
        for start in range(0, len(rows), LONG_CHUNK)
    )


def _in_full(summary: Summary) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], str]]]:
    """(the verdicts shown in full, lowest confidence first; the others with their check's status, by
    test id)."""
    ordered = sorted(summary.verdicts, key=lambda r: (_num(r.get("confidence")), str(r.get("test_id"))))
    if len(ordered) <= FULL_ROWS:
        return ordered, []
    statuses = [check_status(record, summary.band) for record in ordered]
    failed = [index for index, status in enumerate(statuses) if status == "failed"][:FAILED_ROWS]
    chosen = set(range(LOWEST_ROWS)) | set(failed)
    full = [record for index, record in enumerate(ordered) if index in chosen]
    rest = sorted(
        ((record, statuses[index]) for index, record in enumerate(ordered) if index not in chosen),
        key=lambda pair: str(pair[0].get("test_id")),
    )
    return full, rest


PAGE_ROWS = 200
"""The other verdicts are listed this many at a time."""
_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


_PACKED_PIECE = 64


def _packed(numbers: Sequence[int]) -> tuple[int, list[str]]:
    """``numbers`` (each >= 0) as base-62 digits, each number as many digits wide as the largest needs:
    (that width, the digits in pieces of 64 to be joined). No run of letters and digits is longer than a
    piece, so scanning the page for URLs (the report's redaction) stays linear."""
    width, top = 1, max(numbers, default=0)
    while top >= len(_DIGITS) ** width:
        width += 1
    digits = []
    for number in numbers:
        for place in range(width - 1, -1, -1):
            digits.append(_DIGITS[number // len(_DIGITS) ** place % len(_DIGITS)])
    text = "".join(digits)
    return width, [text[at : at + _PACKED_PIECE] for at in range(0, len(text), _PACKED_PIECE)]


def _front_coded(names: Sequence[str]) -> tuple[str, str]:
    """``names`` as (a separator, one string): each name as one digit (how many characters it shares with
    the name before it, up to 61) and the rest of it, ``test_case[12346]`` after ``test_case[12345]`` as
    ``E6]``. The separator is the first of ``|~^`` and then any character that no name holds. The shared
    part stops before a character outside the Basic Multilingual Plane, so that Python's and
    JavaScript's lengths agree."""
    used = set("".join(names))
    separator = next(c for c in itertools.chain("|~^", map(chr, range(0xA1, 0xD800))) if c not in used)
    coded, previous = [], ""
    for name in names:
        keep, most = 0, min(len(name), len(previous), len(_DIGITS) - 1)
        while keep < most:  # the longest shared prefix, by halves
            middle = (keep + most + 1) // 2
            if name.startswith(previous[:middle]):
                keep = middle
            else:
                most = middle - 1
        if not name[:keep].isascii():
            keep = next((at for at, char in enumerate(name[:keep]) if char > "\uffff"), keep)
        coded.append(_DIGITS[keep] + name[keep:])
        previous = name
    return separator, separator.join(coded)


def _redacted_names(names: list[str]) -> list[str]:
    """``names`` with every known secret hidden, each name whole (front coding would split a secret
    across two names, where the page's redaction could no longer see it)."""
    from .._recording.secrets import redact

    lines = redact("\n".join(names)).split("\n")
    return lines if len(lines) == len(names) else [redact(name) for name in names]


def _rest_data(rest: Sequence[tuple[Mapping[str, Any], str]]) -> str:
    """The verdicts not shown in full, by test id, as compact JSON for the page's script.

    ``modules`` holds runs of ``[module, count]``; ``names`` the test names after the module's ``::``,
    front coded (``_front_coded``, split at ``separator``); ``confidence`` thousandths and ``kind`` an
    index into ``kinds`` (``[verdict, check]``), both packed (``_packed``, ``*_width`` digits each,
    in pieces).
    Safe inside ``<script>``: every ``<``, ``>``, ``&`` and non-ASCII character is a JSON escape, so
    nothing in it can end the element or be read as markup.
    """
    modules: list[list[Any]] = []
    names: list[str] = []
    kinds: dict[tuple[str, str], int] = {}
    kind, confidence = [], []
    for record, status in rest:
        module, _, name = str(record.get("test_id")).partition("::")
        if modules and modules[-1][0] == module:
            modules[-1][1] += 1
        else:
            modules.append([module, 1])
        names.append(name)
        pair = (value_text(record.get("value")), status)
        kind.append(kinds.setdefault(pair, len(kinds)))
        confidence.append(round(min(max(_num(record.get("confidence")), 0.0), 1.0) * 1000))
    separator, coded = _front_coded(_redacted_names(names))
    confidence_width, confidence_digits = _packed(confidence)
    kind_width, kind_digits = _packed(kind)
    data = {
        "page": PAGE_ROWS,
        "modules": modules,
        "kinds": [list(pair) for pair in kinds],
        "separator": separator,
        "confidence_width": confidence_width,
        "kind_width": kind_width,
        "names": coded,
        "confidence": confidence_digits,
        "kind": kind_digits,
    }
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _rest_section(rest: Sequence[tuple[Mapping[str, Any], str]]) -> str:
    """The verdicts not shown in full, listed a page at a time by the page's script from compact data
    (``_rest_data``); with scripts off, a note says why they are not listed."""
    statuses = collections.Counter(status for _, status in rest)
    options = "".join(
        f'<option value="{status}">{status} ({count:,})</option>' for status, count in statuses.most_common()
    )
    return (
        f"<h2>The other {plural(len(rest), 'verdict')}</h2>"
        f'<p class="note">The table above shows the lowest {LOWEST_ROWS} and the failing ones in full; '
        f"the others are listed here {PAGE_ROWS} at a time, by test id or lowest confidence first. The "
        "JSON report (--llm-report) has every field.</p>"
        '<noscript><p class="note">Scripts are off, so they are not listed: the page lists them with one '
        "small script of its own (its Content-Security-Policy allows no other).</p></noscript>"
        '<div id="llm-rest" hidden><p class="pager">'
        '<input type="search" name="filter" placeholder="test id contains" aria-label="test id contains"> '
        f'<select name="status" aria-label="check"><option value="">every check</option>{options}</select> '
        '<select name="order" aria-label="order"><option value="id">by test id</option>'
        '<option value="confidence">lowest confidence first</option></select> '
        '<button type="button" name="previous">previous</button> <span class="shown"></span> '
        '<button type="button" name="next">next</button></p>'
        + _table("verdicts rest", ("test", "verdict", "confidence", "check"), "")
        + f'</div><script type="application/json" id="llm-rest-data">{_rest_data(rest)}</script>'
    )


_PAGER = """
(() => {
  const box = document.getElementById("llm-rest");
  const data = JSON.parse(document.getElementById("llm-rest-data").textContent);
  const digits = "DIGITS";
  const unpack = (text, width, i) => {
    let number = 0;
    for (let at = i * width; at < (i + 1) * width; at += 1) number = number * 62 + digits.indexOf(text[at]);
    return number;
  };
  const [confidences, kinds] = [data.confidence.join(""), data.kind.join("")];
  const coded = data.names.split(data.separator);
  const ids = [];
  let name = "";
  let at = 0;
  for (const [module, count] of data.modules) {
    for (const end = at + count; at < end; at += 1) {
      name = name.slice(0, digits.indexOf(coded[at][0])) + coded[at].slice(1);
      ids.push(name ? module + "::" + name : module);
    }
  }
  const confidence = ids.map((_, i) => unpack(confidences, data.confidence_width, i));
  const kind = ids.map((_, i) => data.kinds[unpack(kinds, data.kind_width, i)]);
  const part = (selector) => box.querySelector(selector);
  const [filter, status, order, previous, next] = ["filter", "status", "order", "previous", "next"].map(
    (n) => part(`[name="${n}"]`),
  );
  const [shown, body] = [part(".shown"), part("tbody")];
  const number = (n) => n.toLocaleString("en");
  let lower = null;
  let chosen = [];
  let first = 0;
  const cell = (row, text, label, cls) => {
    const td = row.insertCell();
    td.textContent = text;
    if (label) td.dataset.label = label;
    if (cls) td.className = cls;
    return td;
  };
  const draw = () => {
    const rows = document.createDocumentFragment();
    for (const i of chosen.slice(first, first + data.page)) {
      const [value, check] = kind[i];
      const row = document.createElement("tr");
      row.className = "verdict paged";
      row.dataset.status = check;
      const test = cell(row, "", "", "test");
      const pieces = ids[i].replace(/::|\\/|_/g, "$&\\u0000").replace(/\\[/g, "\\u0000[").split("\\u0000");
      pieces.forEach((piece, n) => {
        if (n) test.append(document.createElement("wbr"));
        test.append(piece);
      });
      cell(row, value, "verdict", "");
      cell(row, (confidence[i] / 1000).toFixed(3), "confidence", "num");
      cell(row, check, "", "status " + check);
      rows.append(row);
    }
    body.replaceChildren(rows);
    const last = Math.min(first + data.page, chosen.length);
    shown.textContent = chosen.length
      ? `${number(first + 1)}-${number(last)} of ${number(chosen.length)}`
      : "none of them matches";
    previous.disabled = first === 0;
    next.disabled = last >= chosen.length;
  };
  const choose = () => {
    const text = filter.value.trim().toLowerCase();
    if (text && lower === null) lower = ids.map((id) => id.toLowerCase());
    chosen = [];
    for (let i = 0; i < ids.length; i += 1) {
      if (status.value && kind[i][1] !== status.value) continue;
      if (text && !lower[i].includes(text)) continue;
      chosen.push(i);
    }
    if (order.value === "confidence") chosen.sort((a, b) => confidence[a] - confidence[b] || a - b);
    first = 0;
    draw();
  };
  filter.addEventListener("input", choose);
  status.addEventListener("change", choose);
  order.addEventListener("change", choose);
  previous.addEventListener("click", () => { first = Math.max(0, first - data.page); draw(); });
  next.addEventListener("click", () => { first += data.page; draw(); });
  box.hidden = false;
  choose();
})();
""".replace("DIGITS", _DIGITS)


def _verdict_rows(summary: Summary, ordered: Sequence[Mapping[str, Any]]) -> list[str]:
    """The table's rows; a failing verdict's details open, unless so many fail that the page would be slow."""
    rows = []
    failing = sum(1 for record in ordered if check_status(record, summary.band) == "failed")
    open_failed = failing <= OPEN_FAILED
    for record in ordered:
        status = check_status(record, summary.band)
        label = "failed, borderline" if status == "failed" and record.get("borderline") else status
        label = _OUTCOME_WORDS.get(label, label)
        note = calibrated_note(record)
        label += f" ({note})" if note else ""
        confidence = _num(record.get("confidence"))
        colour = _COLOURS[bin_tone(min(9, int(confidence * BINS)), checked_threshold(record))]
        rows.append(
            f'<tr class="verdict" data-status="{status}">'
            f'<td class="test">{html_test_id(record.get("test_id"))}</td>'
            f'<td data-label="verdict">{_e(value_text(record.get("value")))}</td>'
            f'<td class="num" data-label="confidence"><span class="bar" '
            f'style="width:{confidence * 48:.0f}px;background:{colour}"></span>{confidence:.3f}</td>'
            f'<td class="num" data-label="threshold">{checked_threshold(record):.2f}</td>'
            f'<td class="status {status}">{_e(label)}</td>'
            f"<td>{'replayed' if record.get('replayed') else 'live'}</td>"
            f'<td class="wide">{_details(record, open_=open_failed and status == "failed")}</td></tr>'
        )
    return rows


def _table(cls: str, headers: Sequence[str], rows: str) -> str:
    """A table of class ``cls`` with a header row of ``headers`` (markup) over ``rows``."""
    head = "".join(f"<th>{header}</th>" for header in headers)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def _record_rows(
    summary: Summary, records: Iterable[Mapping[str, Any]], cells: Callable[[Mapping[str, Any], str], str]
) -> str:
    """A row per record, by test id: its kind as the class, its check's status, its test id, then ``cells``
    (given the record and that status)."""
    rows = []
    for record in sorted(records, key=lambda r: str(r.get("test_id"))):
        status = check_status(record, summary.band)
        rows.append(
            f'<tr class="{_e(record.get("kind"))}" data-status="{status}">'
            f'<td class="test">{html_test_id(record.get("test_id"))}</td>{cells(record, status)}</tr>'
        )
    return "".join(rows)


def _question_cell(record: Mapping[str, Any]) -> str:
    return f'<td class="wide">{_e(shorten(record.get("question"), 140, marker="..."))}</td>'


def _response_cells(record: Mapping[str, Any], status: str) -> str:
    def cell(name: str) -> str:
        value = record.get(name)
        return "-" if value is None else f"{_num(value):.3f}"

    return (
        f'<td class="num" data-label="geometric mean">{cell("geometric_mean")}</td>'
        f'<td class="num" data-label="mean">{cell("mean")}</td>'
        f'<td class="num" data-label="min">{cell("min")}</td>'
        f'<td data-label="min token"><code>{_e(repr(record.get("min_token")))}</code></td>'
        f'<td class="status {status}">{_e(status)}</td>'
        f"<td>{_e(shorten(record.get('text'), 140, marker='...'))}</td>"
    )


def _responses_section(summary: Summary) -> str:
    rows = _record_rows(summary, summary.responses, _response_cells)
    headers = ("test", "geometric mean", "mean", "min", "min token", "check", "text")
    return "<h2>Responses scored</h2>" + _table("responses", headers, rows)


def _graded_cells(record: Mapping[str, Any], status: str) -> str:
    distribution = record.get("distribution") or {}
    spread = " ".join(f"{label}:{_num(p):.2f}" for label, p in distribution.items())
    return (
        f"<td>{_e(record.get('kind'))}</td>"
        f'<td data-label="value">{_e(record.get("value") or "undecided")}</td>'
        f'<td class="num" data-label="confidence">{_num(record.get("confidence")):.3f}</td>'
        f'<td class="status {status}">{_e(status)}</td><td><code>{_e(spread)}</code></td>'
        + _question_cell(record)
    )


def _graded_section(summary: Summary) -> str:
    rows = _record_rows(summary, summary.graded, _graded_cells)
    headers = ("test", "kind", "value", "confidence", "check", "distribution", "question")
    return "<h2>Scores and choices</h2>" + _table("graded", headers, rows)


def _comparison_cells(record: Mapping[str, Any], status: str) -> str:
    orders = []
    for order in record.get("orders") or ():
        if isinstance(order, Mapping):
            chose = order.get("value") or "undecided"
            first = str(order.get("first", "?")).upper()
            orders.append(f"{first} first chose {chose} {_num(order.get('confidence')):.2f}")
    return (
        f'<td data-label="preferred">{_e(record.get("value") or "undecided")}</td>'
        f'<td class="num" data-label="confidence">{_num(record.get("confidence")):.3f}</td>'
        f'<td class="num" data-label="p_a">{_num(record.get("p_a")):.3f}</td>'
        f'<td class="num" data-label="p_b">{_num(record.get("p_b")):.3f}</td>'
        f'<td data-label="orders">{_e("; ".join(orders))}'
        f"{'' if record.get('consistent') else ' (inconsistent)'}</td>"
        f'<td class="num" data-label="position bias">{_num(record.get("position_bias")):+.2f}</td>'
        f'<td class="status {status}">{_e(status)}</td>' + _question_cell(record)
    )


def _comparison_section(summary: Summary) -> str:
    """The comparisons: the run's line, then one row per comparison with both orders' choices."""
    from .pairs import comparison_stats

    rows = _record_rows(summary, summary.comparisons, _comparison_cells)
    headers = (
        "test",
        "preferred",
        "confidence",
        "p_a",
        "p_b",
        "orders",
        "position bias",
        "check",
        "question",
    )
    return (
        f"<h2>Comparisons (both orders)</h2><p>{_e(comparison_stats(summary.comparisons).line())}</p>"
        + _table("comparisons", headers, rows)
    )


def _panel_cells(record: Mapping[str, Any], status: str) -> str:
    members = "; ".join(
        f"{m.get('model')} {value_text(m.get('value'))} {_num(m.get('confidence')):.2f}"
        for m in record.get("members") or ()
        if isinstance(m, Mapping)
    )
    return (
        f'<td data-label="verdict">{_e(value_text(record.get("value")))}</td>'
        f'<td class="num" data-label="confidence">{_num(record.get("confidence")):.3f}</td>'
        f'<td class="num" data-label="agreement">{_num(record.get("agreement")):.2f}</td>'
        f'<td data-label="members">{_e(members)}</td>'
        f'<td class="status {status}">{_e(status)}</td>' + _question_cell(record)
    )


def _panel_section(summary: Summary) -> str:
    """The panels: the run's line, each pair of models' agreement and kappa, then one row per panel."""
    from .pairs import panel_agreement, panel_line

    pairs = "".join(
        f"<tr><td>{_e(pair.first)}</td><td>{_e(pair.second)}</td><td class='num'>{pair.panels}</td>"
        f"<td class='num'>{fmt(pair.agreement)}</td><td class='num'>{fmt(pair.kappa)}</td></tr>"
        for pair in panel_agreement(summary.panels)
    )
    rows = _record_rows(summary, summary.panels, _panel_cells)
    headers = ("test", "verdict", "confidence", "agreement", "members", "check", "question")
    return (
        f"<h2>Panels</h2><p>{_e(panel_line(summary.panels))}</p>"
        + (
            _table("panel-pairs", ("model", "model", "panels", "agreement", "Cohen's kappa"), pairs)
            if pairs
            else ""
        )
        + _table("panels", headers, rows)
    )


def render_html(
    summary: Summary,
    *,
    title: str = "LLM confidence report",
    calibration: Sequence[Any] | None = None,
    sections: Iterable[str] = (),
) -> str:
    """The whole page: numbers, the SVG histogram, the verdict table (lowest confidence first), with a
    calibration report the metrics per model and a reliability diagram, the app's watched responses, and
    then ``sections`` (the baseline's, …) in order. Past ``FULL_ROWS`` verdicts, the page's one script
    lists the verdicts the table leaves out, a page at a time."""
    own = report_sections(summary, title=title, calibration=calibration)
    scripts = (_PAGER,) if len(summary.verdicts) > FULL_ROWS else ()
    return page(title, [*own, *sections], scripts=scripts)


def page(title: str, sections: Iterable[str], *, scripts: Sequence[str] = ()) -> str:
    """A self-contained HTML document of ``sections`` (pieces of HTML), in order, under ``title``.

    No network, and no script but ``scripts`` (our own code, never user text), each allowed by its hash
    in the Content-Security-Policy and run at the end of the body.
    """
    policy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    if scripts:
        policy += "; script-src " + " ".join(f"'{_script_hash(script)}'" for script in scripts)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head>\n<body>\n"
        + "\n".join(sections)
        + "".join(f"\n<script>{script}</script>" for script in scripts)
        + "\n</body></html>\n"
    )


def _script_hash(script: str) -> str:
    """The CSP source that allows exactly ``script``: ``sha256-`` and the base64 of its SHA-256."""
    import base64
    import hashlib

    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()


def report_sections(
    summary: Summary, *, title: str = "LLM confidence report", calibration: Sequence[Any] | None = None
) -> list[str]:
    """The report's own sections, in page order (see ``render_html``)."""
    verdicts = len(summary.verdicts)
    lead = (
        f"{plural(verdicts, 'verdict')} in {plural(summary.tests, 'test')}: "
        f"{summary.replayed} replayed, {summary.live} live"
    )
    if summary.responses:
        lead += f"; {plural(len(summary.responses), 'response')} scored"
    tokens = summary.tokens
    cards = [
        _card(str(verdicts), "verdicts"),
        _card(
            f"{summary.checks_failed} / {summary.checks}",
            "checks failed",
            "bad" if summary.checks_failed else "",
        ),
        *(
            [_card(str(summary.checks_xfailed), "failed as expected (xfail)")]
            if summary.checks_xfailed
            else []
        ),
        _card(
            str(summary.undecided),
            "undecided",
            "bad" if summary.undecided > summary.undecided_xfailed else "",
        ),
        _card(
            str(summary.borderline),
            f"borderline (±{summary.band:.2f})",
            "warn" if summary.borderline else "",
        ),
        _card(fmt(summary.confidence_min), "min confidence"),
        _card(fmt(summary.confidence_median), "median"),
        _card(fmt(summary.confidence_mean), "mean"),
        _card(
            f"{tokens['live']['total_tokens']:,}" if summary.tokens_reported else "-",
            f"live tokens ({tokens['replayed']['total_tokens']:,} replayed)"
            if summary.tokens_reported
            else "tokens not reported",
        ),
    ]
    if summary.cost.priced:
        from .cost import dollars

        cost = summary.cost
        cards.append(
            _card(dollars(cost.spent), f"spent ({dollars(cost.replayed)} replayed, not spent again)")
        )
    lead_notes = summary.cost.warnings()
    sections = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="lead">{_e(lead)}</p>',
        f'<div class="cards">{"".join(cards)}</div>',
        *(f'<p class="note">{_e(note)}</p>' for note in lead_notes),
        *([f'<p class="expected">{_e(sentence)}</p>'] if (sentence := expected_sentence(summary)) else []),
        "<h2>Confidence histogram</h2>",
        svg_histogram(summary),
        *_thresholds_note(summary),
        *([_calibration_section(calibration)] if calibration is not None else []),
        "<h2>Verdicts, lowest confidence first</h2>",
    ]
    if summary.verdicts:
        full, rest = _in_full(summary)
        sections.append(_verdict_table(summary, full, long=bool(rest)))
        if rest:
            sections.append(_rest_section(rest))
    else:
        sections.append("<p>No verdicts in this run.</p>")
    if summary.responses:
        sections.append(_responses_section(summary))
    if summary.graded:
        sections.append(_graded_section(summary))
    if summary.comparisons:
        sections.append(_comparison_section(summary))
    if summary.panels:
        sections.append(_panel_section(summary))
    if summary.app is not None:
        from .watch_summary import html_section

        sections.append(html_section(summary.app))
    return sections
