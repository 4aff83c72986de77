"""The run's summary as the terminal shows it: lines of text segments with the terminal's markup. Pure.

Knows nothing of pytest: ``write_terminal`` takes the terminal reporter as an object with ``write``,
``line``, ``write_line`` and ``write_sep``; the plugin's hook only calls it. Lines are computed from the
run's one ``Summary``; the writer only prints them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .._text import fmt, plural, shorten, value_text
from .cost import dollars
from .summary import (
    BINS,
    Summary,
    bin_tone,
    by_test,
    calibrated_note,
    cascade_counts,
    certified_counts,
    check_status,
    checked_threshold,
    failed_checks,
    failed_text,
    number,
)

__all__ = ["Line", "app_lines", "graded_line", "model_warnings", "plain", "summary_lines", "write_terminal"]

BAR_WIDTH = 40

Markup = Mapping[str, bool]
Segment = tuple[str, Markup]
Line = tuple[Segment, ...]
"""One terminal line: text segments, each with the terminal reporter's markup (``{"red": True}``)."""

_NONE: Markup = {}
_RED: Markup = {"red": True}
_GREEN: Markup = {"green": True}
_YELLOW: Markup = {"yellow": True}
_BOLD: Markup = {"bold": True}
_TONES: Mapping[str, Markup] = {"red": _RED, "yellow": _YELLOW, "green": _GREEN}


def one_line(text: Any, limit: int = 60) -> str:
    """``text`` on one line, cut to ``limit`` characters with ``...``."""
    return shorten(text, limit, marker="...")


def status_markup(status: str) -> Markup:
    return {"failed": _RED, "xfailed": _YELLOW, "borderline": _YELLOW, "passed": _GREEN}.get(status, _NONE)


def bin_markup(index: int, threshold: float) -> Markup:
    return _TONES[bin_tone(index, threshold)]


def _line(*segments: tuple[str, Markup] | str) -> Line:
    return tuple(seg if isinstance(seg, tuple) else (seg, _NONE) for seg in segments)


VERDICT_HEADER = "  conf  verdict    need  check       test id  question"


def _verdict_line(record: Mapping[str, Any], band: float, width: int) -> Line:
    status = check_status(record, band)
    test_id = str(record.get("test_id", "?"))
    head = f"  {number(record.get('confidence')):.2f}  {value_text(record.get('value')):<9}  "
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
    low_text = f"min {fmt(number(low))}" + (f" at {token!r}" if token is not None else "")
    return _line(
        f"  geometric mean {fmt(number(gm)) if gm is not None else '-'}  "
        f"mean {fmt(number(record.get('mean'))) if record.get('mean') is not None else '-'}  "
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
    cached = counts.get("cached_tokens", 0)
    return (
        f"{counts['total_tokens']:,} (prompt {counts['prompt_tokens']:,}"
        + (f" of which {cached:,} cached" if cached else "")
        + f", completion {counts['completion_tokens']:,})"
    )


def cost_lines(summary: Summary) -> list[Line]:
    """The run's cost: spent live (and through a batch), not spent again by replaying, per call; the
    costliest tests; one warning per model without a price."""
    cost = summary.cost
    if cost.empty:
        return []
    lines = []
    if cost.priced:
        lines.append(_line(cost.text()))
        if len(cost.per_test) > 1:
            tests = ", ".join(f"{dollars(amount)} {test}" for test, amount in cost.costliest())
            lines.append(_line(f"costliest tests: {tests}"))
    lines.extend(_line((text, _YELLOW)) for text in cost.warnings())
    return lines


def model_warnings(verdicts: Iterable[Mapping[str, Any]]) -> list[str]:
    """One warning per (asked, served) pair of models that differ: servers may alias, so not a failure."""
    counts: dict[tuple[str, str], int] = {}
    for record in verdicts:
        requested = record.get("requested_model")
        if requested:
            pair = (str(requested), str(record.get("model")))
            counts[pair] = counts.get(pair, 0) + 1
    return [
        f"warning: {plural(count, 'verdict')} asked for model {requested!r} but the server answered as "
        f"{served!r} (servers may alias models; if this is not an alias, check --llm-model)"
        for (requested, served), count in sorted(counts.items())
    ]


def _certified_lines(records: Sequence[Mapping[str, Any]]) -> list[Line]:
    """``certified checks: 12 for 90 % accuracy (2 failed)``, when checks were held to certificates."""
    counts = certified_counts(records)
    if not counts:
        return []
    parts = [
        f"{made} for {accuracy} accuracy ({failed} failed)" for accuracy, (made, failed) in counts.items()
    ]
    failed = any(failed for _, failed in counts.values())
    return [_line("certified checks: ", ("; ".join(parts), _RED if failed else _GREEN))]


def _cascade_lines(records: Sequence[Mapping[str, Any]]) -> list[Line]:
    """``cascade: small decided 40, escalated 10, abstained 0 (1,200 tokens); large ...``."""
    counts = cascade_counts(records)
    if not counts:
        return []
    parts = [
        f"{model} decided {c['decided']}, escalated {c['escalated']}, abstained {c['abstained']} "
        f"({c['tokens']:,} tokens)"
        for model, c in counts.items()
    ]
    abstained = any(c["abstained"] for c in counts.values())
    return [_line("cascade: ", ("; ".join(parts), _YELLOW if abstained else _NONE))]


def graded_line(records: Sequence[Mapping[str, Any]]) -> str:
    """``2 scores and 1 choice: 1 of 3 checks failed; lowest 0.41 (test id)``."""
    scores = sum(1 for r in records if r.get("kind") == "score")
    lowest = min(records, key=lambda r: float(r.get("confidence") or 0.0))
    return (
        f"{plural(scores, 'score')} and {plural(len(records) - scores, 'choice')}: "
        f"{failed_text(*failed_checks(records))}; lowest confidence "
        f"{float(lowest.get('confidence') or 0):.2f} ({lowest.get('test_id')})"
    )


def beyond_lines(summary: Summary) -> list[Line]:
    """The comparisons' line (how many, inconsistent across orders, mean position bias) and the panels'
    (mean agreement, then per pair of models their agreement over the run and Cohen's kappa)."""
    from .pairs import comparison_stats, panel_agreement, panel_line

    lines: list[Line] = []
    if summary.comparisons:
        stats = comparison_stats(summary.comparisons)
        tone = _RED if stats.checks_failed else (_YELLOW if stats.inconsistent else _NONE)
        lines.append(_line((stats.line(), tone)))
    if summary.panels:
        lines.append(_line(panel_line(summary.panels)))
        lines.extend(_line(pair.line()) for pair in panel_agreement(summary.panels))
    return lines


def summary_lines(summary: Summary, mode: str = "short", *, width: int = 120) -> list[Line]:
    """The terminal section's lines (``mode`` is ``short`` or ``full``; ``off`` gives none)."""
    if mode == "off" or (summary.empty and not summary.app_responses):
        return []
    threshold = summary.thresholds[0]
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
            failed = failed_text(summary.checks, summary.checks_failed, summary.checks_xfailed)
        else:
            failed = "none made"
        lines.append(
            _line(
                "checks: ",
                (failed, _RED if summary.checks_failed else _GREEN),
                "; ",
                (
                    f"{summary.undecided} undecided",
                    _RED if summary.undecided > summary.undecided_xfailed else _NONE,
                ),
                "; ",
                (f"{summary.borderline} borderline", _YELLOW if summary.borderline else _NONE),
                f" (within {band:.2f} of the threshold checked)",
            )
        )
        lines.extend(_certified_lines([*summary.verdicts, *summary.graded]))
        lines.extend(_cascade_lines(summary.verdicts))
        lines.extend(_line((text, _YELLOW)) for text in model_warnings(summary.verdicts))
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
    lines.extend(cost_lines(summary))
    if summary.responses:
        counts = (summary.response_checks, summary.response_checks_failed, summary.response_checks_xfailed)
        text = (
            f"{plural(len(summary.responses), 'response')} scored: "
            f"{failed_text(*counts)}; {summary.response_borderline} borderline"
        )
        lines.append(_line((text, _RED if summary.response_checks_failed else _NONE)))
    if summary.graded:
        lines.append(_line(graded_line(summary.graded)))
    lines.extend(beyond_lines(summary))
    if not summary.verdicts:
        lines.extend(_certified_lines(summary.graded))
    if summary.app_responses:
        lines.extend(app_lines(summary, mode))
    if mode == "full":
        if summary.verdicts:
            lines.append(_line(f"all verdicts ({len(summary.verdicts)}):"))
            lines.append(_line(VERDICT_HEADER))
            lines.extend(_verdict_line(record, band, width) for record in by_test(summary.verdicts))
        if summary.responses:
            lines.append(_line(f"all responses ({len(summary.responses)}):"))
            lines.extend(_response_line(record, band) for record in by_test(summary.responses))
    return lines


def plain(lines: Iterable[Line]) -> list[str]:
    """The lines' text without markup."""
    return ["".join(text for text, _ in line) for line in lines]


def write_terminal(
    terminal: Any,
    summary: Summary | None,
    config: Any,
    width: int,
    extra: Callable[[], Iterable[Any]] = tuple,
    calibration: Sequence[Any] | None = None,
    written: Iterable[Any] = (),
) -> None:
    """Write the run's sections to pytest's terminal reporter: the "llm confidence summary" (and the
    lines of ``extra()``, the summary hook's results), the calibration report, and the files written.

    ``config`` is the run's ``JudgeConfig`` (its ``summary`` mode, ``borderline`` band and ``threshold``).
    No known secret is written: every line goes through ``redact``.
    """
    from .._recording.secrets import Redacting

    terminal = Redacting(terminal)
    if summary is not None and summary.has_records and config.summary != "off":
        terminal.write_sep("=", "llm confidence summary")
        for line in summary_lines(summary, config.summary, width=width):
            for text, markup in line:
                terminal.write(text, **markup)
            terminal.line("")
        for result in extra():
            for text in [result] if isinstance(result, str) else result or ():
                terminal.line(str(text))
    if calibration is not None:
        from .._calibration.report import report_lines

        terminal.write_sep("=", "llm calibration")
        for text in report_lines(calibration):
            terminal.write_line(text)
    for done in written:
        if done.error:
            terminal.write_line(f"could not write {done.label} to {done.path}: {done.error}", red=True)
        elif done.label != "GitHub step summary":
            terminal.write_sep("-", f"generated {done.label}: {done.path}")


def app_lines(summary: Summary, mode: str = "short") -> list[Line]:
    """The terminal lines of the app's watched responses (``--llm-watch``): counts, the distribution, a
    histogram, an unsure warning and the least sure responses with where the model hesitated."""
    from .watch_summary import lowest_rows

    app = summary.app
    lines = [_line((app.headline(), _BOLD))]
    warning = app.unsure_text()
    if warning:
        lines.append(_line((warning, _YELLOW)))
    if not app.scored:
        return lines
    lines.append(_line(app.distribution_text()))
    histogram = _histogram_lines(Summary(verdicts=(), histogram=app.histogram), app.minimum)
    lines.append(_line(f"app confidence histogram ({app.by}):"))
    lines.extend(histogram[1:])
    rows = lowest_rows(app, len(app.scored) if mode == "full" else 5)
    lines.append(_line(f"least sure app responses ({len(rows)} of {len(app.scored)}):"))
    for score, status, test_id, points, text in rows:
        lines.append(
            _line(
                f"  {score}  ",
                (f"{status:<6}", _YELLOW if status == "unsure" else _GREEN),
                f"  {test_id}  {text!r}",
            )
        )
        lines.append(_line(f"        choice points: {points}"))
    return lines
