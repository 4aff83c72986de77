"""Calibration figures: accuracy, ECE, Brier, AUROC, the share right above a threshold, and their seeded
bootstrap 95 % intervals. Pure Python, no numpy.
"""

from __future__ import annotations

import itertools
import math
import random
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .labelled import Labelled

__all__ = [
    "RESAMPLES",
    "TARGETS",
    "THRESHOLDS",
    "Bin",
    "auroc",
    "bootstrap_intervals",
    "brier_score",
    "candidates_of",
    "ece_equal_mass",
    "metrics",
    "thresholds_for",
]

THRESHOLDS = (0.8, 0.9, 0.95, 0.99)
"""The fixed thresholds of the "right when confidence >= t" shares."""
TARGETS = (0.9, 0.95, 0.99)
"""The shares right for which the report finds the lowest threshold that reaches them."""
RESAMPLES = 1000
"""Bootstrap resamples per interval: the 2.5 % and 97.5 % percentiles then move by about 0.005."""
LEVEL = 0.95
_Z = NormalDist().inv_cdf(0.5 + LEVEL / 2)


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


def candidates_of(confidences: Sequence[float], correct: Sequence[bool]) -> list[tuple[float, int, int]]:
    """(threshold, verdicts at or above, right at or above) at each distinct confidence above 0, highest
    first (an undecided verdict, confidence 0, reaches no threshold)."""
    ordered = sorted(
        ((c, ok) for c, ok in zip(confidences, correct, strict=True) if c > 0), key=lambda pair: -pair[0]
    )
    result: list[tuple[float, int, int]] = []
    right = 0
    for index, (confidence, ok) in enumerate(ordered):
        right += 1 if ok else 0
        if index + 1 == len(ordered) or ordered[index + 1][0] != confidence:
            result.append((confidence, index + 1, right))
    return result


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
    candidates = candidates_of([c if d else 0.0 for c, d in zip(confidences, decided, strict=True)], correct)
    result = []
    for target in targets:
        found = [c for c in candidates if c[2] >= target * c[1] - 1e-12]
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
