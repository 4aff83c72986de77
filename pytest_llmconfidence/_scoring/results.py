"""The data the plugin hands to users: frozen pydantic models with short reprs.

Imported on first judge use only (pydantic costs a quarter of a second to import).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, PrivateAttr
from pydantic_core import CoreSchema

from .._text import fmt_probability, shorten, value_text, visible

__all__ = [
    "FROZEN",
    "Alternative",
    "AnswerResult",
    "CascadeStep",
    "Check",
    "Checks",
    "JudgedResult",
    "Usage",
    "Verdict",
    "as_dict",
    "certified_check",
    "needed_threshold",
    "total_usage",
    "usage_counts",
]

FROZEN = ConfigDict(frozen=True, extra="forbid")
"""Every model here is frozen and rejects unknown fields."""


class Alternative(BaseModel):
    """One candidate token at a position, with its probability."""

    model_config = FROZEN

    token: str
    probability: float
    logprob: float

    def __repr__(self) -> str:
        return f"Alternative({self.token!r}, {self.probability:.3f})"


class Usage(BaseModel):
    """Tokens billed for one call, as the endpoint reported them."""

    model_config = FROZEN

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int = 0
    """Prompt tokens the provider served from its prompt cache (``prompt_tokens_details.cached_tokens``),
    billed at the cached-input price; part of ``prompt_tokens``."""


def usage_counts(usage: Mapping[str, Any]) -> dict[str, Any]:
    """The counts of an endpoint's ``usage`` that ``Usage`` keeps, the cached prompt tokens lifted from
    ``prompt_tokens_details``."""
    counts = {
        name: usage[name] for name in ("prompt_tokens", "completion_tokens", "total_tokens") if name in usage
    }
    details = usage.get("prompt_tokens_details")
    if isinstance(details, Mapping) and details.get("cached_tokens") is not None:
        counts["cached_tokens"] = details["cached_tokens"]
    elif "cached_tokens" in usage:
        counts["cached_tokens"] = usage["cached_tokens"]
    return counts


def total_usage(usages: Iterable[Usage | None]) -> Usage | None:
    """The tokens of several calls together (a comparison's orders, a panel's members); None when none
    reported any."""
    found = [usage for usage in usages if usage is not None]
    if not found:
        return None
    return Usage(
        prompt_tokens=sum(u.prompt_tokens for u in found),
        completion_tokens=sum(u.completion_tokens for u in found),
        total_tokens=sum(u.total_tokens for u in found),
        cached_tokens=sum(u.cached_tokens for u in found),
    )


def as_dict(value: Any, error: type[Exception], what: str) -> dict[str, Any]:
    """``value`` (a mapping, or a pydantic model such as openai's) as a dict; else ``error(what; got …)``."""
    if isinstance(value, Mapping):
        return dict(value)
    dump = getattr(value, "model_dump", None)
    if dump is not None:
        result = dump()
        if isinstance(result, dict):
            return result
    raise error(f"{what}; got {type(value).__name__}")


def needed_threshold(value: Any, default: float, where: str) -> float:
    """A check's threshold: ``default`` for None, else a number from 0 to 1.

    ``True`` (1.0 to ``float()``) or ``"high"`` is a TypeError and 1.5 a ValueError, each naming ``where``
    (``confident_true(threshold=...)``) and what was given.
    """
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{where} takes a number from 0 to 1, got {value!r} ({type(value).__name__})")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{where}: threshold must be a number between 0 and 1, got {value!r}")
    return float(value)


class Check:
    """The result of ``confident_true``/``confident_false``/``at_least``: truthy when it holds.

    pytest prints its repr when the assertion fails, so the repr leads with the facts. A check made
    with ``calibrated=True`` keeps the raw confidence beside its calibrated ``score``.
    """

    __slots__ = ("certified", "evaluated", "kind", "passed", "raw", "score", "text", "threshold")

    def __init__(
        self,
        kind: str,
        passed: bool,
        threshold: float,
        score: float,
        text: str,
        raw: float | None = None,
        certified: Mapping[str, Any] | None = None,
    ) -> None:
        self.kind = kind
        self.passed = passed
        self.threshold = threshold
        self.score = score
        self.text = text
        self.raw = raw
        self.certified = certified
        """For a check against a certified threshold: its ``accuracy``, ``delta`` and ``n``."""
        self.evaluated = False
        """Whether anything asked for its truth (``assert``, ``if``): a failed check nobody asked about
        passes in silence, so the plugin warns about it at the end of its test."""

    def __bool__(self) -> bool:
        self.evaluated = True
        return self.passed

    def __repr__(self) -> str:
        return f"<{self.text}>"

    __str__ = __repr__

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind,
            "threshold": self.threshold,
            "passed": self.passed,
            "score": self.score,
        }
        if self.raw is not None:
            data["raw"] = self.raw
            data["calibrated"] = True
        if self.certified is not None:
            data["certified"] = dict(self.certified)
        return data


class CascadeStep(BaseModel):
    """One model's verdict in a cascade: what it said, and the certified threshold it was held to."""

    model_config = FROZEN

    model: str
    value: bool | None
    confidence: float
    threshold: float | None
    """The model's certified threshold for the cascade's accuracy."""
    usage: Usage | None = None
    replayed: bool = False

    def __repr__(self) -> str:
        held = "none" if self.threshold is None else f"{self.threshold:.2f}"
        return (
            f"CascadeStep({self.model!r}, {value_text(self.value)} {self.confidence:.2f}, threshold {held})"
        )


def _step_text(step: CascadeStep) -> str:
    """``small true 0.70 < 0.90``: a cascade step against its certified threshold."""
    said = f"{step.model} {value_text(step.value)} {step.confidence:.2f}"
    if step.threshold is None:
        return f"{said} (no certificate)"
    reached = step.value is not None and step.confidence >= step.threshold
    return f"{said} {'>=' if reached else '<'} {step.threshold:.2f}"


def certified_check(
    name: str,
    passed: bool,
    facts: str,
    score: float,
    certificate: Any,
    failure: str,
    question: str,
) -> Check:
    """A check against a certified threshold: its repr names the threshold, the accuracy, delta and n."""
    held = f"{certificate.threshold:.{certificate.digits}f} certified for {certificate.target}"
    q = f"q={shorten(question, 120)!r}"
    if passed:
        text = f"{name} passed: {facts}, at or above {held}; {q}"
    else:
        text = f"{name} failed: {facts}, {failure} {held}; {q}"
    summary = {"accuracy": certificate.accuracy, "delta": certificate.delta, "n": certificate.n}
    return Check(name, passed, certificate.threshold, score, text, certified=summary)


class Checks:
    """Many checks asserted at once: ``assert judge.all(v.confident_true(0.9) for v in verdicts)``.

    Truthy when every check holds (and there is at least one: an empty batch is more likely a bug than a
    pass). ``all()`` over the same checks fails as a bare ``assert False``; this repr says how many failed
    and, for each (by its position), what its own repr says.
    """

    __slots__ = ("checks",)

    def __init__(self, checks: Iterable[Check]) -> None:
        self.checks: tuple[Check, ...] = tuple(checks)
        for index, check in enumerate(self.checks):
            if not isinstance(check, Check):
                raise TypeError(
                    f"judge.all() takes checks, such as verdict.confident_true(0.9) or score.at_least(4); "
                    f"item {index} is {type(check).__name__}: {shorten(repr(check), 80)}"
                )

    @property
    def failed(self) -> list[tuple[int, Check]]:
        """The checks that failed, each with its position among the checks given."""
        return [(index, check) for index, check in enumerate(self.checks) if not check]

    def __bool__(self) -> bool:
        held = [bool(check) for check in self.checks]  # every one asked, so none counts as unasserted
        return bool(held) and all(held)

    def __len__(self) -> int:
        return len(self.checks)

    def __iter__(self) -> Iterator[Check]:
        return iter(self.checks)

    def __repr__(self) -> str:
        if not self.checks:
            return "<all failed: no checks were given (an empty batch?)>"
        failed = self.failed
        if not failed:
            return f"<all passed: {len(self.checks)} checks>"
        listed = "; ".join(f"[{index}] {check.text}" for index, check in failed)
        return f"<all failed: {len(failed)} of {len(self.checks)} checks failed: {listed}>"

    __str__ = __repr__


class JudgedResult(BaseModel):
    """What every judged result carries (``Verdict``, ``Score``, ``Choice``, ``Preference``,
    ``PanelVerdict``): the threshold its checks default to, whether it was replayed, the tokens and time
    it took, and the checks made on it."""

    model_config = FROZEN

    threshold: float
    replayed: bool = False
    usage: Usage | None = None
    latency_s: float = 0.0
    """Seconds the call took: a comparison's two orders together, a panel's slowest member (the members
    are asked at the same time)."""

    _checks: list[Check] = PrivateAttr(default_factory=list)

    _bases_after: ClassVar[str]
    """The field of a subclass's own after which it lists its bases' fields (unset: they come first)."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        """The model's schema with its fields in ``_field_order()``: ``model_dump()``, the JSON report,
        iteration and the JSON schema keep each model's order (a base's fields would otherwise come
        first)."""
        schema = handler(source)
        model: Any = handler.resolve_ref_schema(schema)
        fields = model["schema"]["fields"]
        model["schema"]["fields"] = {name: fields[name] for name in cls._field_order()}
        return schema

    @classmethod
    def _field_order(cls) -> list[str]:
        """The class's own fields, with its base's (in the base's order) after ``_bases_after``."""
        order_of_base = getattr(cls.__mro__[1], "_field_order", None)
        if order_of_base is None:  # JudgedResult itself, whose base is BaseModel
            return list(cls.model_fields)
        inherited: list[str] = order_of_base()
        own = [name for name in cls.model_fields if name not in inherited]
        after = vars(cls).get("_bases_after")
        at = own.index(after) + 1 if after else 0
        return [*own[:at], *inherited, *own[at:]]

    if TYPE_CHECKING:  # every result has one; each declares it where its dump lists it
        question: str

    @property
    def checks(self) -> tuple[Check, ...]:
        """Every check made on this result, in order."""
        return tuple(self._checks)

    def _keep(self, check: Check) -> Check:
        """A check made on this result, kept (the report lists it) and returned (the test asserts it)."""
        self._checks.append(check)
        return check

    def _threshold_check(
        self,
        name: str,
        passed: bool,
        needed: float,
        score: float,
        facts: str,
        want: str | None,
        why: str,
        raw: float | None = None,
    ) -> Check:
        """A check against ``needed``, kept. Its text leads with ``facts``; a failed one says what was
        needed (``want``, when a particular answer was) and ``why`` (the evidence); the question ends it."""
        question = f"q={shorten(self.question, 120)!r}"
        if passed:
            text = f"{name} passed: {facts} >= {fmt_probability(needed)}; {question}"
        else:
            wanted = f"{want} " if want else ""
            text = f"{name} failed: {facts}, needed {wanted}>= {fmt_probability(needed)}; {why}; {question}"
        return self._keep(Check(name, passed, needed, score, text, raw))


class AnswerResult(JudgedResult):
    """A result read from one model's answer to one question (``Verdict``, ``Score``, ``Choice``): the
    answer token, where it was and its alternatives, what was asked and which model answered."""

    token: str
    position: int = 0
    alternatives: tuple[Alternative, ...] = ()
    question: str
    response: str | None = None
    context: str | None = None
    model: str

    _certificates: Any = PrivateAttr(default=None)

    _bases_after: ClassVar[str] = "model"


class Verdict(AnswerResult):
    """A judge's true/false answer with the confidence of its verdict token ."""

    _bases_after: ClassVar[str] = "coverage"

    value: bool | None
    confidence: float
    normalized: float
    p_true: float
    p_false: float
    coverage: float
    expected: bool | None = None
    calibrated: float | None = None
    reasoning: str | None = None
    """What a reasoning judge (``reason=True``) wrote before its ``Verdict:`` line."""
    requested_model: str | None = None
    """The model the judge asked for, when the server says it answered with another (else None)."""
    finish_reason: str | None = None
    cut_off: bool = False
    """Whether the answer was cut off (``finish_reason`` length) before the model wrote a label."""
    decided_by: str | None = None
    """In a cascade (``llm_cascade``): the model whose verdict this is."""
    cascade: tuple[CascadeStep, ...] = ()
    """In a cascade: each model asked, in order, with its verdict and certified threshold."""
    certified: bool | None = None
    """In a cascade: whether a model's verdict reached its certified threshold (False: the cascade
    abstained, and this is the last model's verdict)."""

    def top(self, n: int = 3) -> tuple[Alternative, ...]:
        """The ``n`` most probable alternatives at the verdict position."""
        return tuple(sorted(self.alternatives, key=lambda alt: -alt.probability)[:n])

    def _top_text(self, n: int = 3) -> str:
        tops = self.top(n)
        if not tops:
            return "no alternatives returned"
        return " ".join(f"{alt.token!r} {alt.probability:.2f}" for alt in tops)

    def _check(self, want: bool, threshold: float | None, calibrated: bool, certified: float | None) -> Check:
        name = "confident_true" if want else "confident_false"
        lookup = self._certificates
        if certified is None and threshold is None and not calibrated and lookup is not None:
            certified = lookup.default
        if certified is not None:
            if threshold is not None or calibrated:
                raise ValueError(f"{name}(): give a threshold, calibrated=True or certified=..., not both")
            return self._keep(self._certified_check(name, want, certified))
        needed = needed_threshold(threshold, self.threshold, f"{name}(threshold=...)")
        if calibrated and self.calibrated is None:
            raise ValueError(
                f"{name}(calibrated=True) needs a calibration map: set llm_calibration_file "
                "(see docs/calibration.md)"
            )
        raw = self.confidence if self.value is not None else 0.0
        score = self.calibrated_confidence() if calibrated else raw
        passed = self.value is want and score >= needed
        got = value_text(self.value)
        want_text = value_text(want)
        if self.value is None:
            facts = f"undecided (no {want_text}/{value_text(not want)} among the top tokens)"
        else:
            facts = f"{got} at {fmt_probability(score, needed)}"
            if calibrated:
                facts += f" calibrated (raw {fmt_probability(raw)})"
        why = "; ".join([f"top {self._top_text()}", *self._hints()])
        return self._threshold_check(
            name, passed, needed, score, facts, want_text, why, raw if calibrated else None
        )

    def _hints(self) -> list[str]:
        """What a failed check says after the top tokens: that the answer was cut off, the reasoning."""
        hints = []
        if self.cut_off:
            hints.append("answer cut off (finish_reason length) before a label: raise max_tokens")
        if self.reasoning is not None:
            hints.append(f"reasoning={shorten(self.reasoning, 80)!r}")
        return hints

    def _certified_check(self, name: str, want: bool, accuracy: Any) -> Check:
        """A check against this model's certified threshold for ``accuracy`` (``certified=0.9``)."""
        from .._calibration.certify import check_accuracy, missing_certificates

        what = f"{name}(certified={accuracy!r})"
        accuracy = check_accuracy(accuracy, f"{name}(certified=...)")
        if self._certificates is None:
            raise missing_certificates(what)
        want_text = value_text(want)
        if self.certified is False:
            steps = "; ".join(
                f"{step.model} {value_text(step.value)} at {step.confidence:.2f}"
                + ("" if step.threshold is None else f" below {step.threshold:.2f}")
                for step in self.cascade
            )
            text = (
                f"{name} failed: the cascade abstained, no model's verdict reached its certified threshold "
                f"for {accuracy * 100:g} % accuracy ({steps}); q={shorten(self.question, 120)!r}"
            )
            return Check(name, False, 1.0, self.confidence, text, certified={"accuracy": accuracy})
        certificate = self._certificates.find(self.model, "verdicts", accuracy, what)
        got = value_text(self.value)
        if self.value is None:
            facts = f"undecided (no {want_text}/{value_text(not want)} among the top tokens)"
        else:
            facts = f"{got} at {fmt_probability(self.confidence, certificate.threshold)}"
        passed = self.value is want and self.confidence >= certificate.threshold
        failure = "below" if self.value is want else f"needed {want_text} at or above"
        return certified_check(name, passed, facts, self.confidence, certificate, failure, self.question)

    def confident_true(
        self, threshold: float | None = None, *, calibrated: bool = False, certified: float | None = None
    ) -> Check:
        """A check that holds when the verdict is true with ``confidence >= threshold``; with
        ``certified=0.9``, at or above its model's threshold certified for 90 % accuracy."""
        return self._check(True, threshold, calibrated, certified)

    def confident_false(
        self, threshold: float | None = None, *, calibrated: bool = False, certified: float | None = None
    ) -> Check:
        """A check that holds when the verdict is false with ``confidence >= threshold``; with
        ``certified=0.9``, at or above its model's threshold certified for 90 % accuracy."""
        return self._check(False, threshold, calibrated, certified)

    def calibrated_confidence(self) -> float:
        """The calibrated probability of the chosen verdict (the raw confidence when uncalibrated)."""
        if self.calibrated is None or self.value is None:
            return self.confidence
        return self.calibrated

    def __bool__(self) -> bool:
        raise TypeError(
            "a Verdict has no truth value of its own: assert verdict.confident_true(0.9), "
            "verdict.confident_false(0.9), or compare verdict.value"
        )

    def __repr__(self) -> str:
        return (
            f"<Verdict {value_text(self.value)} {self.confidence:.2f} "
            f"(p_true {self.p_true:.2f}, p_false {self.p_false:.2f}, coverage {self.coverage:.2f}); "
            f"top {self._top_text()}; q={shorten(self.question, 100)!r}>"
        )

    __str__ = __repr__

    def describe(self) -> str:
        """Every fact of the verdict on a few lines (the "llm verdicts" report section)."""
        lines = [
            f"question:   {visible(self.question, lines=True)}",
        ]
        if self.response is not None:
            lines.append(f"response:   {shorten(self.response, 200)}")
        if self.context is not None:
            lines.append(f"context:    {shorten(self.context, 200)}")
        if self.reasoning is not None:
            lines.append(f"reasoning:  {shorten(self.reasoning, 600)}")
        lines.append(
            f"verdict:    {value_text(self.value)} at {self.confidence:.4f} "
            f"(normalized {self.normalized:.4f}; threshold {self.threshold:.2f})"
        )
        if self.calibrated is not None:
            lines.append(f"calibrated: {self.calibrated:.4f}")
        lines.append(
            f"p_true {self.p_true:.4f}  p_false {self.p_false:.4f}  coverage {self.coverage:.4f}  "
            f"token {self.token!r} at position {self.position}"
        )
        source = "replayed from cassette" if self.replayed else "live"
        lines.append(f"model:      {self.model} ({source}, {self.latency_s * 1000:.0f} ms)")
        if self.requested_model is not None:
            lines.append(
                f"note:       asked for model {self.requested_model!r}, the server answered as "
                f"{self.model!r} (servers may alias models; check --llm-model)"
            )
        if self.cut_off:
            lines.append(
                "note:       the answer was cut off (finish_reason length) before a label: raise max_tokens"
            )
        if self.cascade:
            ending = f"decided by {self.decided_by}" if self.certified else "abstained: none certified"
            lines.append(f"cascade:    {' -> '.join(_step_text(step) for step in self.cascade)}; {ending}")
        for check in self._checks:
            lines.append(f"check:      {check.text}")
        if self.alternatives:
            lines.append(
                "top tokens: " + ", ".join(f"{alt.token!r} {alt.probability:.4f}" for alt in self.top(8))
            )
        return "\n".join(lines)

    def to_record(self) -> dict[str, Any]:
        """A JSON-able dict of every field and every check."""
        data = self.model_dump(mode="json")
        data["checks"] = [check.to_dict() for check in self._checks]
        return data
