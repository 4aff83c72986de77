"""Panels: several judges asked the same verdict question, pooled. Pure.

The pooled ``p_true`` is the mean of the members' normalized p_true (each member's p_true over its
coverage, so a member that spread its probability over other words weighs as much as one that did not);
``agreement`` is the share of members whose value equals the panel's. Imported on first use of
``judge.panel``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

from .._text import fmt_probability, shorten, value_text
from .confidence import likelier
from .results import Check, JudgedResult, Verdict, total_usage

__all__ = ["PanelVerdict", "member_p_true", "pool"]


def member_p_true(verdict: Verdict) -> float:
    """A member's normalized p_true: its p_true over its coverage; 0.5 (no say) when it named no label."""
    return verdict.p_true / verdict.coverage if verdict.coverage > 0 else 0.5


def pool(
    verdicts: Sequence[Verdict],
    *,
    question: str,
    response: str | None = None,
    context: str | None = None,
    threshold: float = 0.9,
    models: Sequence[str] | None = None,
) -> PanelVerdict:
    """The panel's verdict: the mean normalized p_true, its value and confidence, and the agreement.

    ``models`` names the members as they were asked for (default: the model each verdict says answered;
    a server that serves one model under several names answers as that one).
    """
    if not verdicts:
        raise ValueError("a panel needs at least one verdict")
    names = tuple(models) if models is not None else tuple(verdict.model for verdict in verdicts)
    if len(names) != len(verdicts):
        raise ValueError(f"a panel of {len(verdicts)} verdicts needs as many model names, got {names!r}")
    p_true = math.fsum(member_p_true(verdict) for verdict in verdicts) / len(verdicts)
    p_false = 1.0 - p_true
    value, confidence = likelier(True, p_true, False, p_false)
    agreeing = sum(1 for verdict in verdicts if value is not None and verdict.value is value)
    return PanelVerdict(
        value=value,
        confidence=confidence,
        p_true=p_true,
        p_false=p_false,
        agreement=agreeing / len(verdicts),
        verdicts=tuple(verdicts),
        models=names,
        question=question,
        response=response,
        context=context,
        threshold=threshold,
        replayed=all(verdict.replayed for verdict in verdicts),
        usage=total_usage(verdict.usage for verdict in verdicts),
        latency_s=max(verdict.latency_s for verdict in verdicts),
    )


class PanelVerdict(JudgedResult):
    """Several judges' verdicts on one question, pooled.

    ``p_true`` is the mean of the members' normalized p_true (``p_false`` is the rest), ``value`` the
    pooled verdict (None when p_true is exactly 0.5), ``confidence`` its pooled probability,
    ``agreement`` the share of members whose value equals the panel's, ``verdicts`` one ``Verdict`` per
    model, in the order the models were given.
    """

    _bases_after: ClassVar[str] = "context"

    value: bool | None
    confidence: float
    p_true: float
    p_false: float
    agreement: float
    verdicts: tuple[Verdict, ...]
    models: tuple[str, ...]
    """The members' models as the panel asked for them, in order (``verdicts[i].model`` is who answered)."""
    question: str
    response: str | None = None
    context: str | None = None

    def _members_text(self) -> str:
        pairs = zip(self.models, self.verdicts, strict=True)
        return ", ".join(f"{name} {value_text(v.value)} {v.confidence:.2f}" for name, v in pairs)

    def _agreement_text(self) -> str:
        agreeing = round(self.agreement * len(self.verdicts))
        return f"{agreeing} of {len(self.verdicts)} agree"

    def _check(self, want: bool, threshold: float | None) -> Check:
        needed = self.threshold if threshold is None else float(threshold)
        if not 0.0 <= needed <= 1.0:
            raise ValueError(f"threshold must be between 0 and 1, got {threshold!r}")
        name = "confident_true" if want else "confident_false"
        passed = self.value is want and self.confidence >= needed
        if self.value is None:
            facts = "panel undecided (p_true 0.50)"
        else:
            facts = f"panel {value_text(self.value)} at {fmt_probability(self.confidence, needed)}"
        why = f"{self._agreement_text()}: {self._members_text()}"
        return self._threshold_check(name, passed, needed, self.confidence, facts, value_text(want), why)

    def confident_true(self, threshold: float | None = None) -> Check:
        """A check that holds when the panel's verdict is true with ``confidence >= threshold``."""
        return self._check(True, threshold)

    def confident_false(self, threshold: float | None = None) -> Check:
        """A check that holds when the panel's verdict is false with ``confidence >= threshold``."""
        return self._check(False, threshold)

    def __bool__(self) -> bool:
        raise TypeError(
            "a PanelVerdict has no truth value of its own: assert panel.confident_true(0.9), "
            "panel.confident_false(0.9), or compare panel.value"
        )

    def __repr__(self) -> str:
        return (
            f"<PanelVerdict {value_text(self.value)} {self.confidence:.2f} (p_true {self.p_true:.2f}; "
            f"{self._agreement_text()}: {self._members_text()}); q={shorten(self.question, 100)!r}>"
        )

    __str__ = __repr__

    def describe(self) -> str:
        """Every fact on a few lines (the members' own verdicts are listed beside it)."""
        lines = [f"question:   {self.question}"]
        if self.response is not None:
            lines.append(f"response:   {shorten(self.response, 200)}")
        lines.append(
            f"panel:      {value_text(self.value)} at {self.confidence:.4f} (p_true {self.p_true:.4f}; "
            f"threshold {self.threshold:.2f}); {self._agreement_text()}"
        )
        for name, verdict in zip(self.models, self.verdicts, strict=True):
            lines.append(
                f"  {name}: {value_text(verdict.value)} {verdict.confidence:.4f} "
                f"(normalized p_true {member_p_true(verdict):.4f}, coverage {verdict.coverage:.4f})"
            )
        lines.extend(f"check:      {check.text}" for check in self._checks)
        return "\n".join(lines)

    def to_record(self) -> dict[str, Any]:
        """A JSON-able dict (kind ``"panel"``): the pooled numbers, each member in brief, the checks.

        The members' verdicts are recorded on their own as verdicts; here each is its model, value,
        confidence, normalized p_true and coverage.
        """
        data = self.model_dump(mode="json", exclude={"verdicts"})
        data["kind"] = "panel"
        data["members"] = [
            {
                "model": name,
                "value": verdict.value,
                "confidence": verdict.confidence,
                "p_true": member_p_true(verdict),
                "coverage": verdict.coverage,
            }
            for name, verdict in zip(self.models, self.verdicts, strict=True)
        ]
        data["checks"] = [check.to_dict() for check in self._checks]
        return data
