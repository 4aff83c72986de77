"""Certified thresholds: the lowest confidence whose verdicts are right at least a target share of the
time, with a finite-sample guarantee over the draw of the labelled set. Pure Python, no scipy.

The method is Learn-then-Test (Angelopoulos et al. 2021) with fixed-sequence testing, as in "Trust or
Escalate" (Jung et al. 2024): the candidate thresholds are the labelled verdicts' distinct confidences,
highest first. At each, the null hypothesis "verdicts at or above it are right less than ``accuracy`` of
the time" is tested with the exact one-sided binomial tail (the Clopper-Pearson bound); the sequence
stops at the first candidate it cannot reject, and the certificate is the last one rejected. Testing in a
fixed order needs no correction for the number of candidates: the chance that the certified threshold's
accuracy is below the target is at most ``delta``.

The sequence starts at the first candidate reached by ``start_count`` verdicts: fewer could not pass
with a few errors among them, and testing them would only end the sequence early. The start depends on
the number of verdicts only, never on their labels, so the guarantee holds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .metrics import _threshold_text, candidates_of

if TYPE_CHECKING:
    from .labelled import Labelled

__all__ = [
    "DELTA",
    "Certificate",
    "binomial_tail",
    "certify",
    "certify_counts",
    "lower_bound",
    "start_count",
]

DELTA = 0.1
"""The default chance that a certificate is wrong."""
MOST_CONFIDENT = 20
"""Without a certificate, the best share right is read over at least this many most confident verdicts."""


def _continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz's method)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = tiny if abs(d) < tiny else d
    d = 1.0 / d
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = tiny if abs(d) < tiny else d
        c = 1.0 + aa / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = tiny if abs(d) < tiny else d
        c = 1.0 + aa / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        step = d * c
        h *= step
        if abs(step - 1.0) < 1e-15:
            break
    return h


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _continued_fraction(b, a, 1.0 - x) / b


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p): the p-value of ``k`` right of ``n`` against "right < p"."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    return _incomplete_beta(k, n - k + 1, p)


def lower_bound(k: int, n: int, delta: float = DELTA) -> float:
    """The one-sided Clopper-Pearson lower bound of a share: with ``k`` right of ``n``, the true share is
    at least this with probability ``1 - delta``."""
    if k <= 0:
        return 0.0
    low, high = 0.0, 1.0
    for _ in range(60):
        middle = (low + high) / 2
        if binomial_tail(k, n, middle) > delta:
            high = middle
        else:
            low = middle
    return low


def _passes(right: int, count: int, accuracy: float, delta: float) -> bool:
    return count > 0 and binomial_tail(right, count, accuracy) <= delta


def start_count(accuracy: float, delta: float = DELTA) -> int:
    """The fewest verdicts the first candidate threshold needs: enough that a record wrong half as often
    as the target allows would pass (for 90 % at delta 0.1: 95 % right of 59 passes)."""
    good = 1.0 - (1.0 - accuracy) / 2
    n = max(1, math.ceil(math.log(delta) / math.log(accuracy)))
    while not _passes(math.floor(good * n), n, accuracy, delta):
        n += max(1, n // 64)
    while n > 1 and _passes(math.floor(good * (n - 1)), n - 1, accuracy, delta):
        n -= 1
    return n


def _needed_at(share: float, accuracy: float, delta: float) -> int | None:
    """The fewest verdicts right ``share`` of the time that would pass; None when the share is too low."""
    if share <= accuracy:
        return None
    high = 1
    while not _passes(math.floor(share * high), high, accuracy, delta):
        high *= 2
        if high > 10**9:
            return None
    low = high // 2
    while high - low > 1:
        middle = (low + high) // 2
        if _passes(math.floor(share * middle), middle, accuracy, delta):
            high = middle
        else:
            low = middle
    return high


@dataclass(frozen=True)
class Certificate:
    """The certified threshold of one model (on one question) for one target accuracy."""

    accuracy: float
    delta: float
    threshold: float | None
    """Verdicts at or above it are right at least ``accuracy`` of the time, with probability at least
    ``1 - delta``; None when the labelled set cannot certify any threshold."""
    coverage: float
    """The share of labelled verdicts at or above the threshold (0 without one)."""
    n: int
    """Labelled verdicts the certificate was made from."""
    reaching: int = 0
    right: int = 0
    needed: int | None = None
    """Without a threshold: about how many labelled verdicts like these would certify one (None: no
    amount, the most confident verdicts are not right often enough)."""
    best: float | None = None
    """Without a threshold: the best share right among the most confident verdicts tested."""
    hopeless: bool = False
    """Without a threshold: even the upper confidence bound of the best share is below the accuracy, so
    more labelled verdicts like these would not help."""
    digits: int = 2

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "accuracy": self.accuracy,
            "delta": self.delta,
            "threshold": self.threshold,
            "coverage": self.coverage,
            "n": self.n,
            "reaching": self.reaching,
            "right": self.right,
        }
        if self.threshold is None:
            data["needed"] = self.needed
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Certificate:
        """A certificate from its JSON; a ValueError naming what is wrong."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a certificate must be an object, got {data!r}")
        values: dict[str, Any] = {}
        for key in ("accuracy", "delta", "coverage"):
            value = data.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ValueError(f"a certificate's {key} must be a number from 0 to 1, got {value!r}")
            values[key] = float(value)
        threshold = data.get("threshold")
        if threshold is not None and (
            isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1
        ):
            raise ValueError(
                f"a certificate's threshold must be a number from 0 to 1 or null, got {threshold!r}"
            )
        n = data.get("n")
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"a certificate's n must be a whole number, got {n!r}")
        return cls(
            values["accuracy"],
            values["delta"],
            None if threshold is None else float(threshold),
            values["coverage"],
            n,
            int(data.get("reaching", 0) or 0),
            int(data.get("right", 0) or 0),
        )

    @property
    def target(self) -> str:
        """``90 % accuracy (delta 0.10, 1,500 labelled)``"""
        return f"{self.accuracy * 100:g} % accuracy (delta {self.delta:.2f}, {self.n:,} labelled)"

    def sentence(self, noun: str = "verdicts") -> str:
        """The certificate in words, or why there is none and how many labelled verdicts would do."""
        share = f"{self.accuracy * 100:g} %"
        sure = f"{(1 - self.delta) * 100:g} %"
        if self.threshold is not None:
            return (
                f"certified {share} right (delta {self.delta:.2f}): confidence >= "
                f"{self.threshold:.{self.digits}f}, coverage {self.coverage:.2f} ({self.reaching:,} of "
                f"{self.n:,} {noun} reach it, right {self.right / self.reaching:.3f}; with {sure} "
                f"confidence, {noun} at or above it are right at least {share} of the time)"
            )
        head = f"{share} right (delta {self.delta:.2f}) cannot be certified from these {self.n:,} {noun}"
        least = f"a certificate needs at least {start_count(self.accuracy, self.delta):,} decided {noun}"
        if self.needed is not None:
            about = f"about {_about(self.needed):,} labelled {noun} like these would do"
            return f"{head}: {about} ({least} above it)"
        if self.best is None or not self.hopeless:
            best = (
                ""
                if self.best is None
                else f" (at best {self.best:.3f} of its most confident {noun} are right)"
            )
            return f"{head}: {least} above its threshold, mostly right{best}; label more {noun}"
        return (
            f"{head}: at best {self.best:.3f} of its most confident {noun} are right (at least "
            f"{min(MOST_CONFIDENT, self.n)} of them), so more labelled {noun} like these would not do; "
            "a better judge or prompt would"
        )


def certify_counts(
    candidates: Sequence[tuple[float, int, int]], n: int, accuracy: float, delta: float = DELTA
) -> tuple[int | None, int | None, float | None, bool]:
    """Fixed-sequence testing over ``candidates`` (threshold, verdicts at or above, right at or above),
    highest threshold first: the index of the certified candidate (None when none), and else about how
    many labelled verdicts would do, the best share right tested, and whether even its upper bound falls
    short of the accuracy."""
    start = start_count(accuracy, delta)
    chosen: int | None = None
    for index, (_, count, right) in enumerate(candidates):
        if count < start:
            continue
        if not _passes(right, count, accuracy, delta):
            break
        chosen = index
    if chosen is not None:
        return chosen, None, None, False
    least = min(MOST_CONFIDENT, candidates[-1][1]) if candidates else 1
    tested = [(count, right) for _, count, right in candidates if count >= least]
    best_count, best_right = max(tested, key=lambda pair: pair[1] / pair[0], default=(0, 0))
    best = best_right / best_count if best_count else None
    hopeless = bool(best_count) and 1 - lower_bound(best_count - best_right, best_count, delta) < accuracy
    needed: int | None = None
    step = max(1, len(tested) // 60)
    for count, right in tested[::step]:
        at = _needed_at(right / count, accuracy, delta)
        if at is not None:
            total = max(math.ceil(max(at, start) * n / count), n + 1)
            needed = total if needed is None else min(needed, total)
    return None, needed, best, hopeless


def certify(items: Sequence[Labelled], accuracy: float, delta: float = DELTA) -> Certificate:
    """The certificate of labelled verdicts (one model, one question) for ``accuracy`` at ``delta``.

    Undecided verdicts never pass a check, so they reach no threshold (they count in ``n``).
    """

    confidences = [item.confidence if item.value is not None else 0.0 for item in items]
    candidates = candidates_of(confidences, [item.correct for item in items])
    n = len(items)
    chosen, needed, best, hopeless = certify_counts(candidates, n, accuracy, delta)
    if chosen is None:
        return Certificate(accuracy, delta, None, 0.0, n, needed=needed, best=best, hopeless=hopeless)
    threshold, reaching, right = candidates[chosen]
    shown, digits = _threshold_text(threshold, confidences)
    return Certificate(accuracy, delta, shown, reaching / n, n, reaching, right, digits=min(digits, 6))


def check_accuracy(value: Any, what: str) -> float:
    """A target accuracy or a delta: a number strictly between 0 and 1; else a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < float(value) < 1.0:
        raise ValueError(f"{what} must be a number between 0 and 1 (such as 0.9), got {value!r}")
    return float(value)


def _about(count: int) -> int:
    """``count`` rounded up to two significant digits: 23,150 -> 24,000."""
    step: int = 10 ** max(0, len(str(count)) - 2)
    return -(-count // step) * step


def _percent(accuracy: float) -> str:
    return f"{accuracy * 100:g} %"


class Certified:
    """The certificates of a calibration file, found by model, question and accuracy, and the accuracy
    every check without a threshold asks for (``llm_certified``)."""

    def __init__(
        self,
        certificates: Mapping[str, Mapping[str, Sequence[Certificate]]],
        source: str,
        default: float | None = None,
    ) -> None:
        self.certificates = certificates
        self.source = source
        self.default = default

    def find(self, model: str, question: str, accuracy: float, what: str) -> Certificate:
        """The certificate of ``model`` on ``question`` for ``accuracy`` (the smallest delta when several);
        a ValueError saying how to make one when there is none."""
        held = self.certificates.get(model, {}).get(question, ())
        found = [c for c in held if abs(c.accuracy - accuracy) < 1e-9 and c.threshold is not None]
        if found:
            return min(found, key=lambda c: c.delta)
        others = sorted({_percent(c.accuracy) for c in held if c.threshold is not None})
        holds = f"; it holds {', '.join(others)}" if others else ""
        on = "" if question == "verdicts" else f" on {question}"
        raise ValueError(
            f"{what} needs a certified threshold for {_percent(accuracy)} accuracy of model {model!r}{on}, "
            f"and {self.source} has none{holds}. Label verdicts of this model "
            "(judge(..., expected=True/False)), run with --llm-report=report.json, then "
            f"`pytest-llmconfidence calibrate report.json --certify {accuracy:g} --out {self.source}`"
        )


def missing_certificates(what: str) -> ValueError:
    """The error of a certified check made without a calibration file."""
    return ValueError(
        f"{what} needs certified thresholds: set llm_calibration_file to a file written by "
        "`pytest-llmconfidence calibrate report.json --certify 0.9 --out calibration.json` "
        "(see docs/calibration.md, Certified thresholds)"
    )
