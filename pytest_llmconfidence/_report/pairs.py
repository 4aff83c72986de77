"""What the run's comparisons and panels add up to. Pure.

Comparisons (kind ``"comparison"``, from ``judge.compare``): how many, how many the order decided (the
two orders chose different responses, or one chose none), the mean position bias. Panels (kind
``"panel"``, from ``judge.panel``): per pair of models, how often they agreed over the run and Cohen's
kappa (agreement beyond what their own rates of true and false would give by chance).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._text import plural
from .figures import failed_checks, failed_text

__all__ = ["ComparisonStats", "PairAgreement", "cohen_kappa", "comparison_stats", "panel_agreement"]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return None
    return float(value)


@dataclass(frozen=True)
class ComparisonStats:
    """The run's comparisons: how many, how many inconsistent across orders, the mean position bias."""

    count: int
    inconsistent: int
    position_bias: float | None
    checks: int
    checks_failed: int
    checks_xfailed: int = 0
    """Checks that failed in tests marked xfail, as those tests expect."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "inconsistent": self.inconsistent,
            "mean_position_bias": self.position_bias,
            "checks": self.checks,
            "checks_failed": self.checks_failed,
            "checks_xfailed": self.checks_xfailed,
        }

    def line(self) -> str:
        """``3 comparisons: 1 inconsistent across orders; mean position bias +0.12; 0 of 2 checks failed``."""
        bias = "-" if self.position_bias is None else f"{self.position_bias:+.2f}"
        return (
            f"{plural(self.count, 'comparison')} (both orders): {self.inconsistent} inconsistent across "
            f"orders; mean position bias {bias}; "
            f"{failed_text(self.checks, self.checks_failed, self.checks_xfailed)}"
        )


def comparison_stats(records: Sequence[Mapping[str, Any]]) -> ComparisonStats:
    """The aggregates of comparison records."""
    biases = [b for b in (_number(r.get("position_bias")) for r in records) if b is not None]
    checks, failed, expected = failed_checks(records)
    return ComparisonStats(
        count=len(records),
        inconsistent=sum(1 for r in records if not r.get("consistent")),
        position_bias=math.fsum(biases) / len(biases) if biases else None,
        checks=checks,
        checks_failed=failed,
        checks_xfailed=expected,
    )


def cohen_kappa(pairs: Sequence[tuple[Any, Any]]) -> float | None:
    """Cohen's kappa of two raters' labels (``(first's, second's)`` per item): (p_o - p_e) / (1 - p_e).

    None when there is nothing to rate or chance alone explains all agreement (both always gave one and
    the same label: p_e = 1).
    """
    n = len(pairs)
    if not n:
        return None
    observed = sum(1 for x, y in pairs if x == y) / n
    first = Counter(x for x, _ in pairs)
    second = Counter(y for _, y in pairs)
    expected = math.fsum(first[label] * second[label] for label in first) / (n * n)
    if expected >= 1.0 - 1e-12:
        return None
    return (observed - expected) / (1.0 - expected)


@dataclass(frozen=True)
class PairAgreement:
    """Two models of the run's panels: on how many panels both sat, how often they agreed, and kappa."""

    first: str
    second: str
    panels: int
    agreed: int
    kappa: float | None

    @property
    def agreement(self) -> float | None:
        return self.agreed / self.panels if self.panels else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "models": [self.first, self.second],
            "panels": self.panels,
            "agreed": self.agreed,
            "agreement": self.agreement,
            "kappa": self.kappa,
        }

    def line(self) -> str:
        """``  m1 ~ m2: agreed on 9 of 10 panels (0.90), kappa 0.78``."""
        share = "-" if self.agreement is None else f"{self.agreement:.2f}"
        kappa = "n/a (one label only)" if self.kappa is None else f"{self.kappa:.2f}"
        return (
            f"  {self.first} ~ {self.second}: agreed on {self.agreed} of {plural(self.panels, 'panel')} "
            f"({share}), kappa {kappa}"
        )


def _members(record: Mapping[str, Any]) -> dict[str, Any]:
    """A panel record's members as ``{model: value}`` (the first member of a model, if it sat twice)."""
    found: dict[str, Any] = {}
    for member in record.get("members") or ():
        if isinstance(member, Mapping) and "model" in member:
            found.setdefault(str(member["model"]), member.get("value"))
    return found


def panel_agreement(records: Sequence[Mapping[str, Any]]) -> list[PairAgreement]:
    """Per pair of models (in the order the models first sat), their agreement over the run's panels."""
    order: list[str] = []
    members = [_members(record) for record in records]
    for found in members:
        order.extend(model for model in found if model not in order)
    pairs = []
    for i, first in enumerate(order):
        for second in order[i + 1 :]:
            rated = [(m[first], m[second]) for m in members if first in m and second in m]
            if not rated:
                continue
            agreed = sum(1 for x, y in rated if x == y)
            pairs.append(PairAgreement(first, second, len(rated), agreed, cohen_kappa(rated)))
    return pairs


def panel_line(records: Sequence[Mapping[str, Any]]) -> str:
    """``2 panels: mean agreement 0.83; 0 of 2 checks failed``."""
    shares = [a for a in (_number(r.get("agreement")) for r in records) if a is not None]
    mean = f"{math.fsum(shares) / len(shares):.2f}" if shares else "-"
    undecided = sum(1 for r in records if r.get("value") is None)
    return (
        f"{plural(len(records), 'panel')}: mean agreement {mean}; {undecided} undecided; "
        f"{failed_text(*failed_checks(records))}"
    )


def panels_summary(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The panels' aggregates for the JSON report."""
    shares = [a for a in (_number(r.get("agreement")) for r in records) if a is not None]
    checks, failed, expected = failed_checks(records)
    return {
        "count": len(records),
        "mean_agreement": math.fsum(shares) / len(shares) if shares else None,
        "undecided": sum(1 for r in records if r.get("value") is None),
        "checks": checks,
        "checks_failed": failed,
        "checks_xfailed": expected,
        "pairs": [pair.to_dict() for pair in panel_agreement(records)],
    }
