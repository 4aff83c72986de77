"""Calibration: does a confidence of 0.9 mean right nine times in ten? Pure Python, no numpy.

The score calibrated is the judge's probability that the answer is *true*, normalised over the verdict
labels: ``q = p_true / coverage``. A map ``f`` (Platt scaling on ``logit(q)``, or isotonic regression)
turns it into a calibrated probability; the calibrated confidence of a verdict is ``f(q)`` for a true
verdict and ``1 - f(q)`` for a false one. A labelled score is calibrated on each "score >= k" question.

Every figure carries a seeded bootstrap 95 % interval; the report says in words what the numbers mean,
and refuses maps that would invert the judge's ranking or that too few labelled items support.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .certify import DELTA, Certificate, certify
from .fit import CalibrationMap
from .labelled import CHOICES, VERDICTS, Labelled, labelled_from_records, split
from .metrics import RESAMPLES, metrics

__all__ = [
    "MIN_PER_LABEL",
    "ModelReport",
    "calibration_report",
    "confidence_direction",
    "confidence_sentence",
    "legend",
    "ranking",
    "ranking_sentence",
    "report_lines",
    "threshold_sentence",
]

MIN_PER_LABEL = 20
"""Labelled items of each label a map's training split needs: a Platt map has two parameters, and a
logistic fit wants about ten items of the rarer label per parameter."""


@dataclass
class ModelReport:
    """The calibration of one model on one question (its verdicts, or one "score >= k")."""

    model: str
    raw: dict[str, Any]
    held_out_raw: dict[str, Any] | None = None
    held_out_calibrated: dict[str, Any] | None = None
    map: CalibrationMap | None = None
    notes: list[str] = field(default_factory=list)
    question: str = VERDICTS
    labels: tuple[int, int] = (0, 0)
    sentences: list[str] = field(default_factory=list)
    refused: dict[str, Any] | None = None
    map_sentence: str | None = None
    resamples: int = RESAMPLES
    seed: int = 0
    minimum_per_label: int = MIN_PER_LABEL
    certified: list[Certificate] = field(default_factory=list)
    """The certified thresholds asked for (``--certify``), one per target accuracy."""

    @property
    def title(self) -> str:
        return self.model if self.question == VERDICTS else f"{self.model}, {self.question}"

    @property
    def noun(self) -> str:
        return {VERDICTS: "verdicts", CHOICES: "choices"}.get(self.question, "answers")

    @property
    def header(self) -> str:
        true, false = self.labels
        if self.question == CHOICES:
            return f"{self.title}: {true + false} labelled choices ({true} right, {false} wrong)"
        noun = "verdicts" if self.question == VERDICTS else "scores"
        return f"{self.title}: {true + false} labelled {noun} ({true} true, {false} false)"

    def threshold_blocks(self) -> list[tuple[str, list[str]]]:
        """The thresholds to act on, as sentences: on the raw confidence (held-out verdicts when there
        is a split) and on the calibrated one when a map was fitted."""
        answers = "verdicts" if self.question == VERDICTS else "answers"
        where = f"held-out {answers}" if self.held_out_raw else f"all {answers}"
        blocks = [(f"raw confidence ({where})", self.held_out_raw or self.raw)]
        if self.held_out_calibrated and self.map:
            blocks.append((f"{self.map.method}-calibrated confidence ({where})", self.held_out_calibrated))
        return [(label, [threshold_sentence(t, answers) for t in m["thresholds"]]) for label, m in blocks]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "question": self.question,
            "labels": {"true": self.labels[0], "false": self.labels[1]},
            "all_raw": self.raw,
            "held_out_raw": self.held_out_raw,
            "held_out_calibrated": self.held_out_calibrated,
            "map": self.map.to_dict() if self.map else None,
            "refused": self.refused,
            "ranking": ranking(self.raw),
            "confidence": confidence_direction(self.raw),
            "sentences": self.sentences,
            "map_sentence": self.map_sentence,
            "threshold_sentences": [
                {"on": label, "sentences": sentences} for label, sentences in self.threshold_blocks()
            ],
            "notes": self.notes,
            "resamples": self.resamples,
            "seed": self.seed,
            "minimum_per_label": self.minimum_per_label,
            "legend": legend(self),
            "certified": [{**c.to_dict(), "sentence": c.sentence(self.noun)} for c in self.certified],
        }


def _interval_text(interval: Sequence[float] | None, digits: int = 3, signed: bool = False) -> str:
    if interval is None:
        return "no interval"
    sign = "+" if signed else ""
    low, high = (f"{v:{sign}.{digits}f}" for v in interval)
    return f"95 % interval {low} to {high}"


def ranking(m: Mapping[str, Any]) -> str | None:
    """``better`` (AUROC interval above 0.5), ``chance`` (it contains 0.5), ``backwards`` (below), or
    None when it cannot be told (one label only, or no interval)."""
    interval = m["intervals"]["auroc"]
    if m["auroc"] is None or interval is None:
        return None
    return "better" if interval[0] > 0.5 else "backwards" if interval[1] < 0.5 else "chance"


def ranking_sentence(m: Mapping[str, Any], score: str = "p_true / coverage") -> str:
    """Whether the judge's probability of true tells true answers from false ones, from the AUROC."""
    if m["auroc"] is None:
        return "Its ranking cannot be measured: every labelled item has the same label."
    figure = f"AUROC of {score} {m['auroc']:.3f} ({_interval_text(m['intervals']['auroc'])})"
    verdict = ranking(m)
    if verdict == "better":
        return f"Its confidence ranks answers better than chance: {figure}, above 0.5."
    if verdict == "backwards":
        return f"Its confidence ranks answers backwards, true ones below false ones: {figure}, below 0.5."
    if verdict == "chance":
        return (
            "Its confidence is no better than chance at telling true from false answers: "
            f"{figure} contains 0.5."
        )
    return f"Too few of one label to tell whether its confidence ranks answers better than chance: {figure}."


def confidence_direction(m: Mapping[str, Any]) -> str | None:
    """``over`` or ``under`` (the interval of mean confidence minus accuracy excludes 0), ``neither``,
    or None without an interval."""
    interval = m["intervals"]["gap"]
    if interval is None:
        return None
    return "over" if interval[0] > 0 else "under" if interval[1] < 0 else "neither"


def _ranges(reliability: Sequence[Mapping[str, Any]], noun: str) -> dict[str, list[str]]:
    """Runs of neighbouring bins that depart from their confidence the same way, by direction."""
    runs: list[list[Mapping[str, Any]]] = []
    previous = -2
    for index, b in enumerate(reliability):
        if b["direction"] is None:
            continue
        if previous == index - 1 and runs[-1][-1]["direction"] == b["direction"]:
            runs[-1].append(b)
        else:
            runs.append([b])
        previous = index
    spans: dict[str, list[str]] = {}
    for run in runs:
        count = sum(int(b["count"]) for b in run)
        right = sum(b["accuracy"] * b["count"] for b in run) / count
        stated = sum(b["confidence"] * b["count"] for b in run) / count
        low, high = f"{run[0]['low']:.2f}", f"{run[-1]['high']:.2f}"
        span = low if low == high else f"{low}-{high}"
        spans.setdefault(str(run[0]["direction"]), []).append(
            f"{span} ({count} {noun}: said {stated:.2f}, right {right:.2f})"
        )
    return spans


def _and(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def confidence_sentence(m: Mapping[str, Any], noun: str = "verdicts") -> str:
    """Whether the judge is over- or under-confident on average (the gap's interval), and where: the
    confidence ranges whose bins' accuracy departs from what they said (Bonferroni-widened intervals)."""
    interval = m["intervals"]["gap"]
    figure = (
        f"its mean confidence is {m['mean_confidence']:.3f} and it is right {m['accuracy']:.3f} of the time "
        f"(gap {m['gap']:+.3f}, {_interval_text(interval, signed=True)}"
    )
    overall = confidence_direction(m)
    clauses = []
    for direction, spans in sorted(_ranges(m["reliability"], noun).items(), key=lambda kv: kv[0] != overall):
        where = f"at confidence {_and(spans)}"
        clauses.append(f"most clearly {where}" if direction == overall else f"{direction}-confident {where}")
    where = "".join(f"; {clause}" for clause in clauses)
    if overall in ("over", "under"):
        return f"It is {overall}-confident: {figure}){where}."
    if overall is None:
        return f"Whether it is over- or under-confident is not measured: {figure}){where}."
    but = f", but {_and(clauses)}" if clauses else ""
    return f"It is neither over- nor under-confident on average: {figure} contains 0){but}."


def threshold_sentence(entry: Mapping[str, Any], noun: str = "verdicts") -> str:
    """ "to be right 95 % of the time, use 0.97: 41 of 110 verdicts reach it ..." for one target."""
    share = f"{entry['target'] * 100:g} %"
    if entry["threshold"] is None:
        return f"to be right {share} of the time: no threshold gets there on these {entry['of']} {noun}"
    low, high = entry["interval"]
    short = f", which reaches below {share}" if low < entry["target"] else ""
    return (
        f"to be right {share} of the time, use {entry['threshold']:.{entry['digits']}f}: {entry['count']} of "
        f"{entry['of']} {noun} reach it, right {entry['right']:.2f} (95 % interval {low:.2f} to {high:.2f}"
        f"{short})"
    )


def _calibrated(fitted: CalibrationMap, items: Sequence[Labelled]) -> tuple[list[float], list[float]]:
    confidences = [fitted.confidence(i.value, i.p_true, i.coverage) or 0.0 for i in items]
    return confidences, [fitted.probability_true(i.q) for i in items]


def _block(items: Sequence[Labelled], bins: int, resamples: int, seed: int) -> dict[str, Any]:
    return metrics(
        items, [i.confidence for i in items], [i.q for i in items], bins, resamples=resamples, seed=seed
    )


def _fit_map(
    report: ModelReport, items: Sequence[Labelled], method: str, bins: int, train_fraction: float
) -> None:
    """Split, fit on the training part, refuse a map that would mislead, measure on the held-out part."""
    minimum = report.minimum_per_label
    train, test = split(items, report.seed, train_fraction)
    true_train = sum(1 for i in train if i.expected)
    false_train = len(train) - true_train
    if min(true_train, false_train) < minimum:
        report.map_sentence = (
            f"No map fitted: the training split holds {true_train} true and {false_train} false labelled "
            f"verdicts; a map needs {minimum} of each (a Platt map has two parameters, and a logistic fit "
            "wants ten items of the rarer label per parameter)."
        )
        return
    fitted = CalibrationMap.fit([i.q for i in train], [i.expected for i in train], method)
    report.held_out_raw = _block(test, bins, report.resamples, report.seed)
    reason = fitted.refusal()
    trained = (
        f"on {len(train)} training verdicts ({true_train} true, {false_train} false; "
        f"{minimum} of each needed)"
    )
    if reason is not None:
        report.refused = {**fitted.to_dict(), "reason": reason}
        report.map_sentence = f"No map: the {method} fit {trained} is refused: {reason}."
        return
    report.map = fitted
    confidences, probabilities = _calibrated(fitted, test)
    report.held_out_calibrated = metrics(
        test, confidences, probabilities, bins, resamples=report.resamples, seed=report.seed
    )
    raw, cal = report.held_out_raw, report.held_out_calibrated
    report.map_sentence = (
        f"Map: {fitted.describe()}, fitted {trained}; on the {len(test)} held-out verdicts it takes ECE from "
        f"{raw['ece']:.3f} ({_interval_text(raw['intervals']['ece'])}) to {cal['ece']:.3f} "
        f"({_interval_text(cal['intervals']['ece'])}), Brier from {raw['brier']:.3f} to {cal['brier']:.3f}."
    )
    if ranking(report.raw) in ("chance", "backwards"):
        report.map_sentence += (
            " A map changes how sure the judge says it is, not how well it ranks: it ranks no better for it."
        )


def calibration_report(
    records: Iterable[Mapping[str, Any]],
    *,
    method: str = "platt",
    bins: int = 10,
    seed: int = 0,
    train_fraction: float = 0.5,
    resamples: int = RESAMPLES,
    min_per_label: int = MIN_PER_LABEL,
    certify_for: Sequence[float] = (),
    delta: float = DELTA,
) -> list[ModelReport]:
    """Per model: raw metrics with 95 % intervals on every labelled verdict and a sentence on what they
    mean; a map fitted on a stratified training split when each label has ``min_per_label`` items there,
    refused when it would mislead; raw and calibrated metrics on the held-out split. Labelled scores are
    reported per model and per "score >= k" question, and labelled choices per model, without a map.
    For each accuracy of ``certify_for``, each gets its certified threshold at ``delta``."""
    skipped: list[str] = []
    by_group: dict[tuple[str, str], list[Labelled]] = {}
    for item in labelled_from_records(records, skipped):
        by_group.setdefault((item.model, item.question), []).append(item)
    reports = []
    for (model, question), items in sorted(by_group.items(), key=lambda kv: (kv[0][0], kv[0][1] != VERDICTS)):
        report = ModelReport(
            model,
            _block(items, bins, resamples, seed),
            question=question,
            labels=(sum(1 for i in items if i.expected), sum(1 for i in items if not i.expected)),
            resamples=resamples,
            seed=seed,
            minimum_per_label=min_per_label,
        )
        report.certified = [certify(items, accuracy, delta) for accuracy in certify_for]
        if question == VERDICTS:
            report.sentences = [ranking_sentence(report.raw), confidence_sentence(report.raw)]
            _fit_map(report, items, method, bins, train_fraction)
        elif question == CHOICES:
            report.sentences = [
                ranking_sentence(report.raw, "the chosen option's probability"),
                confidence_sentence(report.raw, "choices"),
            ]
        else:
            k = items[0].at_least
            report.sentences = [
                ranking_sentence(report.raw, f"P(score >= {k})"),
                confidence_sentence(report.raw, "answers"),
            ]
        reports.append(report)
    if skipped and reports:
        reports[0].notes.append(
            f"{len(skipped)} labelled score record(s) skipped: the expected label is not on the scale "
            f"({', '.join(skipped[:3])}{', ...' if len(skipped) > 3 else ''})"
        )
    return reports


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _bracket(interval: Sequence[float] | None) -> str:
    return "[n/a]" if interval is None else f"[{interval[0]:.3f}, {interval[1]:.3f}]"


def _metric_row(label: str, m: Mapping[str, Any]) -> list[str]:
    iv = m["intervals"]
    shares = "  ".join(f">={t}: {_fmt(v['right'], 2)} of {v['count']}" for t, v in m["above"].items())
    return [
        f"  {label:<22} n={m['n']:<4} accuracy {m['accuracy']:.3f} {_bracket(iv['accuracy'])}  "
        f"ECE {m['ece']:.3f} {_bracket(iv['ece'])} ({m['bins']} bins)  Brier {m['brier']:.3f} "
        f"{_bracket(iv['brier'])}  AUROC {_fmt(m['auroc'])} {_bracket(iv['auroc'])}",
        f"  {'':<22} right when confidence {shares}",
    ]


def legend(report: ModelReport) -> str:
    """What the brackets are, and the minimum a map needs."""
    return (
        f"[brackets]: 95 % intervals, seeded bootstrap of {report.resamples} resamples (seed {report.seed}); "
        f"a map needs {report.minimum_per_label} labelled verdicts of each label in its training split"
    )


def report_lines(reports: Sequence[ModelReport]) -> list[str]:
    """The calibration report as text lines, one block per model (and per "score >= k")."""
    if not reports:
        return ["no labelled verdicts: give judge(..., expected=True/False) to measure calibration"]
    lines = [legend(reports[0])]
    for report in reports:
        lines.append(f"model {report.header}")
        lines.extend(_metric_row("all, raw", report.raw))
        if report.held_out_raw:
            lines.extend(_metric_row("held-out, raw", report.held_out_raw))
        if report.held_out_calibrated and report.map:
            lines.extend(_metric_row(f"held-out, {report.map.method}", report.held_out_calibrated))
        lines.extend(f"  {sentence}" for sentence in report.sentences)
        if report.map_sentence:
            lines.append(f"  {report.map_sentence}")
        for label, sentences in report.threshold_blocks():
            lines.append(f"  thresholds on {label}:")
            lines.extend(f"    {sentence}" for sentence in sentences)
        if report.certified:
            lines.append("  certified thresholds (fixed-sequence test, exact binomial bound):")
            lines.extend(f"    {c.sentence(report.noun)}" for c in report.certified)
        lines.extend(f"  note: {note}" for note in report.notes)
    return lines
