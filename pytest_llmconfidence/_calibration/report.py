"""Calibration: does a confidence of 0.9 mean right nine times in ten? Pure Python, no numpy.

The score calibrated is the judge's probability that the answer is *true*, normalised over the verdict
labels: ``q = p_true / coverage``. A map ``f`` (Platt scaling on ``logit(q)``, or isotonic regression)
turns it into a calibrated probability; the calibrated confidence of a verdict is ``f(q)`` for a true
verdict and ``1 - f(q)`` for a false one. A labelled score is calibrated on each "score >= k" question.

Every figure carries a seeded bootstrap 95 % interval; the report says in words what the numbers mean,
and refuses maps that would invert the judge's ranking or that too few labelled items support.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import Any

from .._files import write_atomic

__all__ = [
    "MIN_PER_LABEL",
    "RESAMPLES",
    "TARGETS",
    "THRESHOLDS",
    "VERDICTS",
    "CalibrationMap",
    "Labelled",
    "ModelReport",
    "auroc",
    "bootstrap_intervals",
    "brier_score",
    "calibration_report",
    "calibrator",
    "confidence_direction",
    "confidence_sentence",
    "ece_equal_mass",
    "fit_isotonic",
    "fit_platt",
    "labelled_from_records",
    "legend",
    "load_maps",
    "metrics",
    "ranking",
    "ranking_sentence",
    "report_lines",
    "save_maps",
    "split",
    "threshold_sentence",
    "thresholds_for",
]

THRESHOLDS = (0.8, 0.9, 0.95, 0.99)
"""The fixed thresholds of the "right when confidence >= t" shares."""
TARGETS = (0.9, 0.95, 0.99)
"""The shares right for which the report finds the lowest threshold that reaches them."""
RESAMPLES = 1000
"""Bootstrap resamples per interval: the 2.5 % and 97.5 % percentiles then move by about 0.005."""
MIN_PER_LABEL = 20
"""Labelled items of each label a map's training split needs: a Platt map has two parameters, and a
logistic fit wants about ten items of the rarer label per parameter."""
LEVEL = 0.95
MAP_VERSION = 1
_Z = NormalDist().inv_cdf(0.5 + LEVEL / 2)


# --- metrics ------------------------------------------------------------------------------------


def _same_length(a: Sequence[Any], b: Sequence[Any]) -> None:
    if len(a) != len(b):
        raise ValueError(f"expected sequences of the same length, got {len(a)} and {len(b)}")
    if not a:
        raise ValueError("expected at least one labelled verdict")


def _groups(values: Sequence[float]) -> tuple[list[float], list[int]]:
    """The distinct values, ascending, and the index of each item's value among them."""
    distinct = sorted(set(values))
    index = {value: g for g, value in enumerate(distinct)}
    return distinct, [index[value] for value in values]


def brier_score(probabilities: Sequence[float], labels: Sequence[bool]) -> float:
    """Mean squared error of the probability of the positive class (scikit-learn's brier_score_loss)."""
    _same_length(probabilities, labels)
    return math.fsum((p - float(y)) ** 2 for p, y in zip(probabilities, labels, strict=True)) / len(labels)


def _auroc_of_groups(positives: Sequence[int], negatives: Sequence[int]) -> float | None:
    """AUROC from the count of each label per distinct score, scores ascending (ties count half)."""
    total_positive = sum(positives)
    total_negative = sum(negatives)
    if total_positive == 0 or total_negative == 0:
        return None
    below = 0
    area = 0.0
    for pos, neg in zip(positives, negatives, strict=True):
        if pos:
            area += pos * (below + 0.5 * neg)
        below += neg
    return area / (total_positive * total_negative)


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Area under the ROC curve (ties count half); None when only one class is present."""
    _same_length(scores, labels)
    distinct, group = _groups(scores)
    positives = [0] * len(distinct)
    negatives = [0] * len(distinct)
    for g, y in zip(group, labels, strict=True):
        if y:
            positives[g] += 1
        else:
            negatives[g] += 1
    return _auroc_of_groups(positives, negatives)


@dataclass(frozen=True)
class Bin:
    """One equal-mass bin of a reliability diagram."""

    count: int
    confidence: float
    accuracy: float
    low: float
    high: float


def _equal_mass_segments(counts: Sequence[int], bins: int) -> list[tuple[int, int]]:
    """Runs ``[start, end)`` of groups (distinct confidences, ascending) holding nearly equal counts.

    The cuts fall where ``numpy.array_split`` would cut the sorted items, moved to the nearest edge
    between two distinct confidences (the lower one when both are as near): tied items share a bin.
    """
    n = sum(counts)
    bins = max(1, min(bins, n))
    size, extra = divmod(n, bins)
    edges = list(itertools.accumulate(counts))
    cuts: list[int] = []
    for b in range(1, bins):
        target = b * size + min(b, extra)
        j = bisect_left(edges, target)
        if j > 0 and target - edges[j - 1] <= edges[j] - target:
            j -= 1
        if edges[j] < n and (not cuts or j + 1 > cuts[-1]):
            cuts.append(j + 1)
    bounds = [0, *cuts, len(counts)]
    return list(itertools.pairwise(bounds))


def _ece_of_groups(
    values: Sequence[float], counts: Sequence[int], rights: Sequence[int], bins: int
) -> tuple[float, list[tuple[int, int]]]:
    """ECE over the groups that hold items, and the bins as runs of those groups."""
    kept = [g for g, count in enumerate(counts) if count]
    held = [counts[g] for g in kept]
    right = [rights[g] for g in kept]
    stated = [values[g] * counts[g] for g in kept]
    segments = _equal_mass_segments(held, bins)
    total = 0.0
    for start, end in segments:
        total += abs(sum(right[start:end]) - sum(stated[start:end]))
    return total / sum(held), [(kept[start], kept[end - 1] + 1) for start, end in segments]


def ece_equal_mass(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = 10
) -> tuple[float, list[Bin]]:
    """Expected calibration error over ``bins`` bins of (nearly) equal count, sorted by confidence.

    ECE = sum over bins of (bin size / n) * |accuracy - mean confidence|. Without ties the sizes differ
    by at most one (the first ``n % bins`` bins hold one more), as ``numpy.array_split`` splits. Verdicts
    of equal confidence always share a bin (a boundary moves to the nearest change of confidence), so the
    ECE does not depend on the order of the input; there may then be fewer bins than asked for.
    """
    _same_length(confidences, correct)
    values, group = _groups(confidences)
    counts = [0] * len(values)
    rights = [0] * len(values)
    for g, ok in zip(group, correct, strict=True):
        counts[g] += 1
        rights[g] += 1 if ok else 0
    ece, segments = _ece_of_groups(values, counts, rights, bins)
    result = []
    for start, end in segments:
        size = sum(counts[start:end])
        stated = math.fsum(values[g] * counts[g] for g in range(start, end))
        result.append(Bin(size, stated / size, sum(rights[start:end]) / size, values[start], values[end - 1]))
    return ece, result


class _Sample:
    """Labelled items prepared for resampling: grouped once by equal confidence and by equal probability
    of true, so that each bootstrap resample only counts (no sorting per resample)."""

    def __init__(
        self,
        confidences: Sequence[float],
        correct: Sequence[bool],
        probabilities: Sequence[float],
        labels: Sequence[bool],
        bins: int,
    ) -> None:
        self.n = len(confidences)
        self.bins = bins
        self.conf_values, self.conf_group = _groups(confidences)
        self.prob_values, self.prob_group = _groups(probabilities)
        self.correct = [bool(ok) for ok in correct]
        self.labels = [bool(y) for y in labels]
        self.squared = [(p - float(y)) ** 2 for p, y in zip(probabilities, labels, strict=True)]
        self.confidences = [float(c) for c in confidences]

    def figures(self, indices: Iterable[int]) -> tuple[float, float, float, float | None, float]:
        """Accuracy, ECE, Brier, AUROC and the gap (mean confidence - accuracy) of the items drawn."""
        counts = [0] * len(self.conf_values)
        rights = [0] * len(self.conf_values)
        positives = [0] * len(self.prob_values)
        negatives = [0] * len(self.prob_values)
        conf_group, prob_group, correct, labels = self.conf_group, self.prob_group, self.correct, self.labels
        squared, confidences = self.squared, self.confidences
        squared_sum = stated = 0.0
        n = 0
        for i in indices:
            g = conf_group[i]
            counts[g] += 1
            if correct[i]:
                rights[g] += 1
            if labels[i]:
                positives[prob_group[i]] += 1
            else:
                negatives[prob_group[i]] += 1
            squared_sum += squared[i]
            stated += confidences[i]
            n += 1
        accuracy = sum(rights) / n
        mean_confidence = stated / n
        ece, _ = _ece_of_groups(self.conf_values, counts, rights, self.bins)
        return (
            accuracy,
            ece,
            squared_sum / n,
            _auroc_of_groups(positives, negatives),
            mean_confidence - accuracy,
        )


_FIGURES = ("accuracy", "ece", "brier", "auroc", "gap")


def _percentile(ordered: Sequence[float], share: float) -> float:
    """The ``share`` quantile of sorted values, interpolated linearly (numpy's default)."""
    position = (len(ordered) - 1) * share
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _bootstrap(sample: _Sample, resamples: int, seed: int) -> dict[str, list[float] | None]:
    draws: dict[str, list[float]] = {name: [] for name in _FIGURES}
    rnd = random.Random(seed)
    uniform = rnd.random
    n = sample.n
    for _ in range(resamples):
        indices = [int(uniform() * n) for _ in range(n)]
        for name, value in zip(_FIGURES, sample.figures(indices), strict=True):
            if value is not None:
                draws[name].append(value)
    intervals: dict[str, list[float] | None] = {}
    tail = (1 - LEVEL) / 2
    for name, values in draws.items():
        # AUROC is undefined in a resample holding one label: no interval when most are.
        if not values or len(values) < resamples / 2:
            intervals[name] = None
            continue
        values.sort()
        intervals[name] = [_percentile(values, tail), _percentile(values, 1 - tail)]
    return intervals


def bootstrap_intervals(
    confidences: Sequence[float],
    correct: Sequence[bool],
    probabilities: Sequence[float],
    labels: Sequence[bool],
    *,
    bins: int = 10,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> dict[str, list[float] | None]:
    """Seeded percentile-bootstrap 95 % intervals of accuracy, ECE, Brier, AUROC and the gap.

    Each resample draws ``n`` items with replacement (``random.Random(seed)``); the interval holds the
    middle 95 % of the figure over ``resamples`` resamples. ``gap`` is mean confidence minus accuracy.
    """
    _same_length(confidences, correct)
    sample = _Sample(confidences, correct, probabilities, labels, bins)
    return _bootstrap(sample, resamples, seed)


def _wilson(right: int, count: int, z: float = _Z) -> list[float]:
    """The Wilson score interval of a share ``right / count``."""
    share = right / count
    denominator = 1 + z * z / count
    centre = (share + z * z / (2 * count)) / denominator
    half = z * math.sqrt(share * (1 - share) / count + z * z / (4 * count * count)) / denominator
    return [max(0.0, centre - half), min(1.0, centre + half)]


def _threshold_text(chosen: float, others: Sequence[float]) -> tuple[float, int]:
    """The shortest threshold (two decimals or more) that selects exactly the confidences >= ``chosen``."""
    for digits in range(2, 7):
        scale = 10**digits
        shown = math.floor(chosen * scale + 1e-9) / scale
        if shown > chosen:
            shown = (math.floor(chosen * scale + 1e-9) - 1) / scale
        if not any(shown <= c < chosen for c in others):
            return shown, digits
    return chosen, 12


def thresholds_for(
    confidences: Sequence[float],
    correct: Sequence[bool],
    decided: Sequence[bool] | None = None,
    targets: Sequence[float] = TARGETS,
) -> list[dict[str, Any]]:
    """For each target share, the lowest threshold at which the verdicts at or above it were right at
    least that often, how many reach it, the share right and its Wilson 95 % interval.

    Undecided verdicts (``decided`` False) never pass a check, so they never reach a threshold.
    """
    decided = [True] * len(confidences) if decided is None else decided
    reaching = sorted(
        ((c, ok) for c, ok, d in zip(confidences, correct, decided, strict=True) if d), key=lambda p: -p[0]
    )
    # (threshold, count at or above, right at or above) for each distinct decided confidence
    candidates: list[tuple[float, int, int]] = []
    right = 0
    for index, (confidence, ok) in enumerate(reaching):
        right += 1 if ok else 0
        if index + 1 == len(reaching) or reaching[index + 1][0] != confidence:
            candidates.append((confidence, index + 1, right))
    result = []
    for target in targets:
        found = [c for c in candidates if c[0] > 0 and c[2] >= target * c[1] - 1e-12]
        entry: dict[str, Any] = {"target": target, "of": len(confidences), "threshold": None}
        if found:
            chosen, count, right = found[-1]
            shown, digits = _threshold_text(chosen, confidences)
            entry.update(
                threshold=shown,
                digits=digits,
                count=count,
                right=right / count,
                interval=_wilson(right, count),
            )
        result.append(entry)
    return result


def _reliability(diagram: Sequence[Bin]) -> list[dict[str, Any]]:
    """The bins as JSON, each with its accuracy's interval widened for the number of bins (Bonferroni)
    and the direction it departs from its stated confidence: ``over``, ``under`` or None."""
    if not diagram:
        return []
    z = NormalDist().inv_cdf(1 - (1 - LEVEL) / (2 * len(diagram)))
    result = []
    for b in diagram:
        low, high = _wilson(round(b.accuracy * b.count), b.count, z)
        direction = "over" if b.confidence > high else "under" if b.confidence < low else None
        result.append({**b.__dict__, "interval": [low, high], "direction": direction})
    return result


def metrics(
    items: Sequence[Labelled],
    confidences: Sequence[float],
    probabilities: Sequence[float],
    bins: int = 10,
    *,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> dict[str, Any]:
    """Accuracy, ECE (equal mass), Brier, AUROC and the gap, each with its 95 % interval; the share right
    above each common threshold; the thresholds that reach each target share; the reliability bins.

    The items are put in a canonical order first (by key), so that the bootstrap draws, and so the
    intervals, do not depend on the order the records came in (pytest-xdist workers report in any order).
    """
    order = sorted(
        range(len(items)), key=lambda i: (items[i].key, confidences[i], probabilities[i], items[i].expected)
    )
    items = [items[i] for i in order]
    confidences = [confidences[i] for i in order]
    probabilities = [probabilities[i] for i in order]
    correct = [item.correct for item in items]
    labels = [item.expected for item in items]
    sample = _Sample(confidences, correct, probabilities, labels, bins)
    accuracy, ece, brier, area, gap = sample.figures(range(len(items)))
    _, diagram = ece_equal_mass(confidences, correct, bins)
    above = {}
    for threshold in THRESHOLDS:
        chosen = [ok for c, ok in zip(confidences, correct, strict=True) if c >= threshold]
        above[f"{threshold:g}"] = {
            "count": len(chosen),
            "right": (sum(chosen) / len(chosen)) if chosen else None,
        }
    return {
        "n": len(items),
        "accuracy": accuracy,
        "ece": ece,
        "bins": len(diagram),
        "brier": brier,
        "auroc": area,
        "mean_confidence": math.fsum(confidences) / len(items),
        "gap": gap,
        "intervals": _bootstrap(sample, resamples, seed) if resamples else dict.fromkeys(_FIGURES),
        "above": above,
        "thresholds": thresholds_for(confidences, correct, [item.value is not None for item in items]),
        "reliability": _reliability(diagram),
    }


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


_METHODS = "valid methods are platt, isotonic"


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def _numbers(value: Any, what: str) -> list[float]:
    if not isinstance(value, list):
        raise ValueError(f"{what} must be a list of numbers, got {value!r}")
    return [_number(v, what) for v in value]


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
        raise ValueError(f"unknown calibration method {self.method!r}; {_METHODS}")

    def confidence(self, value: bool | None, p_true: float, coverage: float) -> float | None:
        """The calibrated confidence of a verdict; None when it is undecided."""
        if value is None:
            return None
        q = p_true / coverage if coverage > 0 else 0.5
        calibrated = self.probability_true(q)
        return calibrated if value else 1.0 - calibrated

    def refusal(self) -> str | None:
        """Why this map would mislead (None when it keeps the judge's ranking and is not flat).

        A Platt map with a slope at or below 0 turns the ranking upside down (or erases it); an isotonic
        map that is flat gives every verdict the same probability, whatever the judge said.
        """
        if self.method == "platt":
            a = float(self.params["a"])
            if not a > 0:
                return (
                    f"its slope a = {a:.4f} is not positive: a higher p_true / coverage would get a lower "
                    "calibrated probability of true, turning the judge's ranking upside down"
                )
            return None
        ys = list(self.params["y"])
        if len(ys) < 2 or max(ys) <= min(ys):
            return (
                f"it is flat: every verdict would get P(true) = {ys[0]:.3f}, whatever the judge said, so "
                "the judge's confidence has no order for it to keep"
            )
        return None

    @classmethod
    def fit(cls, scores: Sequence[float], labels: Sequence[bool], method: str = "platt") -> CalibrationMap:
        """Fit a map (check ``refusal()`` before using it)."""
        if method == "platt":
            a, b = fit_platt(scores, labels)
            return cls("platt", {"a": a, "b": b}, len(scores))
        if method == "isotonic":
            xs, ys = fit_isotonic(scores, labels)
            return cls("isotonic", {"x": xs, "y": ys}, len(scores))
        raise ValueError(f"unknown calibration method {method!r}; {_METHODS}")

    def describe(self) -> str:
        if self.method == "platt":
            return f"platt a={float(self.params['a']):.4f} b={float(self.params['b']):.4f}"
        return f"isotonic, {len(self.params['x'])} points"

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "n_train": self.n_train, **self.params}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CalibrationMap:
        """A map from its JSON; a ValueError when it is malformed or would mislead (see ``refusal``)."""
        method = str(data.get("method"))
        keys = {"platt": ("a", "b"), "isotonic": ("x", "y")}.get(method)
        if keys is None:
            raise ValueError(f"unknown calibration method {method!r}; {_METHODS}")
        missing = [k for k in keys if k not in data]
        if missing:
            raise ValueError(f"a {method} map needs {', '.join(keys)}; missing {', '.join(missing)}")
        params: dict[str, Any]
        if method == "platt":
            params = {"a": _number(data["a"], "a platt map's a"), "b": _number(data["b"], "a platt map's b")}
        else:
            xs = _numbers(data["x"], "an isotonic map's x")
            ys = _numbers(data["y"], "an isotonic map's y")
            if len(xs) != len(ys) or not xs:
                raise ValueError(
                    f"an isotonic map needs as many x as y, at least one; got {len(xs)} and {len(ys)}"
                )
            if any(b <= a for a, b in itertools.pairwise(xs)):
                raise ValueError("an isotonic map's x must increase")
            if any(b < a for a, b in itertools.pairwise(ys)) or not all(0 <= y <= 1 for y in ys):
                raise ValueError("an isotonic map's y must be probabilities that never decrease")
            params = {"x": xs, "y": ys}
        fitted = cls(method, params, int(data.get("n_train", 0)))
        reason = fitted.refusal()
        if reason is not None:
            raise ValueError(
                f"the {method} map is refused: {reason}; fit a new one with `pytest-llmconfidence calibrate`"
            )
        return fitted


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


# --- labelled verdicts and scores ---------------------------------------------------------------

VERDICTS = "verdicts"


@dataclass(frozen=True)
class Labelled:
    """One verdict whose truth is known (or one "score >= k" question of a labelled score)."""

    model: str
    key: str
    expected: bool
    value: bool | None
    confidence: float
    p_true: float
    coverage: float
    question: str = VERDICTS
    at_least: str | None = None
    """The label k of a "score >= k" question; None for a verdict."""

    @property
    def q(self) -> float:
        return self.p_true / self.coverage if self.coverage > 0 else 0.5

    @property
    def correct(self) -> bool:
        return self.value is self.expected


def _score_items(record: Mapping[str, Any]) -> list[Labelled] | None:
    """The "score >= k" questions of a labelled score record, for each label k but the lowest.

    P(score >= k) is the distribution's mass on labels >= k, renormalised over the scale; the answer is
    right when the expected label is >= k too. None when the record is not usable (its expected label is
    not on its scale). The user's label is ``expected_label``: a score's ``expected`` is the mean of the
    scale under the distribution, not a label.
    """
    scale = [str(label) for label in record.get("scale") or ()]
    distribution = record.get("distribution") or {}
    expected = str(record["expected_label"])
    if len(scale) < 2 or expected not in scale or not isinstance(distribution, Mapping):
        return None
    mass = [max(0.0, float(distribution.get(label, 0.0) or 0.0)) for label in scale]
    truth = scale.index(expected)
    on_scale = f" (scale {scale[0]}..{scale[-1]})"
    items = []
    for k in range(1, len(scale)):
        at_least = math.fsum(mass[k:])
        below = math.fsum(mass[:k])
        value = None if at_least == below else at_least > below
        items.append(
            Labelled(
                model=str(record.get("model", "")),
                key=f"{record.get('test_id', '')}::{record.get('question', '')}",
                expected=truth >= k,
                value=value,
                confidence=0.0 if value is None else max(at_least, below),
                p_true=at_least,
                coverage=at_least + below,
                question=f"score >= {scale[k]}{on_scale}",
                at_least=scale[k],
            )
        )
    return items


def labelled_from_records(
    records: Iterable[Mapping[str, Any]], skipped: list[str] | None = None
) -> list[Labelled]:
    """The verdict records that carry an ``expected`` label, and the "score >= k" questions of the
    score records that do. Score records whose expected label is not on their scale are named in
    ``skipped`` (when given)."""
    result = []
    for record in records:
        kind = record.get("kind", "verdict")
        label = record.get("expected_label") if kind == "score" else record.get("expected")
        if label is None or kind not in ("verdict", "score"):
            continue
        if kind == "score":
            items = _score_items(record)
            if items is None:
                if skipped is not None:
                    skipped.append(str(record.get("test_id", "?")))
                continue
            result.extend(items)
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


def split(
    items: Sequence[Labelled], seed: int = 0, train_fraction: float = 0.5
) -> tuple[list[Labelled], list[Labelled]]:
    """A deterministic, seeded split into training and held-out items, stratified by label: each label's
    items (sorted by key first) are shuffled and ``train_fraction`` of them, rounded, go to training."""
    rnd = random.Random(seed)
    train: list[Labelled] = []
    test: list[Labelled] = []
    for label in (True, False):
        ordered = sorted((item for item in items if item.expected is label), key=lambda item: item.key)
        rnd.shuffle(ordered)
        cut = round(len(ordered) * train_fraction)
        if len(ordered) >= 2:
            cut = max(1, min(len(ordered) - 1, cut))
        train.extend(ordered[:cut])
        test.extend(ordered[cut:])
    return train, test


# --- the report ---------------------------------------------------------------------------------


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

    @property
    def title(self) -> str:
        return self.model if self.question == VERDICTS else f"{self.model}, {self.question}"

    @property
    def header(self) -> str:
        noun = "verdicts" if self.question == VERDICTS else "scores"
        true, false = self.labels
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
) -> list[ModelReport]:
    """Per model: raw metrics with 95 % intervals on every labelled verdict and a sentence on what they
    mean; a map fitted on a stratified training split when each label has ``min_per_label`` items there,
    refused when it would mislead; raw and calibrated metrics on the held-out split. Labelled scores are
    reported per model and per "score >= k" question, without a map."""
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
        if question == VERDICTS:
            report.sentences = [ranking_sentence(report.raw), confidence_sentence(report.raw)]
            _fit_map(report, items, method, bins, train_fraction)
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
        lines.extend(f"  note: {note}" for note in report.notes)
    return lines


def calibrator(maps: Mapping[str, CalibrationMap]) -> Callable[[Any], Any]:
    """A function giving each verdict of a mapped model its ``calibrated`` confidence."""

    def calibrate(verdict: Any) -> Any:
        fitted = maps.get(verdict.model)
        if fitted is None:
            return verdict
        value = fitted.confidence(verdict.value, verdict.p_true, verdict.coverage)
        return verdict.model_copy(update={"calibrated": value})

    return calibrate
