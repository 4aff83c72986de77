"""The run's records -> aggregates, terminal summary lines, the JSON report and a Markdown table.

Pure: knows nothing of pytest. The plugin prints the lines with the terminal reporter and writes the
files this module renders. Records are the JSON dicts of ``Verdict.to_record()`` (kind ``"verdict"``)
and of response confidences (kind ``"response"``); other kinds are carried along and otherwise ignored.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "BINS",
    "Line",
    "Summary",
    "markdown",
    "plain",
    "summarize",
    "summary_lines",
    "to_json",
    "write_atomic",
    "write_reports",
]

BINS = 10
REPORT_VERSION = 1
LOWEST = 5
BAR_WIDTH = 40
_EPSILON = 1e-9

Markup = Mapping[str, bool]
Segment = tuple[str, Markup]
Line = tuple[Segment, ...]
"""One terminal line: text segments, each with the terminal reporter's markup (``{"red": True}``)."""

_NONE: Markup = {}
_RED: Markup = {"red": True}
_GREEN: Markup = {"green": True}
_YELLOW: Markup = {"yellow": True}
_BOLD: Markup = {"bold": True}
_TOKEN_FIELDS = ("prompt_tokens", "completion_tokens", "total_tokens")


# --- aggregates ---------------------------------------------------------------------------------


def _number(value: Any, default: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return default
    return float(value)


def _checks(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    checks = record.get("checks") or []
    return [check for check in checks if isinstance(check, Mapping)]


def is_borderline(record: Mapping[str, Any], band: float) -> bool:
    """A check's score lies within ``band`` of the threshold it was checked against, passed or not."""
    for check in _checks(record):
        score = _number(check.get("score"), _number(record.get("confidence")))
        if abs(score - _number(check.get("threshold"))) <= band + _EPSILON:
            return True
    return False


def check_status(record: Mapping[str, Any], band: float) -> str:
    """``failed`` (a check failed), ``borderline``, ``passed`` or ``unchecked``."""
    checks = _checks(record)
    if not checks:
        return "unchecked"
    if any(not check.get("passed") for check in checks):
        return "failed"
    return "borderline" if is_borderline(record, band) else "passed"


def checked_threshold(record: Mapping[str, Any]) -> float:
    """The threshold of the first failed check, else of the first check, else the verdict's default."""
    checks = _checks(record)
    failed = [check for check in checks if not check.get("passed")]
    for check in failed + checks:
        if "threshold" in check:
            return _number(check["threshold"])
    return _number(record.get("threshold"))


def calibrated_note(record: Mapping[str, Any]) -> str | None:
    """``calibrated 0.91`` when a check used the calibrated confidence (the first failed such check, else
    the first), so the summaries show it beside the raw confidence; None otherwise."""
    checks = [check for check in _checks(record) if check.get("calibrated")]
    ordered = [check for check in checks if not check.get("passed")] + checks
    return f"calibrated {_number(ordered[0].get('score')):.2f}" if ordered else None


def _tokens() -> dict[str, int]:
    return dict.fromkeys(_TOKEN_FIELDS, 0)


@dataclass(frozen=True)
class Summary:
    """What the run's records add up to; every number the summary, the JSON and the HTML show."""

    verdicts: tuple[dict[str, Any], ...]
    responses: tuple[dict[str, Any], ...] = ()
    other: int = 0
    band: float = 0.05
    threshold: float = 0.9
    tests: int = 0
    replayed: int = 0
    live: int = 0
    checks: int = 0
    checks_failed: int = 0
    undecided: int = 0
    borderline: int = 0
    failed_verdicts: int = 0
    response_checks: int = 0
    response_checks_failed: int = 0
    response_borderline: int = 0
    confidence_min: float | None = None
    confidence_median: float | None = None
    confidence_mean: float | None = None
    histogram: tuple[int, ...] = (0,) * BINS
    tokens: dict[str, dict[str, int]] = field(default_factory=dict)
    tokens_reported: bool = False

    @property
    def empty(self) -> bool:
        return not self.verdicts and not self.responses

    def lowest(self, n: int = LOWEST) -> list[dict[str, Any]]:
        """The ``n`` lowest-confidence verdicts, lowest first (ties by test id)."""
        ordered = sorted(self.verdicts, key=lambda r: (_number(r.get("confidence")), str(r.get("test_id"))))
        return ordered[:n]

    def aggregates(self) -> dict[str, Any]:
        """The numbers, as JSON-able data."""
        return {
            "verdicts": len(self.verdicts),
            "tests": self.tests,
            "responses": len(self.responses),
            "replayed": self.replayed,
            "live": self.live,
            "checks": self.checks,
            "checks_failed": self.checks_failed,
            "verdicts_failed": self.failed_verdicts,
            "undecided": self.undecided,
            "borderline": self.borderline,
            "borderline_band": self.band,
            "response_checks": self.response_checks,
            "response_checks_failed": self.response_checks_failed,
            "response_borderline": self.response_borderline,
            "confidence": {
                "min": self.confidence_min,
                "median": self.confidence_median,
                "mean": self.confidence_mean,
            },
            "histogram": [
                {"low": round(i / BINS, 2), "high": round((i + 1) / BINS, 2), "count": count}
                for i, count in enumerate(self.histogram)
            ],
            "tokens": {source: dict(counts) for source, counts in self.tokens.items()},
        }


def bin_of(confidence: float) -> int:
    """The histogram bin (0..9) of a confidence; bins are [0, 0.1), …, [0.9, 1.0]."""
    return min(BINS - 1, max(0, math.floor(confidence * BINS + _EPSILON)))


def summarize(records: Iterable[Mapping[str, Any]], *, band: float = 0.05, threshold: float = 0.9) -> Summary:
    """Aggregate the run's records; ``band`` is ``llm_borderline``, ``threshold`` the default threshold."""
    verdicts: list[dict[str, Any]] = []
    responses: list[dict[str, Any]] = []
    other = 0
    for record in records:
        kind = record.get("kind", "verdict")
        if kind == "verdict":
            verdicts.append({**record, "kind": "verdict", "borderline": is_borderline(record, band)})
        elif kind == "response":
            responses.append({**record, "borderline": is_borderline(record, band)})
        else:
            other += 1
    confidences = [_number(r.get("confidence")) for r in verdicts]
    histogram = [0] * BINS
    for confidence in confidences:
        histogram[bin_of(confidence)] += 1
    tokens = {"live": _tokens(), "replayed": _tokens()}
    reported = False
    for record in verdicts:
        usage = record.get("usage")
        if isinstance(usage, Mapping):
            reported = True
            counts = tokens["replayed" if record.get("replayed") else "live"]
            for name in _TOKEN_FIELDS:
                counts[name] += int(_number(usage.get(name)))
    verdict_checks = [check for r in verdicts for check in _checks(r)]
    response_checks = [check for r in responses for check in _checks(r)]
    return Summary(
        verdicts=tuple(verdicts),
        responses=tuple(responses),
        other=other,
        band=band,
        threshold=threshold,
        tests=len({str(r.get("test_id")) for r in verdicts}),
        replayed=sum(1 for r in verdicts if r.get("replayed")),
        live=sum(1 for r in verdicts if not r.get("replayed")),
        checks=len(verdict_checks),
        checks_failed=sum(1 for check in verdict_checks if not check.get("passed")),
        undecided=sum(1 for r in verdicts if r.get("value") is None),
        borderline=sum(1 for r in verdicts if r["borderline"]),
        failed_verdicts=sum(1 for r in verdicts if check_status(r, band) == "failed"),
        response_checks=len(response_checks),
        response_checks_failed=sum(1 for check in response_checks if not check.get("passed")),
        response_borderline=sum(1 for r in responses if r["borderline"]),
        confidence_min=min(confidences) if confidences else None,
        confidence_median=statistics.median(confidences) if confidences else None,
        confidence_mean=statistics.fmean(confidences) if confidences else None,
        histogram=tuple(histogram),
        tokens=tokens,
        tokens_reported=reported,
    )


# --- text -----------------------------------------------------------------------------------------


def one_line(text: Any, limit: int = 60) -> str:
    """``text`` on one line, cut to ``limit`` characters with ``...``."""
    flat = " ".join(str(text if text is not None else "").split())
    return flat if len(flat) <= limit else flat[: limit - 3].rstrip() + "..."


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def value_text(value: Any) -> str:
    return "undecided" if value is None else str(value).lower()


def status_markup(status: str) -> Markup:
    return {"failed": _RED, "borderline": _YELLOW, "passed": _GREEN}.get(status, _NONE)


def bin_markup(index: int, threshold: float) -> Markup:
    low, high = index / BINS, (index + 1) / BINS
    if high <= 0.5 + _EPSILON:
        return _RED
    if low + _EPSILON < threshold:
        return _YELLOW
    return _GREEN


def _line(*segments: tuple[str, Markup] | str) -> Line:
    return tuple(seg if isinstance(seg, tuple) else (seg, _NONE) for seg in segments)


VERDICT_HEADER = "  conf  verdict    need  check       test id  question"


def _verdict_line(record: Mapping[str, Any], band: float, width: int) -> Line:
    status = check_status(record, band)
    test_id = str(record.get("test_id", "?"))
    head = f"  {_number(record.get('confidence')):.2f}  {value_text(record.get('value')):<9}  "
    head += f"{checked_threshold(record):.2f}  "
    note = calibrated_note(record)
    prefix = f"[{note}] " if note else ""
    room = max(40, width - len(head) - 12 - len(test_id) - 3 - len(prefix))
    return _line(
        head,
        (status, status_markup(status)),
        f"{' ' * (10 - len(status))}  {test_id}  {prefix}",
        one_line(record.get("question"), room),
    )


def _response_line(record: Mapping[str, Any], band: float) -> Line:
    status = check_status(record, band)
    gm = record.get("geometric_mean")
    low = record.get("min")
    token = record.get("min_token")
    low_text = f"min {fmt(_number(low))}" + (f" at {token!r}" if token is not None else "")
    return _line(
        f"  geometric mean {fmt(_number(gm)) if gm is not None else '-'}  "
        f"mean {fmt(_number(record.get('mean'))) if record.get('mean') is not None else '-'}  "
        f"{low_text}  ",
        (f"{status:<10}", status_markup(status)),
        f"  {record.get('test_id', '?')}",
    )


def _histogram_lines(summary: Summary, threshold: float) -> list[Line]:
    peak = max(summary.histogram) or 1
    lines = [_line("confidence histogram:")]
    for index, count in enumerate(summary.histogram):
        length = round(count * BAR_WIDTH / peak)
        if count and not length:
            length = 1
        low, high = index / BINS, (index + 1) / BINS
        lines.append(
            _line(
                f"  {low:.1f}-{high:.1f} |",
                ("#" * length, bin_markup(index, threshold)),
                f"{' ' * (BAR_WIDTH - length)} {count}",
            )
        )
    return lines


def _token_text(counts: Mapping[str, int]) -> str:
    return (
        f"{counts['total_tokens']:,} (prompt {counts['prompt_tokens']:,}, "
        f"completion {counts['completion_tokens']:,})"
    )


def summary_lines(
    summary: Summary, mode: str = "short", *, threshold: float | None = None, width: int = 120
) -> list[Line]:
    """The terminal section's lines (``mode`` is ``short`` or ``full``; ``off`` gives none)."""
    if mode == "off" or summary.empty:
        return []
    threshold = summary.threshold if threshold is None else threshold
    band = summary.band
    lines: list[Line] = []
    if summary.verdicts:
        lines.append(
            _line(
                (f"{plural(len(summary.verdicts), 'verdict')} in {plural(summary.tests, 'test')}", _BOLD),
                f": {summary.replayed} replayed, {summary.live} live",
            )
        )
        if summary.checks:
            failed = f"{summary.checks_failed} of {plural(summary.checks, 'check')} failed"
        else:
            failed = "none made"
        lines.append(
            _line(
                "checks: ",
                (failed, _RED if summary.checks_failed else _GREEN),
                "; ",
                (f"{summary.undecided} undecided", _RED if summary.undecided else _NONE),
                "; ",
                (f"{summary.borderline} borderline", _YELLOW if summary.borderline else _NONE),
                f" (within {band:.2f} of the threshold checked)",
            )
        )
        lines.append(
            _line(
                f"confidence: min {fmt(summary.confidence_min)}, median {fmt(summary.confidence_median)}, "
                f"mean {fmt(summary.confidence_mean)}"
            )
        )
        lines.extend(_histogram_lines(summary, threshold))
        lowest = summary.lowest()
        lines.append(_line(f"lowest confidence ({len(lowest)} of {len(summary.verdicts)}):"))
        lines.append(_line(VERDICT_HEADER))
        lines.extend(_verdict_line(record, band, width) for record in lowest)
        if summary.tokens_reported:
            lines.append(
                _line(
                    f"tokens: live {_token_text(summary.tokens['live'])}; "
                    f"replayed {_token_text(summary.tokens['replayed'])}"
                )
            )
        else:
            lines.append(_line("tokens: not reported by the endpoint"))
    if summary.responses:
        text = (
            f"{plural(len(summary.responses), 'response')} scored: "
            f"{summary.response_checks_failed} of {plural(summary.response_checks, 'check')} failed; "
            f"{summary.response_borderline} borderline"
        )
        lines.append(_line((text, _RED if summary.response_checks_failed else _NONE)))
    if mode == "full":
        if summary.verdicts:
            lines.append(_line(f"all verdicts ({len(summary.verdicts)}):"))
            lines.append(_line(VERDICT_HEADER))
            lines.extend(_verdict_line(record, band, width) for record in _by_test(summary.verdicts))
        if summary.responses:
            lines.append(_line(f"all responses ({len(summary.responses)}):"))
            lines.extend(_response_line(record, band) for record in _by_test(summary.responses))
    return lines


def plain(lines: Iterable[Line]) -> list[str]:
    """The lines' text without markup."""
    return ["".join(text for text, _ in line) for line in lines]


# --- files ----------------------------------------------------------------------------------------


def _by_test(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records sorted by test id, each test's in the order it made them (the same with and without xdist)."""
    return sorted(records, key=lambda r: str(r.get("test_id")))


def to_json(summary: Summary, calibration: Sequence[Any] | None = None) -> dict[str, Any]:
    """The JSON report: the aggregates and a flat ``verdicts`` list (each with its checks and flags).

    With a calibration report (``--llm-calibration``), a ``calibration`` list holds its metrics per model.
    """
    verdicts = [
        {**record, "status": check_status(record, summary.band)} for record in _by_test(summary.verdicts)
    ]
    responses = [
        {**record, "status": check_status(record, summary.band)} for record in _by_test(summary.responses)
    ]
    data = {
        "version": REPORT_VERSION,
        "summary": summary.aggregates(),
        "verdicts": verdicts,
        "responses": responses,
    }
    if calibration is not None:
        data["calibration"] = [report.to_dict() for report in calibration]
    return data


def _md_cell(value: Any) -> str:
    text = one_line(value, 100)
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "&#124;"), ("`", "&#96;")):
        text = text.replace(char, entity)
    return text


def _md_status(record: Mapping[str, Any], band: float) -> str:
    note = calibrated_note(record)
    return check_status(record, band) + (f" ({note})" if note else "")


def markdown(summary: Summary, *, lowest: int = 10) -> str:
    """A Markdown summary for ``GITHUB_STEP_SUMMARY``: a table of the numbers, then the lowest verdicts."""
    rows = [
        ("verdicts", f"{plural(len(summary.verdicts), 'verdict')} in {plural(summary.tests, 'test')}"),
        ("replayed / live", f"{summary.replayed} / {summary.live}"),
        ("checks failed", f"{summary.checks_failed} of {summary.checks}"),
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
    if summary.responses:
        rows.append(
            (
                "responses scored",
                f"{len(summary.responses)} ({summary.response_checks_failed} of "
                f"{summary.response_checks} checks failed)",
            )
        )
    out = ["### LLM confidence summary", "", "| | |", "|---|---|"]
    out += [f"| {name} | {_md_cell(value)} |" for name, value in rows]
    if summary.verdicts:
        out += [
            "",
            "| confidence | verdict | threshold | status | test | question |",
            "|---:|---|---:|---|---|---|",
        ]
        for record in summary.lowest(lowest):
            out.append(
                f"| {_number(record.get('confidence')):.2f} | {value_text(record.get('value'))} | "
                f"{checked_threshold(record):.2f} | {_md_status(record, summary.band)} | "
                f"{_md_cell(record.get('test_id'))} | {_md_cell(record.get('question'))} |"
            )
    return "\n".join(out) + "\n\n"


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Written:
    """One file the reports wrote (or failed to write)."""

    label: str
    path: Path
    error: str | None = None


def write_reports(
    records: Sequence[Mapping[str, Any]],
    *,
    json_path: Path | None = None,
    html_path: Path | None = None,
    github_summary: str | None = None,
    band: float = 0.05,
    threshold: float = 0.9,
    calibration: Sequence[Any] | None = None,
) -> list[Written]:
    """Write the requested reports; the GitHub step summary only when there are records."""
    summary = summarize(records, band=band, threshold=threshold)
    written: list[Written] = []

    def attempt(label: str, path: Path, render: Any) -> None:
        try:
            render()
        except OSError as exc:
            written.append(Written(label, path, f"{exc.strerror or exc}"))
        else:
            written.append(Written(label, path))

    if json_path is not None:
        text = json.dumps(to_json(summary, calibration), indent=2, ensure_ascii=False) + "\n"
        attempt("llm confidence report (JSON)", json_path, lambda: write_atomic(json_path, text))
    if html_path is not None:
        from ._html import render_html

        page = render_html(summary, calibration=calibration)
        attempt("llm confidence report (HTML)", html_path, lambda: write_atomic(html_path, page))
    if github_summary and not summary.empty:
        target = Path(github_summary)
        text = markdown(summary)

        def append() -> None:
            with target.open("a", encoding="utf-8") as handle:
                handle.write(text)

        attempt("GitHub step summary", target, append)
    return written
