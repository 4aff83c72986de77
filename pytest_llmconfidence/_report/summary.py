"""The run's records -> what they add up to: counts, the confidence distribution, tokens. Pure.

Records are the JSON dicts of ``Verdict.to_record()`` (kind ``"verdict"``) and of response confidences
(kind ``"response"``), and the app's watched responses (kind ``"app_response"``, kept apart so they change
no other figure); other kinds are carried along and otherwise ignored. The terminal lines, the
JSON and Markdown reports (``_report``) and the HTML page (``_html``) all read a ``Summary``.
"""

from __future__ import annotations

import functools
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._text import plural
from .cost import CostSummary, cost_summary
from .figures import BINS, EPSILON, bin_of, failed_checks, failed_text, number

__all__ = [
    "BINS",
    "Summary",
    "bin_of",
    "bin_tone",
    "by_test",
    "calibrated_note",
    "cascade_counts",
    "certified_counts",
    "check_status",
    "checked_threshold",
    "failed_checks",
    "failed_text",
    "is_borderline",
    "number",
    "summarize",
]

LOWEST = 5
_TOKEN_FIELDS = ("prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens")


def _checks(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    checks = record.get("checks")
    if not checks:
        return []
    # a dict is a Mapping: asked first, it spares the abstract class's slower test for every check read
    return [check for check in checks if type(check) is dict or isinstance(check, Mapping)]


def is_borderline(record: Mapping[str, Any], band: float) -> bool:
    """A check's score lies within ``band`` of the threshold it was checked against, passed or not."""
    return _borderline(record, _checks(record), band)


def _borderline(record: Mapping[str, Any], checks: list[Mapping[str, Any]], band: float) -> bool:
    for check in checks:
        score = number(check.get("score"), number(record.get("confidence")))
        if abs(score - number(check.get("threshold"))) <= band + EPSILON:
            return True
    return False


def check_status(record: Mapping[str, Any], band: float) -> str:
    """``failed`` (a check failed), ``xfailed`` (one failed in a test marked xfail, as it expects),
    ``borderline``, ``passed`` or ``unchecked``."""
    checks = _checks(record)
    if not checks:
        return "unchecked"
    if any(not check.get("passed") for check in checks):
        return "xfailed" if record.get("xfail") else "failed"
    return "borderline" if _borderline(record, checks, band) else "passed"


def checked_threshold(record: Mapping[str, Any]) -> float:
    """The threshold of the first failed check, else of the first check, else the verdict's default."""
    checks = _checks(record)
    failed = [check for check in checks if not check.get("passed")]
    for check in failed + checks:
        if "threshold" in check:
            return number(check["threshold"])
    return number(record.get("threshold"))


def calibrated_note(record: Mapping[str, Any]) -> str | None:
    """``calibrated 0.91`` when a check used the calibrated confidence, ``certified 90 %`` when it was held
    to a certified threshold (the first failed such check, else the first), so the summaries show it
    beside the raw confidence; None otherwise."""
    checks = [check for check in _checks(record) if check.get("calibrated") or check.get("certified")]
    ordered = [check for check in checks if not check.get("passed")] + checks
    if not ordered:
        return None
    certified = ordered[0].get("certified")
    if isinstance(certified, Mapping):
        return f"certified {number(certified.get('accuracy')) * 100:g} %"
    return f"calibrated {number(ordered[0].get('score')):.2f}"


def cascade_counts(records: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Per model of the cascades (``llm_cascade``), in the order first asked: the verdicts it decided
    (certified), escalated (below its threshold, the next model asked) and abstained on (the last model,
    still below), and the tokens it spent."""
    counts: dict[str, dict[str, int]] = {}
    for record in records:
        steps = [step for step in record.get("cascade") or () if isinstance(step, Mapping)]
        for index, step in enumerate(steps):
            entry = counts.setdefault(
                str(step.get("model")), {"decided": 0, "escalated": 0, "abstained": 0, "tokens": 0}
            )
            usage = step.get("usage")
            entry["tokens"] += int(number(usage.get("total_tokens"))) if isinstance(usage, Mapping) else 0
            if index < len(steps) - 1:
                entry["escalated"] += 1
            elif record.get("certified"):
                entry["decided"] += 1
            else:
                entry["abstained"] += 1
    return counts


def certified_counts(records: Iterable[Mapping[str, Any]]) -> dict[str, list[int]]:
    """Checks held to a certified threshold, by accuracy (``"90 %"``): [made, failed]."""
    counts: dict[str, list[int]] = {}
    for record in records:
        for check in _checks(record):
            certified = check.get("certified")
            if isinstance(certified, Mapping):
                entry = counts.setdefault(f"{number(certified.get('accuracy')) * 100:g} %", [0, 0])
                entry[0] += 1
                entry[1] += 0 if check.get("passed") else 1
    return counts


def expected_sentence(summary: Summary) -> str | None:
    """What the run expected, when tests marked xfail failed as they expect; None otherwise."""
    if not summary.xfail_tests:
        return None
    others = [
        (failed_checks(records), name)
        for records, name in (
            (summary.graded, "of scores and choices"),
            (summary.comparisons, "of comparisons"),
            (summary.panels, "of panels"),
        )
    ]
    kinds = [
        (summary.checks_xfailed, "of verdicts"),
        (summary.response_checks_xfailed, "of responses"),
        *((counts[2], name) for counts, name in others),
    ]
    parts = [f"{count} {kind}" for count, kind in kinds if count]
    checks = sum(count for count, _ in kinds)
    detail = f", with {plural(checks, 'failed check')} ({', '.join(parts)})" if checks else ""
    unexpected = summary.checks_failed + summary.response_checks_failed + sum(c[1] for c, _ in others)
    rest = f"{plural(unexpected, 'other check')} failed." if unexpected else "Every other check held."
    return (
        f"As expected: {plural(summary.xfail_tests, 'test')} marked xfail failed, as they expect{detail}; "
        f"an expected failure fails no run. {rest}"
    )


def _tokens() -> dict[str, int]:
    return dict.fromkeys(_TOKEN_FIELDS, 0)


@dataclass(frozen=True)
class Summary:
    """What the run's records add up to; every number the summary, the JSON and the HTML show."""

    verdicts: tuple[dict[str, Any], ...]
    responses: tuple[dict[str, Any], ...] = ()
    other: int = 0
    graded: tuple[dict[str, Any], ...] = ()
    """Score and choice records (kinds ``"score"`` and ``"choice"``), each with its checks."""
    band: float = 0.05
    threshold: float = 0.9
    tests: int = 0
    replayed: int = 0
    live: int = 0
    checks: int = 0
    checks_failed: int = 0
    """Checks that failed outside tests marked xfail: the failures that count."""
    checks_xfailed: int = 0
    """Checks that failed in tests marked xfail, as those tests expect."""
    undecided: int = 0
    undecided_xfailed: int = 0
    """Of the undecided verdicts, those in tests marked xfail."""
    xfail_tests: int = 0
    """The tests that failed as their xfail marker expects and made records (of any kind)."""
    borderline: int = 0
    failed_verdicts: int = 0
    response_checks: int = 0
    response_checks_failed: int = 0
    response_checks_xfailed: int = 0
    response_borderline: int = 0
    confidence_min: float | None = None
    confidence_median: float | None = None
    confidence_mean: float | None = None
    histogram: tuple[int, ...] = (0,) * BINS
    tokens: dict[str, dict[str, int]] = field(default_factory=dict)
    tokens_reported: bool = False
    app_responses: tuple[dict[str, Any], ...] = ()
    """The responses the code under test received while watched (kind ``"app_response"``, ``--llm-watch``)."""
    comparisons: tuple[dict[str, Any], ...] = ()
    """Pairwise comparisons (kind ``"comparison"``, ``judge.compare``), each with its checks."""
    panels: tuple[dict[str, Any], ...] = ()
    """Panel verdicts (kind ``"panel"``, ``judge.panel``); their members are among the verdicts."""
    cost: CostSummary = field(default_factory=CostSummary)
    """What the judge's calls (verdicts, scores, choices) cost in dollars, live and replayed apart."""

    @functools.cached_property
    def app(self) -> Any:
        """The app's watched responses summed up (``watch_summary.AppSummary``), or None: built once."""
        if not self.app_responses:
            return None
        from .watch_summary import app_summary

        return app_summary(self.app_responses)

    @property
    def has_records(self) -> bool:
        """Whether the run reported any record at all (of any kind, watched responses included)."""
        return bool(self.verdicts or self.responses or self.graded or self.app_responses or self.other)

    @property
    def empty(self) -> bool:
        return not (self.verdicts or self.responses or self.graded or self.comparisons or self.panels)

    @functools.cached_property
    def thresholds(self) -> tuple[float, ...]:
        """The thresholds the verdicts' checks used, most used first (ties: first met); with no checks,
        the run's default. The first is the one the histograms draw."""
        used = [number(c["threshold"]) for r in self.verdicts for c in _checks(r) if "threshold" in c]
        counts = Counter(round(value, 6) for value in used)
        return tuple(value for value, _ in counts.most_common()) or (self.threshold,)

    def lowest(self, n: int = LOWEST) -> list[dict[str, Any]]:
        """The ``n`` lowest-confidence verdicts, lowest first (ties by test id)."""
        ordered = sorted(self.verdicts, key=lambda r: (number(r.get("confidence")), str(r.get("test_id"))))
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
            "checks_xfailed": self.checks_xfailed,
            "xfail_tests": self.xfail_tests,
            "verdicts_failed": self.failed_verdicts,
            "undecided": self.undecided,
            "borderline": self.borderline,
            "borderline_band": self.band,
            "response_checks": self.response_checks,
            "response_checks_failed": self.response_checks_failed,
            "response_checks_xfailed": self.response_checks_xfailed,
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
            "cascade": cascade_counts(self.verdicts),
            "certified_checks": {
                accuracy: {"checks": made, "failed": failed}
                for accuracy, (made, failed) in certified_counts([*self.verdicts, *self.graded]).items()
            },
            **self._beyond_one_judge(),
            "cost": self.cost.to_dict(),
        }

    def _beyond_one_judge(self) -> dict[str, Any]:
        """The comparisons' and panels' aggregates, when the run made any."""
        from .pairs import comparison_stats, panels_summary

        found: dict[str, Any] = {}
        if self.comparisons:
            found["comparisons"] = comparison_stats(self.comparisons).to_dict()
        if self.panels:
            found["panels"] = panels_summary(self.panels)
        return found


def summarize(records: Iterable[Mapping[str, Any]], *, band: float = 0.05, threshold: float = 0.9) -> Summary:
    """Aggregate the run's records; ``band`` is ``llm_borderline``, ``threshold`` the default threshold."""
    verdicts: list[dict[str, Any]] = []
    responses: list[dict[str, Any]] = []
    other = 0
    graded: list[dict[str, Any]] = []
    app: list[dict[str, Any]] = []
    beyond: dict[str, list[dict[str, Any]]] = {"comparison": [], "panel": []}
    xfail_tests: set[str] = set()
    for record in records:
        if record.get("xfail"):
            xfail_tests.add(str(record.get("test_id")))
        kind = record.get("kind", "verdict")
        if kind == "verdict":
            verdicts.append({**record, "kind": "verdict", "borderline": is_borderline(record, band)})
        elif kind == "response":
            responses.append({**record, "borderline": is_borderline(record, band)})
        elif kind in ("score", "choice"):
            graded.append(dict(record))
        elif kind == "app_response":
            app.append(dict(record))
        elif kind in beyond:
            beyond[kind].append(dict(record))
        else:
            other += 1
    confidences = [number(r.get("confidence")) for r in verdicts]
    histogram = [0] * BINS
    for confidence in confidences:
        histogram[bin_of(confidence)] += 1
    tokens = {"live": _tokens(), "replayed": _tokens()}
    reported = False
    for record in verdicts:
        # a cascaded verdict spent the tokens of every step, not only those of the model that answered
        steps = [step for step in record.get("cascade") or () if isinstance(step, Mapping)] or [record]
        for step in steps:
            usage = step.get("usage")
            if isinstance(usage, Mapping):
                reported = True
                counts = tokens["replayed" if step.get("replayed") else "live"]
                for name in _TOKEN_FIELDS:
                    counts[name] += int(number(usage.get(name)))
    verdict_checks, verdicts_failed, verdicts_xfailed = failed_checks(verdicts)
    response_checks, responses_failed, responses_xfailed = failed_checks(responses)
    return Summary(
        verdicts=tuple(verdicts),
        responses=tuple(responses),
        other=other,
        graded=tuple(graded),
        band=band,
        threshold=threshold,
        tests=len({str(r.get("test_id")) for r in verdicts}),
        replayed=sum(1 for r in verdicts if r.get("replayed")),
        live=sum(1 for r in verdicts if not r.get("replayed")),
        checks=verdict_checks,
        checks_failed=verdicts_failed,
        checks_xfailed=verdicts_xfailed,
        undecided=sum(1 for r in verdicts if r.get("value") is None),
        undecided_xfailed=sum(1 for r in verdicts if r.get("value") is None and r.get("xfail")),
        xfail_tests=len(xfail_tests),
        borderline=sum(1 for r in verdicts if r["borderline"]),
        failed_verdicts=sum(1 for r in verdicts if check_status(r, band) == "failed"),
        response_checks=response_checks,
        response_checks_failed=responses_failed,
        response_checks_xfailed=responses_xfailed,
        response_borderline=sum(1 for r in responses if r["borderline"]),
        confidence_min=min(confidences) if confidences else None,
        confidence_median=statistics.median(confidences) if confidences else None,
        confidence_mean=statistics.fmean(confidences) if confidences else None,
        histogram=tuple(histogram),
        tokens=tokens,
        tokens_reported=reported,
        app_responses=tuple(app),
        comparisons=tuple(beyond["comparison"]),
        panels=tuple(beyond["panel"]),
        cost=cost_summary([*verdicts, *graded, *beyond["comparison"]]),
    )


def bin_tone(index: int, threshold: float) -> str:
    """How a histogram bin reads: ``red`` at or below 0.5, ``yellow`` below the threshold, else ``green``."""
    low, high = index / BINS, (index + 1) / BINS
    if high <= 0.5 + EPSILON:
        return "red"
    if low + EPSILON < threshold:
        return "yellow"
    return "green"


def by_test(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records sorted by test id, each test's in the order it made them (the same with and without xdist)."""
    return sorted(records, key=lambda r: str(r.get("test_id")))
