"""Labelled verdicts and scores: the records whose truth is known, read from a report, and their split."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["CHOICES", "VERDICTS", "Labelled", "labelled_from_records", "score_question", "split"]

VERDICTS = "verdicts"
CHOICES = "choices"
"""The question of a model's labelled choices: was the chosen option the expected one."""


def score_question(label: str, scale: Sequence[str]) -> str:
    """The name of the "score >= k" question of a scale: ``score >= 4 (scale 1..5)``."""
    return f"score >= {label} (scale {scale[0]}..{scale[-1]})"


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
                question=score_question(scale[k], scale),
                at_least=scale[k],
            )
        )
    return items


def _choice_item(record: Mapping[str, Any], expected: str) -> Labelled:
    """A labelled choice as a labelled verdict on "the chosen option is the expected one": decided when
    the choice is, right when it chose the expected option, at the choice's confidence."""
    chosen = record.get("value")
    confidence = float(record.get("confidence", 0.0) or 0.0)
    return Labelled(
        model=str(record.get("model", "")),
        key=f"{record.get('test_id', '')}::{record.get('question', '')}",
        expected=chosen is not None and str(chosen) == expected,
        value=None if chosen is None else True,
        confidence=confidence,
        p_true=confidence,
        coverage=1.0,
        question=CHOICES,
    )


def labelled_from_records(
    records: Iterable[Mapping[str, Any]], skipped: list[str] | None = None
) -> list[Labelled]:
    """The verdict records that carry an ``expected`` label, the "score >= k" questions of the score
    records that do, and the choice records that carry an ``expected_option``. Score records whose
    expected label is not on their scale are named in ``skipped`` (when given)."""
    result = []
    for record in records:
        kind = record.get("kind", "verdict")
        field = {"score": "expected_label", "choice": "expected_option"}.get(kind, "expected")
        label = record.get(field)
        if label is None or kind not in ("verdict", "score", "choice"):
            continue
        if kind == "choice":
            result.append(_choice_item(record, str(label)))
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
