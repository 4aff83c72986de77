"""The HTML confidence report: one self-contained page, the histogram drawn as inline SVG.

No script, no network: a Content-Security-Policy forbids both. Every piece of user text (questions,
responses, test ids, tokens) is escaped. Pure: knows nothing of pytest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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
.compact pre { margin: 4px 0 8px; font-size: 12px; white-space: pre; overflow-x: auto; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.iv { color: var(--muted); font-size: 11px; }
.note { color: var(--muted); font-size: 12px; margin: 4px 0 0; }
.bar { display: inline-block; height: 8px; border-radius: 2px; vertical-align: middle; margin-right: 6px; }
td, th { overflow-wrap: break-word; }
td.wide { min-width: 16em; }
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
rest are listed compactly, by module, in collapsed sections (a page that opens quickly at 100,000)."""


_LONG_COLUMNS = (
    "<colgroup>"
    + "".join(f'<col style="width:{width}%">' for width in (24, 7, 11, 9, 10, 8, 31))
    + "</colgroup>"
)


def _in_full(summary: Summary) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the verdicts shown in full, lowest confidence first; the others, by test id)."""
    ordered = sorted(summary.verdicts, key=lambda r: (_num(r.get("confidence")), str(r.get("test_id"))))
    if len(ordered) <= FULL_ROWS:
        return ordered, []
    failed = [r for r in ordered if check_status(r, summary.band) == "failed"][:FAILED_ROWS]
    chosen = {id(r) for r in ordered[:LOWEST_ROWS]} | {id(r) for r in failed}
    full = [r for r in ordered if id(r) in chosen]
    rest = sorted((r for r in ordered if id(r) not in chosen), key=lambda r: str(r.get("test_id")))
    return full, rest


def _compact_section(summary: Summary, rest: Sequence[Mapping[str, Any]]) -> str:
    """The verdicts not shown in full: one collapsed section per module, a line per verdict."""
    modules: dict[str, list[str]] = {}
    for record in rest:
        module, _, name = str(record.get("test_id")).partition("::")
        line = (
            f"{_num(record.get('confidence')):.3f} {value_text(record.get('value'))} "
            f"{check_status(record, summary.band)} {name or module}"
        )
        modules.setdefault(module, []).append(line)
    parts = "".join(
        f"<details><summary>{_e(module)} ({plural(len(lines), 'verdict')})</summary>"
        f"<pre>{_e(chr(10).join(lines))}</pre></details>"
        for module, lines in modules.items()
    )
    return (
        f"<h2>The other {plural(len(rest), 'verdict')}, by module</h2>"
        '<p class="note">confidence, verdict, check and test, a line each; the table above shows the lowest '
        f"{LOWEST_ROWS} and the failing ones in full. The JSON report (--llm-report) has every field.</p>"
        f'<div class="compact">{parts}</div>'
    )


def _verdict_rows(summary: Summary, ordered: Sequence[Mapping[str, Any]]) -> str:
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
    return "".join(rows)


def _response_rows(summary: Summary) -> str:
    rows = []
    for record in sorted(summary.responses, key=lambda r: str(r.get("test_id"))):
        status = check_status(record, summary.band)

        def cell(name: str, record: Mapping[str, Any] = record) -> str:
            value = record.get(name)
            return "-" if value is None else f"{_num(value):.3f}"

        rows.append(
            f'<tr class="response" data-status="{status}">'
            f'<td class="test">{html_test_id(record.get("test_id"))}</td>'
            f'<td class="num" data-label="geometric mean">{cell("geometric_mean")}</td>'
            f'<td class="num" data-label="mean">{cell("mean")}</td>'
            f'<td class="num" data-label="min">{cell("min")}</td>'
            f'<td data-label="min token"><code>{_e(repr(record.get("min_token")))}</code></td>'
            f'<td class="status {status}">{_e(status)}</td>'
            f"<td>{_e(shorten(record.get('text'), 140, marker='...'))}</td></tr>"
        )
    return "".join(rows)


def _graded_rows(summary: Summary) -> str:
    rows = []
    for record in sorted(summary.graded, key=lambda r: str(r.get("test_id"))):
        status = check_status(record, summary.band)
        distribution = record.get("distribution") or {}
        spread = " ".join(f"{label}:{_num(p):.2f}" for label, p in distribution.items())
        rows.append(
            f'<tr class="{_e(record.get("kind"))}" data-status="{status}">'
            f'<td class="test">{html_test_id(record.get("test_id"))}</td><td>{_e(record.get("kind"))}</td>'
            f'<td data-label="value">{_e(record.get("value") or "undecided")}</td>'
            f'<td class="num" data-label="confidence">{_num(record.get("confidence")):.3f}</td>'
            f'<td class="status {status}">{_e(status)}</td><td><code>{_e(spread)}</code></td>'
            f'<td class="wide">{_e(shorten(record.get("question"), 140, marker="..."))}</td></tr>'
        )
    return "".join(rows)


def _comparison_section(summary: Summary) -> str:
    """The comparisons: the run's line, then one row per comparison with both orders' choices."""
    from .pairs import comparison_stats

    rows = []
    for record in sorted(summary.comparisons, key=lambda r: str(r.get("test_id"))):
        status = check_status(record, summary.band)
        orders = []
        for order in record.get("orders") or ():
            if isinstance(order, Mapping):
                chose = order.get("value") or "undecided"
                first = str(order.get("first", "?")).upper()
                orders.append(f"{first} first chose {chose} {_num(order.get('confidence')):.2f}")
        rows.append(
            f'<tr class="comparison" data-status="{status}">'
            f'<td class="test">{html_test_id(record.get("test_id"))}</td>'
            f'<td data-label="preferred">{_e(record.get("value") or "undecided")}</td>'
            f'<td class="num" data-label="confidence">{_num(record.get("confidence")):.3f}</td>'
            f'<td class="num" data-label="p_a">{_num(record.get("p_a")):.3f}</td>'
            f'<td class="num" data-label="p_b">{_num(record.get("p_b")):.3f}</td>'
            f'<td data-label="orders">{_e("; ".join(orders))}'
            f"{'' if record.get('consistent') else ' (inconsistent)'}</td>"
            f'<td class="num" data-label="position bias">{_num(record.get("position_bias")):+.2f}</td>'
            f'<td class="status {status}">{_e(status)}</td>'
            f'<td class="wide">{_e(shorten(record.get("question"), 140, marker="..."))}</td></tr>'
        )
    return (
        f"<h2>Comparisons (both orders)</h2><p>{_e(comparison_stats(summary.comparisons).line())}</p>"
        '<table class="comparisons"><thead><tr><th>test</th><th>preferred</th><th>confidence</th>'
        "<th>p_a</th><th>p_b</th><th>orders</th><th>position bias</th><th>check</th><th>question</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _panel_section(summary: Summary) -> str:
    """The panels: the run's line, each pair of models' agreement and kappa, then one row per panel."""
    from .pairs import panel_agreement, panel_line

    pairs = "".join(
        f"<tr><td>{_e(pair.first)}</td><td>{_e(pair.second)}</td><td class='num'>{pair.panels}</td>"
        f"<td class='num'>{fmt(pair.agreement)}</td><td class='num'>{fmt(pair.kappa)}</td></tr>"
        for pair in panel_agreement(summary.panels)
    )
    rows = []
    for record in sorted(summary.panels, key=lambda r: str(r.get("test_id"))):
        status = check_status(record, summary.band)
        members = "; ".join(
            f"{m.get('model')} {value_text(m.get('value'))} {_num(m.get('confidence')):.2f}"
            for m in record.get("members") or ()
            if isinstance(m, Mapping)
        )
        rows.append(
            f'<tr class="panel" data-status="{status}">'
            f'<td class="test">{html_test_id(record.get("test_id"))}</td>'
            f'<td data-label="verdict">{_e(value_text(record.get("value")))}</td>'
            f'<td class="num" data-label="confidence">{_num(record.get("confidence")):.3f}</td>'
            f'<td class="num" data-label="agreement">{_num(record.get("agreement")):.2f}</td>'
            f'<td data-label="members">{_e(members)}</td>'
            f'<td class="status {status}">{_e(status)}</td>'
            f'<td class="wide">{_e(shorten(record.get("question"), 140, marker="..."))}</td></tr>'
        )
    return (
        f"<h2>Panels</h2><p>{_e(panel_line(summary.panels))}</p>"
        + (
            '<table class="panel-pairs"><thead><tr><th>model</th><th>model</th><th>panels</th>'
            f"<th>agreement</th><th>Cohen's kappa</th></tr></thead><tbody>{pairs}</tbody></table>"
            if pairs
            else ""
        )
        + '<table class="panels"><thead><tr><th>test</th><th>verdict</th><th>confidence</th>'
        "<th>agreement</th><th>members</th><th>check</th><th>question</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
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
    then ``sections`` (the baseline's, …) in order."""
    return page(title, [*report_sections(summary, title=title, calibration=calibration), *sections])


def page(title: str, sections: Iterable[str]) -> str:
    """A self-contained HTML document of ``sections`` (pieces of HTML), in order, under ``title``."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head>\n<body>\n"
        + "\n".join(sections)
        + "\n</body></html>\n"
    )


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
        # A long table is laid out from its column widths, not by measuring every cell: it opens fast.
        long = '<table class="verdicts long">' + _LONG_COLUMNS if rest else '<table class="verdicts">'
        sections.append(
            f"{long}<thead><tr><th>test</th><th>verdict</th><th>confidence</th>"
            "<th>threshold</th><th>check</th><th>source</th><th>question (click for details)</th></tr>"
            f"</thead><tbody>{_verdict_rows(summary, full)}</tbody></table>"
        )
        if rest:
            sections.append(_compact_section(summary, rest))
    else:
        sections.append("<p>No verdicts in this run.</p>")
    if summary.responses:
        sections.append(
            "<h2>Responses scored</h2>"
            '<table class="responses"><thead><tr><th>test</th><th>geometric mean</th><th>mean</th>'
            "<th>min</th><th>min token</th><th>check</th><th>text</th></tr></thead>"
            f"<tbody>{_response_rows(summary)}</tbody></table>"
        )
    if summary.graded:
        sections.append(
            "<h2>Scores and choices</h2>"
            '<table class="graded"><thead><tr><th>test</th><th>kind</th><th>value</th><th>confidence</th>'
            "<th>check</th><th>distribution</th><th>question</th></tr></thead>"
            f"<tbody>{_graded_rows(summary)}</tbody></table>"
        )
    if summary.comparisons:
        sections.append(_comparison_section(summary))
    if summary.panels:
        sections.append(_panel_section(summary))
    if summary.app is not None:
        from .watch_summary import html_section

        sections.append(html_section(summary.app))
    return sections
