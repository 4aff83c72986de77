"""Pairwise comparison: which of two responses is better, asked in both orders. Pure.

Each order shows one response first as "Response A" and the other second as "Response B"; the model
answers one label, ``A`` or ``B``, read with the score's and the choice's maths (every spelling summed,
never renormalised). The ``Preference`` maps both orders back to the arguments ``a`` and ``b``.
Imported on first use of ``judge.compare``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel

from .._text import fmt_probability, shorten, value_text
from .confidence import Position, likelier
from .graded import read_distribution
from .prompts import question_parts
from .results import FROZEN, Alternative, Check, JudgedResult, Usage, total_usage

if TYPE_CHECKING:
    from .._settings import JudgeConfig

__all__ = [
    "PAIR_LABELS",
    "PairOrder",
    "Preference",
    "pair_order",
    "pair_order_from_completion",
    "pairwise_messages",
    "preference",
]

PAIR_LABELS = ("A", "B")
"""What the model answers: the label of the response shown first, or second."""

Side = Literal["a", "b"]

PAIRWISE_SYSTEM_PROMPT = (
    "You are a strict evaluator. You are given a question and two responses to it, Response A and "
    "Response B. Decide which response answers the question better. "
    "Reply with exactly one letter, A or B, and nothing else."
)


def pairwise_messages(
    question: str, response_a: str, response_b: str, context: str | None
) -> list[dict[str, str]]:
    """The default pairwise prompt: the context, Response A, Response B, the question; answer A or B."""
    parts = question_parts(question, None, context)
    parts[-1:-1] = [f"Response A:\n{response_a}", f"Response B:\n{response_b}"]
    parts.append("Which response is better? Answer with one letter: A or B.")
    return [
        {"role": "system", "content": PAIRWISE_SYSTEM_PROMPT},
        {"role": "user", "content": "\n\n".join(parts)},
    ]


def _other(side: Side) -> Side:
    return "b" if side == "a" else "a"


class PairOrder(BaseModel):
    """One of the two requests of a comparison: which argument was shown first, and what the model said.

    ``p_first``/``p_second`` are the probabilities of the labels ``A`` (the response shown first) and
    ``B`` at the label position, spellings summed, never renormalised; ``value`` is the argument this
    order chose (``"a"``, ``"b"``, or None when the two were equal).
    """

    model_config = FROZEN

    first: Side
    p_first: float
    p_second: float
    coverage: float
    value: Side | None
    confidence: float
    token: str
    position: int = 0
    alternatives: tuple[Alternative, ...] = ()
    model: str
    replayed: bool = False
    usage: Usage | None = None
    latency_s: float = 0.0

    @property
    def second(self) -> Side:
        return _other(self.first)

    @property
    def p_a(self) -> float:
        return self.p_first if self.first == "a" else self.p_second

    @property
    def p_b(self) -> float:
        return self.p_second if self.first == "a" else self.p_first

    @property
    def first_share(self) -> float | None:
        """The share of the label probability given to the response shown first; None with no label."""
        return self.p_first / self.coverage if self.coverage > 0 else None

    @property
    def name(self) -> str:
        """``A first`` (the argument ``a`` shown first) or ``B first``."""
        return f"{self.first.upper()} first"

    def said(self) -> str:
        """``A first chose a 0.70`` (or ``B first undecided``)."""
        if self.value is None:
            return f"{self.name} undecided"
        return f"{self.name} chose {self.value} {self.confidence:.2f}"

    def __repr__(self) -> str:
        return f"<PairOrder {self.said()} (p_first {self.p_first:.2f}, p_second {self.p_second:.2f})>"

    __str__ = __repr__


def pair_order(
    positions: Sequence[Position],
    first: Side,
    *,
    model: str,
    replayed: bool = False,
    usage: Usage | None = None,
    latency_s: float = 0.0,
) -> PairOrder:
    """What one order's answer says: the probability of ``A`` and ``B`` at the label position, mapped to
    the argument shown first (``first``) and second."""
    reading = read_distribution(positions, PAIR_LABELS)
    p_first, p_second = (reading.distribution[label] for label in PAIR_LABELS)
    value, confidence = likelier(first, p_first, _other(first), p_second)
    at = reading.position or (positions[0] if positions else None)
    return PairOrder(
        first=first,
        p_first=p_first,
        p_second=p_second,
        coverage=min(1.0, p_first + p_second),
        value=value,
        confidence=confidence,
        token=(at.token if at is not None else "") if reading.token is None else reading.token,
        position=at.index if at is not None else 0,
        alternatives=()
        if at is None
        else tuple(
            Alternative(token=token, probability=math.exp(logprob), logprob=logprob)
            for token, logprob in at.candidates()
        ),
        model=model,
        replayed=replayed,
        usage=usage,
        latency_s=latency_s,
    )


def pair_order_from_completion(
    completion: Any,
    first: Side,
    *,
    config: JudgeConfig,
    base_url: str = "the endpoint",
    replayed: bool = False,
    latency_s: float = 0.0,
) -> PairOrder:
    """One order of a comparison from its chat completion (a ``ChatCompletion`` or its JSON dict)."""
    __tracebackhide__ = True
    from .completion import read_completion, usage_of

    data, model, _, _, positions = read_completion(completion, config, base_url)
    return pair_order(
        positions,
        first,
        model=model,
        replayed=replayed,
        usage=usage_of(data.get("usage")),
        latency_s=latency_s,
    )


def preference(
    orders: tuple[PairOrder, PairOrder],
    *,
    question: str,
    response_a: str,
    response_b: str,
    context: str | None = None,
    threshold: float = 0.9,
) -> Preference:
    """The preference of two orders (``a`` first, then ``b`` first): each argument's mean probability.

    ``position_bias`` is the mean share of the label probability given to the response shown first,
    minus 0.5 (0 is fair, +0.2 a judge pulled to the first); an order with no label at all has no share
    and is left out (0 when neither has one).
    """
    p_a = math.fsum(order.p_a for order in orders) / len(orders)
    p_b = math.fsum(order.p_b for order in orders) / len(orders)
    value: Side | None
    value, confidence = likelier("a", p_a, "b", p_b)
    shares = [share for share in (order.first_share for order in orders) if share is not None]
    bias = math.fsum(shares) / len(shares) - 0.5 if shares else 0.0
    first, second = orders
    return Preference(
        p_a=p_a,
        p_b=p_b,
        value=value,
        confidence=confidence,
        consistent=first.value is not None and first.value == second.value,
        position_bias=bias,
        orders=orders,
        question=question,
        response_a=response_a,
        response_b=response_b,
        context=context,
        model=first.model,
        threshold=threshold,
        replayed=all(order.replayed for order in orders),
        usage=total_usage(order.usage for order in orders),
        latency_s=math.fsum(order.latency_s for order in orders),
    )


class Preference(JudgedResult):
    """Which of two responses the judge prefers, asked in both orders, with how much the order pulled.

    ``p_a``/``p_b`` are each argument's probability averaged over the two orders (never renormalised);
    ``value`` the preferred argument (``"a"``, ``"b"``, or None when equal), ``confidence`` its mean
    probability; ``consistent`` whether both orders chose the same argument; ``position_bias`` the mean
    share given to whichever response was shown first, minus 0.5; ``orders`` the two raw results.
    """

    _bases_after: ClassVar[str] = "model"

    p_a: float
    p_b: float
    value: Side | None
    confidence: float
    consistent: bool
    position_bias: float
    orders: tuple[PairOrder, PairOrder]
    question: str
    response_a: str
    response_b: str
    context: str | None = None
    model: str

    def _orders_text(self) -> str:
        """``the order decided: A first chose a 0.70, B first chose b 0.70``, or ``both orders chose a …``."""
        first, second = self.orders
        if self.consistent:
            return (
                f"both orders chose {first.value} ({first.name} {first.confidence:.2f}, "
                f"{second.name} {second.confidence:.2f})"
            )
        if first.value is not None and second.value is not None:
            return f"the order decided: {first.said()}, {second.said()}"
        return f"the orders disagree: {first.said()}, {second.said()}"

    def _facts(self, needed: float | None = None) -> str:
        if self.value is None:
            return f"undecided (p_a {self.p_a:.2f}, p_b {self.p_b:.2f})"
        return f"{self.value} at {fmt_probability(self.confidence, needed)}"

    def prefers(self, option: str, threshold: float | None = None) -> Check:
        """A check that holds when ``option`` (``"a"`` or ``"b"``) is preferred with
        ``confidence >= threshold`` (default: the test's threshold). Its repr says when the order decided."""
        __tracebackhide__ = True
        if option not in ("a", "b"):
            raise ValueError(f"prefers({option!r}): name the argument, 'a' or 'b'")
        needed = self.threshold if threshold is None else float(threshold)
        if not 0.0 <= needed <= 1.0:
            raise ValueError(f"threshold must be between 0 and 1, got {threshold!r}")
        passed = self.value == option and self.confidence >= needed
        score = self.p_a if option == "a" else self.p_b
        why = f"{self._orders_text()}; position bias {self.position_bias:+.2f}"
        return self._threshold_check("prefers", passed, needed, score, self._facts(needed), option, why)

    def __bool__(self) -> bool:
        raise TypeError(
            "a Preference has no truth value of its own: assert preference.prefers('a', 0.9), "
            "or compare preference.value"
        )

    def __repr__(self) -> str:
        numbers = "" if self.value is None else f" (p_a {self.p_a:.2f}, p_b {self.p_b:.2f})"
        return (
            f"<Preference {self._facts()}{numbers}; {self._orders_text()}; "
            f"position bias {self.position_bias:+.2f}; q={shorten(self.question, 100)!r}>"
        )

    __str__ = __repr__

    def describe(self) -> str:
        """Every fact on a few lines (the "llm verdicts" section of a failed test's report)."""
        lines = [f"question:   {self.question}"]
        if self.context is not None:
            lines.append(f"context:    {shorten(self.context, 200)}")
        lines.append(f"a:          {shorten(self.response_a, 200)}")
        lines.append(f"b:          {shorten(self.response_b, 200)}")
        lines.append(
            f"preference: {value_text(self.value)} at {self.confidence:.4f} (p_a {self.p_a:.4f}, "
            f"p_b {self.p_b:.4f}; threshold {self.threshold:.2f})"
        )
        lines.append(
            f"orders:     {self._orders_text()}; {'consistent' if self.consistent else 'inconsistent'}; "
            f"position bias {self.position_bias:+.4f}"
        )
        for order in self.orders:
            lines.append(
                f"  {order.name}: p_first {order.p_first:.4f}  p_second {order.p_second:.4f}  "
                f"token {order.token!r} at position {order.position}"
            )
        source = "replayed from cassette" if self.replayed else "live"
        lines.append(f"model:      {self.model} ({source}, {self.latency_s * 1000:.0f} ms)")
        lines.extend(f"check:      {check.text}" for check in self._checks)
        return "\n".join(lines)

    def to_record(self) -> dict[str, Any]:
        """A JSON-able dict of every field and every check (kind ``"comparison"``)."""
        data = self.model_dump(mode="json")
        data["kind"] = "comparison"
        data["checks"] = [check.to_dict() for check in self._checks]
        return data
