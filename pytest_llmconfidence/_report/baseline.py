"""Compare two JSON reports of the suite: what changed since an earlier run. Pure.

Records (verdicts, response confidences and any other kind carrying a ``confidence``) are matched by
kind, test id and question; a test that judges the same question several times has its n-th record
matched with the n-th record of the earlier run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import ReportFileError
from .._files import collector_paused
from .._text import shorten, value_text
from .summary import number

__all__ = [
    "Change",
    "Comparison",
    "compare",
    "load_report",
    "report_records",
    "wrong_entry",
]

DEFAULT_MARGIN = 0.1
_NOT_RECORDS = {"summary", "calibration", "baseline", "version"}

Key = tuple[str, str, str, int]


def load_report(path: str | Path, *, what: str = "report") -> dict[str, Any]:
    """The JSON report at ``path``, or a :class:`ReportFileError` saying what is wrong with the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportFileError(
            f"the {what} {str(path)!r} does not exist. Give the path of a JSON report written by "
            "an earlier run with --llm-report=PATH.",
            path=path,
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ReportFileError(f"the {what} {str(path)!r} cannot be read: {error}.", path=path) from None
    try:
        with collector_paused():
            data = json.loads(text)
    except ValueError as error:
        raise ReportFileError(
            f"the {what} {str(path)!r} is not JSON ({error}): give a report written with --llm-report=PATH.",
            path=path,
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("verdicts"), list):
        raise ReportFileError(
            f"the {what} {str(path)!r} is JSON but not a pytest-llmconfidence report (no 'verdicts' list): "
            "give a report written with --llm-report=PATH.",
            path=path,
        )
    wrong = wrong_entry(data)
    if wrong:
        raise ReportFileError(
            f"the {what} {str(path)!r} is not a pytest-llmconfidence report as written: {wrong}. "
            "Give a report written with --llm-report=PATH, or mend the entry.",
            path=path,
        )
    return data


RECORD_LISTS = ("verdicts", "responses", "scores", "choices", "comparisons", "panels", "app_responses")
"""The lists of records a report holds, one object per record."""


def _json_type(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def wrong_entry(data: Mapping[str, Any]) -> str | None:
    """What is wrong with the report's record lists (a list that is not one, an entry that is not an
    object, a confidence that is not a probability), or None: so that nothing is read as if absent."""
    for name in RECORD_LISTS:
        if name not in data:
            continue
        entries = data[name]
        if not isinstance(entries, list):
            return f"{name!r} is {_json_type(entries)}, not a list"
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                return f"entry {index} of {name!r} is {_json_type(entry)}, not an object"
            problem = _entry_problem(entry, verdict=name == "verdicts")
            if problem:
                return f"entry {index} of {name!r} has {problem} (test {entry.get('test_id', '?')!r})"
    return None


def _probability(value: Any) -> bool:
    if type(value) is float:  # the common case, first
        return 0.0 <= value <= 1.0
    return isinstance(value, int | float) and not isinstance(value, bool) and 0.0 <= value <= 1.0


_TEXT_FIELDS = ("test_id", "question", "model")
_VERDICT_FIELDS = ("value", "expected")


def _entry_problem(entry: Mapping[str, Any], *, verdict: bool) -> str | None:
    """What is wrong with one record of a report: a field of the wrong type, a number out of range.

    Plain checks on the dict as read, each field once: a report of 100,000 records is checked in a
    tenth of a second."""
    get = entry.get
    confidence = get("confidence")
    if confidence is not None and not _probability(confidence):
        return f"confidence {confidence!r}, not a number from 0 to 1"
    for name in _TEXT_FIELDS:
        value = get(name)
        if value is not None and type(value) is not str and not isinstance(value, str):
            return f"{name} {value!r}, not text"
    if verdict:
        for name in _VERDICT_FIELDS:
            value = get(name)
            if value is not None and type(value) is not bool:
                return f"{name} {value!r}, not true, false or null"
    threshold = get("threshold")
    if threshold is not None and not _probability(threshold):
        return f"threshold {threshold!r}, not a number from 0 to 1"
    checks = get("checks")
    if checks is None:
        return None
    if not isinstance(checks, list):
        return f"checks {_json_type(checks)}, not a list"
    for at, check in enumerate(checks):
        if not isinstance(check, dict):
            return f"checks[{at}] {_json_type(check)}, not an object"
        if "passed" in check and type(check["passed"]) is not bool:
            return f"checks[{at}].passed {check['passed']!r}, not true or false"
        threshold = check.get("threshold")
        if threshold is not None and not _probability(threshold):
            return f"checks[{at}].threshold {threshold!r}, not a number from 0 to 1"
    return None


def report_records(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every record of a report with a confidence: verdicts, responses and any other kind, in order."""
    return [{"kind": kind, **record} for kind, record in _kinded(report)]


def _kinded(report: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """(kind, record) of every record of a report with a confidence, in order, the records not copied: a
    record's own ``kind``, else its list's (``verdicts`` holds verdicts, ``scores`` scores…)."""
    found: list[tuple[str, Mapping[str, Any]]] = []
    for name, value in report.items():
        if name in _NOT_RECORDS or not isinstance(value, list):
            continue
        default_kind = "verdict" if name == "verdicts" else name.rstrip("s")
        found.extend(
            (record.get("kind", default_kind), record)
            for record in value
            if isinstance(record, Mapping) and "confidence" in record
        )
    return found


def _with_confidence(records: Sequence[Mapping[str, Any]]) -> list[tuple[str, Mapping[str, Any]]]:
    """(kind, record) of the records a comparison reads, as from a report: those with a confidence (an
    app's watched responses carry a score instead, and are not compared)."""
    return [(record.get("kind", "verdict"), record) for record in records if "confidence" in record]


def _keyed(records: Iterable[tuple[Any, Mapping[str, Any]]]) -> dict[Key, Mapping[str, Any]]:
    seen: dict[tuple[str, str, str], int] = {}
    keyed: dict[Key, Mapping[str, Any]] = {}
    for kind, record in records:
        base = (str(kind), str(record.get("test_id", "?")), str(record.get("question", "")))
        n = seen.get(base, 0)
        seen[base] = n + 1
        keyed[(*base, n)] = record
    return keyed


def _failed(record: Mapping[str, Any]) -> bool:
    """Whether a check of the record failed outside a test marked xfail (its status is ``failed``)."""
    if record.get("xfail"):
        return False
    return any(not check.get("passed") for check in record.get("checks") or () if isinstance(check, Mapping))


@dataclass(frozen=True)
class Change:
    """One matched record in both runs (or in one of them, for ``new`` and ``gone``)."""

    what: str
    """``flipped``, ``dropped``, ``rose``, ``now_failing``, ``new`` or ``gone``."""
    kind: str
    test_id: str
    question: str
    model: str
    old_value: Any = None
    new_value: Any = None
    old_confidence: float | None = None
    new_confidence: float | None = None

    @property
    def delta(self) -> float:
        if self.old_confidence is None or self.new_confidence is None:
            return 0.0
        return self.new_confidence - self.old_confidence

    def to_dict(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "kind": self.kind,
            "test_id": self.test_id,
            "question": self.question,
            "model": self.model,
            "old_value": self.old_value,
            "new_value": self.new_value,
            "old_confidence": self.old_confidence,
            "new_confidence": self.new_confidence,
            "delta": round(self.delta, 6),
        }

    def describe(self, secrets: set[str] | None = None) -> str:
        """One line: ``flipped  tests/x.py::t  true 0.97 -> false 0.62  "Is it polite?"``; the question's
        secrets (every known one, or those of ``secrets``) read ``***``."""
        old = (
            f"{value_text(self.old_value)} {self.old_confidence:.2f}"
            if self.old_confidence is not None
            else "-"
        )
        new = (
            f"{value_text(self.new_value)} {self.new_confidence:.2f}"
            if self.new_confidence is not None
            else "-"
        )
        moved = f" ({self.delta:+.2f})" if self.what in ("dropped", "rose") else ""
        question = shorten(self.question, 60, marker="...", secrets=secrets) if self.question else ""
        return f"{self.what:<11} {self.test_id}  {old} -> {new}{moved}  [{self.model}]  {question!r}".rstrip()


_KINDS = ("flipped", "dropped", "rose", "now_failing", "new", "gone")


@dataclass
class Comparison:
    """What changed between an earlier report (``old``) and this one (``new``)."""

    margin: float
    changes: list[Change] = field(default_factory=list)
    matched: int = 0
    pairs: list[tuple[float, float, str]] = field(default_factory=list)
    """(old confidence, new confidence, what) of every matched record, for the scatter."""
    cost_before: float | None = None
    """What the earlier run's judge calls cost to make (live, batch and replayed), in dollars; None when
    its report carries no costs."""
    cost_now: float | None = None

    def cost_line(self) -> str | None:
        """``cost of the judge's calls: $1.20, was $0.80 (+$0.40, +50%)``; None when neither has costs."""
        from .cost import dollars

        if self.cost_before is None and self.cost_now is None:
            return None
        if self.cost_before is None or self.cost_now is None:
            known, when = (
                (self.cost_now, "now") if self.cost_now is not None else (self.cost_before, "before")
            )
            return f"cost of the judge's calls: {dollars(known or 0.0)} {when}; the other report has no costs"
        change = self.cost_now - self.cost_before
        sign = "+" if change >= 0 else "-"
        share = f", {change / self.cost_before:+.0%}" if self.cost_before else ""
        return (
            f"cost of the judge's calls: {dollars(self.cost_now)}, was {dollars(self.cost_before)} "
            f"({sign}{dollars(abs(change))}{share})"
        )

    def of(self, what: str) -> list[Change]:
        return [change for change in self.changes if change.what == what]

    @property
    def flipped(self) -> list[Change]:
        return self.of("flipped")

    @property
    def dropped(self) -> list[Change]:
        return self.of("dropped")

    @property
    def failing(self) -> list[Change]:
        """What ``--llm-fail-on-drop`` fails on: flips and drops past the margin."""
        return [change for change in self.changes if change.what in ("flipped", "dropped")]

    def tests(self, what: str) -> list[str]:
        return sorted({change.test_id for change in self.of(what)})

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(_KINDS, 0)
        for change in self.changes:
            counts[change.what] += 1
        return counts

    def per_model(self) -> dict[str, dict[str, int]]:
        """The counts of each model's changes, in one pass over the changes."""
        models: dict[str, dict[str, int]] = {}
        for change in self.changes:
            counts = models.get(change.model)
            if counts is None:
                counts = models[change.model] = dict.fromkeys(_KINDS, 0)
            counts[change.what] += 1
        return dict(sorted(models.items()))

    @property
    def empty(self) -> bool:
        return not self.changes

    def to_dict(self) -> dict[str, Any]:
        return {
            "margin": self.margin,
            "matched": self.matched,
            "counts": self.counts(),
            "per_model": self.per_model(),
            "changes": [change.to_dict() for change in self.changes],
            "cost": {
                "before_usd": None if self.cost_before is None else round(self.cost_before, 9),
                "now_usd": None if self.cost_now is None else round(self.cost_now, 9),
            },
        }

    def head_line(self) -> str:
        """``95 matched: 2 flipped, 1 fell and 0 rose by more than 0.10, 1 checks now failing, …``."""
        counts = self.counts()
        return (
            f"{self.matched} matched: {counts['flipped']} flipped, {counts['dropped']} fell and "
            f"{counts['rose']} rose by more than {self.margin:.2f}, "
            f"{counts['now_failing']} checks now failing, {counts['new']} new, {counts['gone']} gone"
        )

    def text_lines(self) -> list[str]:
        lines = [self.head_line()]
        cost = self.cost_line()
        if cost:
            lines.append(cost)
        for model, numbers in self.per_model().items():
            parts = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in numbers.items() if n)
            lines.append(f"  {model}: {parts}")
        lines.extend(_described(self.changes))
        return lines

    def markdown(self) -> str:
        counts = self.counts()
        out = [
            f"**{self.matched}** matched: **{counts['flipped']}** flipped, **{counts['dropped']}** fell and "
            f"**{counts['rose']}** rose by more than {self.margin:.2f}, "
            f"**{counts['now_failing']}** checks now failing, "
            f"**{counts['new']}** new, **{counts['gone']}** gone",
            "",
        ]
        cost = self.cost_line()
        if cost:
            out += [cost, ""]
        if self.changes:
            out += ["| change | test id | before | now | model | question |", "|---|---|---|---|---|---|"]
            for c in self.changes:
                old = (
                    f"{value_text(c.old_value)} {c.old_confidence:.2f}"
                    if c.old_confidence is not None
                    else "-"
                )
                new = (
                    f"{value_text(c.new_value)} {c.new_confidence:.2f}"
                    if c.new_confidence is not None
                    else "-"
                )
                cells = [c.what.replace("_", " "), f"`{c.test_id}`", old, new, c.model, c.question]
                out.append(
                    "| "
                    + " | ".join(str(cell).replace("|", "\\|").replace("\n", " ") for cell in cells)
                    + " |"
                )
        return "\n".join(out) + "\n"


def _described(changes: Iterable[Change]) -> Iterator[str]:
    """Each change's line (``Change.describe``), the known secrets read once rather than once a line: read
    again only after a question with a URL, whose credentials redacting it has just made known."""
    from .._recording.secrets import known

    secrets = known()
    for change in changes:
        yield change.describe(secrets)
        if "://" in change.question or "=" in change.question:
            secrets = known()


def _record_cost(records: Iterable[Mapping[str, Any]]) -> float | None:
    """What the judge calls of ``records`` cost (live, batch and replayed); None when none carries a cost."""
    from .cost import cost_summary

    cost = cost_summary(records)
    return cost.live + cost.batch + cost.replayed if cost.priced else None


def _with_kind(records: Iterable[tuple[str, Mapping[str, Any]]]) -> Iterator[Mapping[str, Any]]:
    """Each record as read with its kind (copied only when the kind is its list's, not its own)."""
    for kind, record in records:
        yield record if record.get("kind", "verdict") == kind else {**record, "kind": kind}


_ORDER = {"flipped": 0, "now_failing": 1, "dropped": 2, "rose": 3, "gone": 4, "new": 5}


def compare(
    old: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    new: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    margin: float = DEFAULT_MARGIN,
) -> Comparison:
    """Compare two reports (or record lists): flips, moves past ``margin``, new failures, new and gone."""
    old_records = _kinded(old) if isinstance(old, Mapping) else _with_confidence(old)
    new_records = _kinded(new) if isinstance(new, Mapping) else _with_confidence(new)
    before, after = _keyed(old_records), _keyed(new_records)
    result = Comparison(
        margin=margin,
        cost_before=_record_cost(_with_kind(old_records) if isinstance(old, Mapping) else old),
        cost_now=_record_cost(_with_kind(new_records) if isinstance(new, Mapping) else new),
    )
    changes: list[Change] = []
    for key, now in after.items():
        kind, test_id, question, _ = key
        was = before.get(key)
        conf_now = number(now.get("confidence"))
        model = str(now.get("model", "?"))
        if was is None:
            changes.append(
                Change("new", kind, test_id, question, model, None, now.get("value"), None, conf_now)
            )
            continue
        result.matched += 1
        conf_was = number(was.get("confidence"))
        args = (kind, test_id, question, model, was.get("value"), now.get("value"), conf_was, conf_now)
        flipped = "value" in now and "value" in was and now.get("value") != was.get("value")
        delta = conf_now - conf_was
        what = "flipped" if flipped else ""
        if flipped:
            changes.append(Change("flipped", *args))
        elif delta < -margin - 1e-9:
            what = "dropped"
            changes.append(Change("dropped", *args))
        elif delta > margin + 1e-9:
            what = "rose"
            changes.append(Change("rose", *args))
        if _failed(now) and not _failed(was) and was.get("checks"):
            changes.append(Change("now_failing", *args))
            what = what or "now_failing"
        result.pairs.append((conf_was, conf_now, what or "same"))
    for key, was in before.items():
        if key not in after:
            kind, test_id, question, _ = key
            model = str(was.get("model", "?"))
            conf = number(was.get("confidence"))
            changes.append(Change("gone", kind, test_id, question, model, was.get("value"), None, conf, None))
    changes.sort(key=lambda c: (_ORDER[c.what], c.test_id, c.question))
    result.changes = changes
    return result


def write_baseline_section(terminal: Any, config: Any, comparison: Comparison | None) -> None:
    """The "llm baseline" section of the terminal summary; no known secret is written."""
    from .._recording.secrets import Redacting

    terminal = Redacting(terminal)
    terminal.write_sep("=", "llm baseline")
    if comparison is None:
        terminal.write_line(
            f"no baseline at {config.baseline} yet: nothing compared. Write one with --llm-report "
            "and pass it to the next run with --llm-baseline."
        )
        return
    terminal.write_line(f"compared with {config.baseline}")
    colours = {"flipped": "red", "dropped": "red", "now_failing": "red", "rose": "green"}
    for index, line in enumerate(comparison.text_lines()):
        what = line.split(" ", 1)[0]
        markup = {colours[what]: True} if index and what in colours else {}
        terminal.write_line(line, **markup)
    failing = comparison.failing
    if getattr(config, "fail_on_drop", False) and failing:
        terminal.write_line(
            f"--llm-fail-on-drop: {len(failing)} verdicts flipped or fell by more than "
            f"{comparison.margin:.2f} since the baseline; the run fails:",
            red=True,
        )
        for line in _described(failing):
            terminal.write_line("  " + line, red=True)


_DOT = {
    "flipped": "#c0392b",
    "dropped": "#e67e22",
    "rose": "#27ae60",
    "now_failing": "#8e44ad",
    "same": "#7f8c8d",
}


def scatter_svg(comparison: Comparison, size: int = 260) -> str:
    """Old confidence (x) against new (y), one dot per matched record, the diagonal and the margin band."""
    pad, inner = 30, size - 40
    m = comparison.margin

    def x(value: float) -> float:
        return pad + value * inner

    def y(value: float) -> float:
        return 10 + (1 - value) * inner

    parts = [
        f'<svg class="llm-scatter" viewBox="0 0 {size} {size}" width="{size}" height="{size}" role="img" '
        'aria-label="confidence before (x) against now (y)">',
        f'<rect x="{pad}" y="10" width="{inner}" height="{inner}" fill="none" stroke="#bbb"/>',
        f'<polygon points="{x(0)},{y(m)} {x(1 - m)},{y(1)} {x(1)},{y(1)} {x(1)},{y(1 - m)} {x(m)},{y(0)} '
        f'{x(0)},{y(0)}" fill="#eee"/>',
        f'<line x1="{x(0)}" y1="{y(0)}" x2="{x(1)}" y2="{y(1)}" stroke="#999" stroke-dasharray="3 3"/>',
        f'<text x="{pad + inner / 2}" y="{size - 4}" font-size="10" text-anchor="middle">before</text>',
        f'<text x="10" y="{10 + inner / 2}" font-size="10" text-anchor="middle" '
        f'transform="rotate(-90 10 {10 + inner / 2})">now</text>',
    ]
    for old, new, what in comparison.pairs:
        parts.append(
            f'<circle cx="{x(old):.1f}" cy="{y(new):.1f}" r="3" fill="{_DOT.get(what, "#7f8c8d")}">'
            f"<title>{what}: {old:.2f} -> {new:.2f}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def html_section(comparison: Comparison) -> str:
    """The baseline section of the HTML report: the counts, the scatter and the table of changes."""
    from html import escape

    from .html import html_test_id

    def cells(change: Change) -> str:
        before, now = (
            "-" if confidence is None else f"{value_text(value)} {confidence:.2f}"
            for value, confidence in (
                (change.old_value, change.old_confidence),
                (change.new_value, change.new_confidence),
            )
        )
        return (
            f"<td>{escape(change.what.replace('_', ' '))}</td>"
            f'<td class="test">{html_test_id(change.test_id)}</td>'
            f'<td data-label="before">{escape(before)}</td><td data-label="now">{escape(now)}</td>'
            f'<td>{escape(str(change.model))}</td><td class="wide">{escape(str(change.question))}</td>'
        )

    rows = "".join(f"<tr>{cells(change)}</tr>" for change in comparison.changes)
    table = (
        "<table><thead><tr><th>change</th><th>test id</th><th>before</th><th>now</th><th>model</th>"
        f"<th>question</th></tr></thead><tbody>{rows}</tbody></table>"
        if rows
        else ""
    )
    head = escape(comparison.head_line())
    cost = comparison.cost_line()
    if cost:
        head += f"<br>{escape(cost)}"
    return (
        f'<section id="baseline"><h2>Compared with the baseline</h2><p>{head}</p>'
        f"{scatter_svg(comparison)}{table}</section>\n"
    )
