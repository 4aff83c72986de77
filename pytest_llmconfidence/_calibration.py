"""Calibration: does a confidence of 0.9 mean right nine times in ten? Pure Python, no numpy.

The score calibrated is the judge's probability that the answer is *true*, normalised over the verdict
labels: ``q = p_true / coverage``. A map ``f`` (Platt scaling on ``logit(q)``, or isotonic regression)
turns it into a calibrated probability; the calibrated confidence of a verdict is ``f(q)`` for a true
verdict and ``1 - f(q)`` for a false one.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._files import write_atomic

__all__ = [
    "THRESHOLDS",
    "CalibrationMap",
    "Labelled",
    "auroc",
    "brier_score",
    "calibration_report",
    "ece_equal_mass",
    "fit_isotonic",
    "fit_platt",
    "labelled_from_records",
    "load_maps",
    "metrics",
    "report_lines",
    "save_maps",
]

THRESHOLDS = (0.8, 0.9, 0.95, 0.99)
_EPS = 1e-12
MAP_VERSION = 1


# --- metrics ------------------------------------------------------------------------------------


def brier_score(probabilities: Sequence[float], labels: Sequence[bool]) -> float:
    """Mean squared error of the probability of the positive class (scikit-learn's brier_score_loss)."""
    _same_length(probabilities, labels)
    return math.fsum((p - float(y)) ** 2 for p, y in zip(probabilities, labels, strict=True)) / len(labels)


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Area under the ROC curve (ties count half); None when only one class is present."""
    _same_length(scores, labels)
    positives = sum(1 for y in labels if y)
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return None
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        average = (i + j) / 2.0 + 1.0
        for k in range(i, j + 1):
            ranks[order[k]] = average
        i = j + 1
    rank_sum = math.fsum(rank for rank, y in zip(ranks, labels, strict=True) if y)
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


@dataclass(frozen=True)
class Bin:
    """One equal-mass bin of a reliability diagram."""

    count: int
    confidence: float
    accuracy: float
    low: float
    high: float


def ece_equal_mass(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = 10
) -> tuple[float, list[Bin]]:
    """Expected calibration error over ``bins`` bins of (nearly) equal count, sorted by confidence.

    ECE = sum over bins of (bin size / n) * |accuracy - mean confidence|. Sizes differ by at most one
    (the first ``n % bins`` bins hold one more), as ``numpy.array_split`` splits.
    """
    _same_length(confidences, correct)
    n = len(confidences)
    if n == 0:
        return 0.0, []
    bins = max(1, min(bins, n))
    order = sorted(range(n), key=lambda i: confidences[i])
    size, extra = divmod(n, bins)
    result: list[Bin] = []
    start = 0
    total = 0.0
    for b in range(bins):
        end = start + size + (1 if b < extra else 0)
        members = order[start:end]
        start = end
        conf = math.fsum(confidences[i] for i in members) / len(members)
        acc = sum(1 for i in members if correct[i]) / len(members)
        total += len(members) / n * abs(acc - conf)
        result.append(Bin(len(members), conf, acc, confidences[members[0]], confidences[members[-1]]))
    return total, result


def _same_length(a: Sequence[Any], b: Sequence[Any]) -> None:
    if len(a) != len(b):
        raise ValueError(f"expected sequences of the same length, got {len(a)} and {len(b)}")
    if not a:
        raise ValueError("expected at least one labelled verdict")


# --- maps ---------------------------------------------------------------------------------------


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def fit_platt(
    scores: Sequence[float], labels: Sequence[bool], *, smooth: bool = True, on_logit: bool = True
) -> tuple[float, float]:
    """Platt scaling: ``a, b`` maximising the likelihood of ``sigmoid(a * x + b)``, ``x = logit(score)``.

    With ``smooth`` the targets are Platt's (n+ + 1) / (n+ + 2) and 1 / (n- + 2), which keeps the fit
    finite on separable data; without it this is an unpenalised logistic regression. Newton's method
    with step halving, to a gradient of 1e-12.
    """
    _same_length(scores, labels)
    xs = [_logit(s) if on_logit else float(s) for s in scores]
    positives = sum(1 for y in labels if y)
    negatives = len(labels) - positives
    hi = (positives + 1.0) / (positives + 2.0) if smooth else 1.0
    lo = 1.0 / (negatives + 2.0) if smooth else 0.0
    targets = [hi if y else lo for y in labels]

    def loss(a: float, b: float) -> float:
        total = 0.0
        for x, t in zip(xs, targets, strict=True):
            z = a * x + b
            # log(1 + e^z) - t*z, computed stably
            total += (z if z > 0 else 0.0) + math.log1p(math.exp(-abs(z))) - t * z
        return total

    a, b = 1.0, 0.0
    current = loss(a, b)
    for _ in range(200):
        g_a = g_b = h_aa = h_ab = h_bb = 0.0
        for x, t in zip(xs, targets, strict=True):
            p = _sigmoid(a * x + b)
            d = p - t
            w = max(p * (1 - p), 1e-300)
            g_a += d * x
            g_b += d
            h_aa += w * x * x
            h_ab += w * x
            h_bb += w
        det = h_aa * h_bb - h_ab * h_ab
        if abs(g_a) + abs(g_b) < 1e-12 or det <= 0:
            break
        step_a = (h_bb * g_a - h_ab * g_b) / det
        step_b = (h_aa * g_b - h_ab * g_a) / det
        scale = 1.0
        while scale > 1e-10:
            na, nb = a - scale * step_a, b - scale * step_b
            new = loss(na, nb)
            if new <= current + 1e-15:
                break
            scale /= 2
        else:
            break
        a, b, current = na, nb, new
        if abs(scale * step_a) + abs(scale * step_b) < 1e-15:
            break
    return a, b


def fit_isotonic(scores: Sequence[float], labels: Sequence[bool]) -> tuple[list[float], list[float]]:
    """Increasing isotonic regression of the labels on the scores, clipped to [0, 1].

    Returns the thresholds ``(xs, ys)`` that scikit-learn's IsotonicRegression keeps: ties in the score are
    averaged first, pool-adjacent-violators merges, and interior points of flat runs are dropped.
    """
    _same_length(scores, labels)
    pairs = sorted(zip(scores, (float(y) for y in labels), strict=True))
    xs: list[float] = []
    sums: list[float] = []
    weights: list[float] = []
    for x, y in pairs:
        if xs and x == xs[-1]:
            sums[-1] += y
            weights[-1] += 1.0
        else:
            xs.append(float(x))
            sums.append(y)
            weights.append(1.0)
    # pool adjacent violators over blocks of (mean, weight, count of points)
    blocks: list[list[float]] = []
    for total, weight in zip(sums, weights, strict=True):
        blocks.append([total / weight, weight, 1.0])
        while len(blocks) > 1 and blocks[-2][0] >= blocks[-1][0]:
            mean_b, w_b, c_b = blocks.pop()
            mean_a, w_a, c_a = blocks[-1]
            weight_sum = w_a + w_b
            blocks[-1] = [(mean_a * w_a + mean_b * w_b) / weight_sum, weight_sum, c_a + c_b]
    ys: list[float] = []
    for mean, _weight, count in blocks:
        ys.extend([min(max(mean, 0.0), 1.0)] * int(count))
    keep = [True] * len(ys)
    for i in range(1, len(ys) - 1):
        keep[i] = ys[i] != ys[i - 1] or ys[i] != ys[i + 1]
    return [x for x, k in zip(xs, keep, strict=True) if k], [y for y, k in zip(ys, keep, strict=True) if k]


def _interpolate(x: float, xs: Sequence[float], ys: Sequence[float]) -> float:
    if len(xs) == 1:
        return ys[0]
    x = min(max(x, xs[0]), xs[-1])
    lo, hi = 0, len(xs) - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if xs[mid] <= x:
            lo = mid
        else:
            hi = mid
    if xs[hi] == xs[lo]:
        return ys[lo]
    t = (x - xs[lo]) / (xs[hi] - xs[lo])
    return ys[lo] + t * (ys[hi] - ys[lo])


@dataclass(frozen=True)
class CalibrationMap:
    """A fitted map from the judge's probability of *true* to a calibrated one."""

    method: str
    params: Mapping[str, Any]
    n_train: int = 0

    def probability_true(self, q: float) -> float:
        """The calibrated probability that the answer is true, from ``q = p_true / coverage``."""
        if self.method == "platt":
            return _sigmoid(float(self.params["a"]) * _logit(q) + float(self.params["b"]))
        if self.method == "isotonic":
            return _interpolate(q, self.params["x"], self.params["y"])
        raise ValueError(f"unknown calibration method {self.method!r}; valid methods are platt, isotonic")

    def confidence(self, value: bool | None, p_true: float, coverage: float) -> float | None:
        """The calibrated confidence of a verdict; None when it is undecided."""
        if value is None:
            return None
        q = p_true / coverage if coverage > 0 else 0.5
        calibrated = self.probability_true(q)
        return calibrated if value else 1.0 - calibrated

    @classmethod
    def fit(cls, scores: Sequence[float], labels: Sequence[bool], method: str = "platt") -> CalibrationMap:
        if method == "platt":
            a, b = fit_platt(scores, labels)
            return cls("platt", {"a": a, "b": b}, len(scores))
        if method == "isotonic":
            xs, ys = fit_isotonic(scores, labels)
            return cls("isotonic", {"x": xs, "y": ys}, len(scores))
        raise ValueError(f"unknown calibration method {method!r}; valid methods are platt, isotonic")

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "n_train": self.n_train, **self.params}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CalibrationMap:
        method = str(data.get("method"))
        keys = {"platt": ("a", "b"), "isotonic": ("x", "y")}.get(method)
        if keys is None:
            raise ValueError(f"unknown calibration method {method!r}; valid methods are platt, isotonic")
        missing = [k for k in keys if k not in data]
        if missing:
            raise ValueError(f"a {method} map needs {', '.join(keys)}; missing {', '.join(missing)}")
        return cls(method, {k: data[k] for k in keys}, int(data.get("n_train", 0)))


def save_maps(path: Path, maps: Mapping[str, CalibrationMap], extra: Mapping[str, Any] | None = None) -> None:
    """Write ``{"version": 1, "models": {model: map}}`` atomically."""
    data = {"version": MAP_VERSION, "models": {m: cal.to_dict() for m, cal in sorted(maps.items())}}
    if extra:
        data.update(extra)
    write_atomic(path, json.dumps(data, indent=2) + "\n")


def load_maps(path: Path) -> dict[str, CalibrationMap]:
    """The maps of a calibration file, by model; a clear ValueError when it is not one."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(
            f"calibration file {path} does not exist; write one with "
            "`pytest-llmconfidence calibrate REPORT.json --out PATH`"
        ) from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"calibration file {path} is not valid JSON: {exc}") from None
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, dict):
        raise ValueError(f"calibration file {path} has no 'models' object; is it a calibration map?")
    try:
        return {str(model): CalibrationMap.from_dict(entry) for model, entry in models.items()}
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"calibration file {path}: {exc}") from None


# --- labelled verdicts --------------------------------------------------------------------------


@dataclass(frozen=True)
class Labelled:
    """One verdict whose truth is known."""

    model: str
    key: str
    expected: bool
    value: bool | None
    confidence: float
    p_true: float
    coverage: float

    @property
    def q(self) -> float:
        return self.p_true / self.coverage if self.coverage > 0 else 0.5

    @property
    def correct(self) -> bool:
        return self.value is self.expected


def labelled_from_records(records: Iterable[Mapping[str, Any]]) -> list[Labelled]:
    """The verdict records that carry an ``expected`` label."""
    result = []
    for record in records:
        if record.get("kind", "verdict") != "verdict" or record.get("expected") is None:
            continue
        result.append(
            Labelled(
                model=str(record.get("model", "")),
                key=f"{record.get('test_id', '')}::{record.get('question', '')}",
                expected=bool(record["expected"]),
                value=record.get("value"),
                confidence=float(record.get("confidence", 0.0)),
                p_true=float(record.get("p_true", 0.0)),
                coverage=float(record.get("coverage", 0.0)),
            )
        )
    return result


def metrics(
    items: Sequence[Labelled], confidences: Sequence[float], probabilities: Sequence[float], bins: int = 10
) -> dict[str, Any]:
    """Accuracy, ECE (equal mass), Brier, AUROC and the share right above each common threshold."""
    correct = [item.correct for item in items]
    labels = [item.expected for item in items]
    ece, diagram = ece_equal_mass(confidences, correct, bins)
    above = {}
    for threshold in THRESHOLDS:
        chosen = [ok for c, ok in zip(confidences, correct, strict=True) if c >= threshold]
        above[f"{threshold:g}"] = {
            "count": len(chosen),
            "right": (sum(chosen) / len(chosen)) if chosen else None,
        }
    return {
        "n": len(items),
        "accuracy": sum(correct) / len(correct),
        "ece": ece,
        "bins": len(diagram),
        "brier": brier_score(probabilities, labels),
        "auroc": auroc(probabilities, labels),
        "above": above,
        "reliability": [b.__dict__ for b in diagram],
    }


def split(
    items: Sequence[Labelled], seed: int = 0, train_fraction: float = 0.5
) -> tuple[list[Labelled], list[Labelled]]:
    """A deterministic, seeded split into training and held-out items (sorted by key first)."""
    ordered = sorted(items, key=lambda item: item.key)
    random.Random(seed).shuffle(ordered)
    cut = max(1, min(len(ordered) - 1, round(len(ordered) * train_fraction)))
    return ordered[:cut], ordered[cut:]


@dataclass
class ModelReport:
    model: str
    raw: dict[str, Any]
    held_out_raw: dict[str, Any] | None = None
    held_out_calibrated: dict[str, Any] | None = None
    map: CalibrationMap | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "all_raw": self.raw,
            "held_out_raw": self.held_out_raw,
            "held_out_calibrated": self.held_out_calibrated,
            "map": self.map.to_dict() if self.map else None,
            "notes": self.notes,
        }


def calibration_report(
    records: Iterable[Mapping[str, Any]],
    *,
    method: str = "platt",
    bins: int = 10,
    seed: int = 0,
    train_fraction: float = 0.5,
) -> list[ModelReport]:
    """Per model: raw metrics on every labelled verdict; a map fitted on a training split; raw and
    calibrated metrics on the held-out split."""
    by_model: dict[str, list[Labelled]] = {}
    for item in labelled_from_records(records):
        by_model.setdefault(item.model, []).append(item)
    reports = []
    for model, items in sorted(by_model.items()):
        report = ModelReport(model, metrics(items, [i.confidence for i in items], [i.q for i in items], bins))
        if len(items) < 4 or len({i.expected for i in items}) < 2:
            report.notes.append("too few labelled verdicts (need 4 or more, with both labels) to fit a map")
            reports.append(report)
            continue
        train, test = split(items, seed, train_fraction)
        if len({i.expected for i in train}) < 2:
            report.notes.append("the training split holds only one label; no map fitted")
            reports.append(report)
            continue
        fitted = CalibrationMap.fit([i.q for i in train], [i.expected for i in train], method)
        report.map = fitted
        report.held_out_raw = metrics(test, [i.confidence for i in test], [i.q for i in test], bins)
        calibrated_conf = [fitted.confidence(i.value, i.p_true, i.coverage) or 0.0 for i in test]
        calibrated_prob = [fitted.probability_true(i.q) for i in test]
        report.held_out_calibrated = metrics(test, calibrated_conf, calibrated_prob, bins)
        reports.append(report)
    return reports


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _metric_row(label: str, m: Mapping[str, Any]) -> str:
    shares = "  ".join(f">={t}: {_fmt(v['right'], 2)} of {v['count']}" for t, v in m["above"].items())
    return (
        f"  {label:<22} n={m['n']:<4} accuracy {m['accuracy']:.3f}  ECE {m['ece']:.3f} ({m['bins']} bins)  "
        f"Brier {m['brier']:.3f}  AUROC {_fmt(m['auroc'])}  right when confidence {shares}"
    )


def report_lines(reports: Sequence[ModelReport]) -> list[str]:
    """The calibration report as text lines, one block per model."""
    if not reports:
        return ["no labelled verdicts: give judge(..., expected=True/False) to measure calibration"]
    lines = []
    for report in reports:
        lines.append(f"model {report.model}")
        lines.append(_metric_row("all, raw", report.raw))
        if report.held_out_raw and report.held_out_calibrated and report.map:
            lines.append(_metric_row("held-out, raw", report.held_out_raw))
            lines.append(_metric_row(f"held-out, {report.map.method}", report.held_out_calibrated))
            if report.map.method == "platt":
                lines.append(
                    f"  map: platt a={report.map.params['a']:.4f} b={report.map.params['b']:.4f} "
                    f"(fitted on {report.map.n_train})"
                )
            else:
                lines.append(
                    f"  map: isotonic, {len(report.map.params['x'])} points (fitted on {report.map.n_train})"
                )
        lines.extend(f"  note: {note}" for note in report.notes)
    return lines


def calibrator(maps: Mapping[str, CalibrationMap]) -> Any:
    """A function giving each verdict of a mapped model its ``calibrated`` confidence."""

    def calibrate(verdict: Any) -> Any:
        fitted = maps.get(verdict.model)
        if fitted is None:
            return verdict
        value = fitted.confidence(verdict.value, verdict.p_true, verdict.coverage)
        return verdict.model_copy(update={"calibrated": value})

    return calibrate
