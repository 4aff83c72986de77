"""Scores and choices: the verdict's maths over more labels (a scale, or a set of options).

``Score`` and ``Choice`` are frozen models like ``Verdict``; their checks (``at_least``, ``confident``) are
``Check`` objects whose repr leads with the facts. Imported on first use of ``judge.score``/``judge.choose``.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from .._text import fmt_probability, shorten
from .completion import read_completion, usage_of
from .confidence import Position, is_padding, normalize_token
from .prompts import question_parts
from .results import Alternative, AnswerResult, Check, certified_check, needed_threshold

if TYPE_CHECKING:
    from .._settings import JudgeConfig

__all__ = ["Choice", "Reading", "Score", "choice_labels", "graded_messages", "read_distribution"]


def _top(alternatives: Sequence[Alternative], n: int = 3) -> str:
    tops = sorted(alternatives, key=lambda alt: -alt.probability)[:n]
    return " ".join(f"{alt.token!r} {alt.probability:.2f}" for alt in tops) or "no alternatives returned"


class _Graded(AnswerResult):
    _bases_after: ClassVar[str] = "coverage"

    if TYPE_CHECKING:  # each kind declares its own, typed as its labels are
        value: int | str | None
        distribution: Mapping[Any, float]
    confidence: float
    coverage: float

    def _certified_for(self, threshold: float | None, certified: Any) -> float | None:
        """The accuracy a check asks to be certified: ``certified=``, else ``llm_certified`` when the
        check gives no threshold."""
        if certified is not None and threshold is not None:
            raise ValueError("give a threshold or certified=..., not both")
        if certified is None and threshold is None and self._certificates is not None:
            return self._certificates.default  # type: ignore[no-any-return]
        return None if certified is None else certified

    def _certificate(self, question: str, accuracy: Any, what: str) -> Any:
        from .._calibration.certify import check_accuracy, missing_certificates

        value = check_accuracy(accuracy, what)
        if self._certificates is None:
            raise missing_certificates(what)
        return self._certificates.find(self.model, question, value, what)

    def _needed(self, threshold: float | None, where: str) -> float:
        return needed_threshold(threshold, self.threshold, where)

    def _distribution_text(self) -> str:
        return " ".join(f"{label}:{p:.2f}" for label, p in self.distribution.items())

    def describe(self) -> str:
        """Every fact on a few lines (the "llm verdicts" report section)."""
        lines = [f"question:   {self.question}"]
        if self.response is not None:
            lines.append(f"response:   {shorten(self.response, 200)}")
        lines.append(
            f"{self._kind()}:{' ' * (11 - len(self._kind()))}{_shown(self.value)} at "
            f"{self.confidence:.4f} (coverage {self.coverage:.4f}; threshold {self.threshold:.2f})"
        )
        lines.append(f"distribution: {self._distribution_text()}")
        source = "replayed from cassette" if self.replayed else "live"
        lines.append(f"model:      {self.model} ({source}, {self.latency_s * 1000:.0f} ms)")
        lines.extend(f"check:      {check.text}" for check in self._checks)
        if self.alternatives:
            lines.append("top tokens: " + _top(self.alternatives, 8))
        return "\n".join(lines)

    def _kind(self) -> str:
        return "score"

    def to_record(self) -> dict[str, Any]:
        """A JSON-able dict of every field and every check (kind "score" or "choice"); labels as text."""
        data = self.model_dump(mode="json")
        data["value"] = None if data["value"] is None else str(data["value"])
        data["distribution"] = {str(label): p for label, p in data["distribution"].items()}
        if "scale" in data:
            data["scale"] = [str(label) for label in data["scale"]]
        data["kind"] = self._kind()
        data["checks"] = [check.to_dict() for check in self._checks]
        return data


class Score(_Graded):
    """A graded judgement: the most probable label of a scale, and the distribution over the scale.

    ``distribution`` sums every spelling of a label and is never renormalised; ``expected`` is the mean of
    the scale (numbers as they are, words by rank from 1) under the distribution renormalised over it.
    """

    value: int | str | None
    """The most probable label of the scale, as the scale gave it (``4`` on a scale of integers)."""
    distribution: dict[int | str, float]
    scale: tuple[int | str, ...]
    expected: float | None = None
    expected_label: str | None = None
    """The label the test expected (``judge.score(..., expected=4)``), for calibration."""

    def at_least(self, k: Any, confidence: float | None = None, *, certified: float | None = None) -> Check:
        """A check that holds when P(score >= ``k``) is at least ``confidence`` (default: the threshold);
        with ``certified=0.9``, at or above the model's threshold certified for 90 % accuracy on
        "score >= k"."""
        __tracebackhide__ = True
        label = str(k)
        labels = [str(item) for item in self.scale]
        if label not in labels:
            raise ValueError(f"at_least({k!r}): not on the scale {', '.join(labels)}")
        mass = math.fsum(self.distribution.get(item, 0.0) for item in self.scale[labels.index(label) :])
        mass = min(1.0, mass)
        accuracy = self._certified_for(confidence, certified)
        if accuracy is not None:
            from .._calibration.labelled import score_question

            what = f"at_least({k!r}, certified={accuracy!r})"
            certificate = self._certificate(score_question(label, labels), accuracy, what)
            below = math.fsum(self.distribution.get(item, 0.0) for item in self.scale[: labels.index(label)])
            passed = mass > below and mass >= certificate.threshold
            facts = f"P(score >= {label}) {fmt_probability(mass, certificate.threshold)}"
            failure = (
                "below" if mass > below else f"P(score < {label}) {below:.2f} is larger; needed at or above"
            )
            return self._keep(
                certified_check("at_least", passed, facts, mass, certificate, failure, self.question)
            )
        needed = self._needed(confidence, "at_least(confidence=...)")
        facts = f"P(score >= {label}) {fmt_probability(mass, needed)}"
        why = f"score {_shown(self.value)} at {self.confidence:.2f}; distribution {self._distribution_text()}"
        return self._threshold_check("at_least", mass >= needed, needed, mass, facts, None, why)

    def __repr__(self) -> str:
        return (
            f"<Score {_shown(self.value)} {self.confidence:.2f} (expected {_fmt(self.expected)}, "
            f"coverage {self.coverage:.2f}); {self._distribution_text()}; q={shorten(self.question, 100)!r}>"
        )

    __str__ = __repr__


class Choice(_Graded):
    """One of several options: the most probable, and the distribution over the options."""

    value: str | None
    """The most probable option."""
    distribution: dict[str, float]
    options: tuple[str, ...]
    labels: tuple[str, ...]
    """What the model was asked to answer for each option (the options, or A, B, C…)."""
    expected_option: str | None = None
    """The option the test expected (``judge.choose(..., expected="B")``), for calibration."""

    def _kind(self) -> str:
        return "choice"

    def confident(
        self, option: str, threshold: float | None = None, *, certified: float | None = None
    ) -> Check:
        """A check that holds when the choice is ``option`` with ``confidence >= threshold``; with
        ``certified=0.9``, at or above the model's threshold certified for 90 % accuracy on its choices."""
        __tracebackhide__ = True
        if option not in self.options:
            raise ValueError(f"confident({option!r}): not one of the options {list(self.options)}")
        score = self.distribution.get(option, 0.0)
        accuracy = self._certified_for(threshold, certified)
        if accuracy is not None:
            what = f"confident({option!r}, certified={accuracy!r})"
            certificate = self._certificate("choices", accuracy, what)
            passed = self.value == option and self.confidence >= certificate.threshold
            facts = f"{_shown(self.value)!r} at {fmt_probability(self.confidence, certificate.threshold)}"
            failure = "below" if self.value == option else f"needed {option!r} at or above"
            return self._keep(
                certified_check("confident", passed, facts, score, certificate, failure, self.question)
            )
        needed = self._needed(threshold, "confident(threshold=...)")
        passed = self.value == option and self.confidence >= needed
        facts = f"{_shown(self.value)!r} at {fmt_probability(self.confidence, needed)}"
        why = f"distribution {self._distribution_text()}"
        return self._threshold_check("confident", passed, needed, score, facts, repr(option), why)

    def __repr__(self) -> str:
        return (
            f"<Choice {self.value!r} {self.confidence:.2f} (coverage {self.coverage:.2f}); "
            f"{self._distribution_text()}; q={shorten(self.question, 100)!r}>"
        )

    __str__ = __repr__


def _shown(value: int | str | None) -> int | str:
    return "undecided" if value is None else value


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def answer_tokens(labels: Sequence[str]) -> int:
    """The completion tokens a graded answer needs: 1 when every label is one character (a digit or a
    letter, one token in every tokenizer: ``1``-``5``, ``A``-``E``), else 2 (``10``, ``billing``)."""
    return 1 if all(len(label.strip()) == 1 for label in labels) else 2


def choice_labels(options: Sequence[str]) -> tuple[str, ...]:
    """The options themselves when each is one short word and they normalise apart; else A, B, C…"""
    normalised = [normalize_token(option) for option in options]
    single = all(option.strip() and len(option.split()) == 1 and len(option) <= 12 for option in options)
    if single and len(set(normalised)) == len(options):
        return tuple(options)
    if len(options) > len(string.ascii_uppercase):
        raise ValueError(f"judge.choose() takes at most 26 options, got {len(options)}")
    return tuple(string.ascii_uppercase[: len(options)])


def graded_messages(
    question: str, response: str | None, context: str | None, labels: Sequence[str], described: Sequence[str]
) -> list[dict[str, str]]:
    """The prompt of a score or a choice: answer with exactly one of ``labels``."""
    listing = ", ".join(labels)
    parts = question_parts(question, response, context)
    if list(described) != list(labels):
        pairs = zip(labels, described, strict=True)
        parts.append("Options:\n" + "\n".join(f"{lab}. {text}" for lab, text in pairs))
    parts.append(f"Answer with exactly one of: {listing}.")
    system = (
        "You are a strict evaluator. You are given a question, and often a response to evaluate. "
        f"Reply with exactly one of {listing}, and nothing else."
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n\n".join(parts)}]


class Reading(NamedTuple):
    """Where the answer was read, the probability of each label there, and the answer as sampled."""

    position: Position | None
    distribution: dict[str, float]
    token: str | None
    """The sampled token, or the two sampled tokens that spell a label together (``"1"``, ``"0"``)."""


def read_distribution(positions: Sequence[Position], labels: Sequence[str]) -> Reading:
    """The answer's position and the probability of each label there (spellings summed, padding ignored,
    never renormalised).

    The position is the first whose sampled token is a label or, with the next sampled token, spells one
    (``"1"`` then ``"0"`` on a 0-10 scale); else the first with a label among its alternatives. When the
    sampled token there begins longer labels, its probability is split with the next position, whose
    alternatives are conditioned on it: ``P("10") = P("1") * P("0" next)``, and ``"1"`` keeps the rest.
    Other alternatives count for their own label only (the response holds no next position for them).
    """
    wanted = {normalize_token(label): label for label in labels}
    index = _answer_index(positions, wanted)
    mass = dict.fromkeys(labels, 0.0)
    if index is None:
        return Reading(None, mass, None)
    position = positions[index]
    after = positions[index + 1] if index + 1 < len(positions) else None
    for token, probability in _probabilities(position).items():
        rest = probability
        if token == position.token and after is not None:
            longer = _continuations(token, after, wanted)
            for longer_label, p_next in longer.items():
                mass[longer_label] += probability * p_next
            rest = probability * max(0.0, 1.0 - math.fsum(longer.values()))
        short = wanted.get(normalize_token(token))
        if short is not None:
            mass[short] += rest
    total = math.fsum(mass.values())
    if total > 1.0:
        mass = {label: p / total for label, p in mass.items()}
    joined = None if after is None else position.token + after.token
    spelled = joined is not None and _lengthens(position.token, joined, wanted)
    return Reading(position, mass, joined if spelled else position.token)


def _answer_index(positions: Sequence[Position], wanted: Mapping[str, str]) -> int | None:
    for index, position in enumerate(positions):
        if normalize_token(position.token) in wanted:
            return index
        if index + 1 < len(positions) and _lengthens(
            position.token, position.token + positions[index + 1].token, wanted
        ):
            return index
    for index, position in enumerate(positions):
        if any(normalize_token(token) in wanted for token, _ in position.candidates()):
            return index
    return None


def _lengthens(token: str, joined: str, wanted: Mapping[str, str]) -> bool:
    """Whether ``joined`` (``token`` and what follows it) spells a label longer than ``token`` alone."""
    start, whole = normalize_token(token), normalize_token(joined)
    return bool(start) and whole != start and whole in wanted


def _probabilities(position: Position) -> dict[str, float]:
    """Each distinct alternative's probability (its best logprob when sent twice), padding ignored."""
    best: dict[str, float] = {}
    for token, logprob in position.candidates():
        if not is_padding(logprob) and (token not in best or logprob > best[token]):
            best[token] = logprob
    return {token: math.exp(logprob) for token, logprob in best.items()}


def _continuations(token: str, after: Position, wanted: Mapping[str, str]) -> dict[str, float]:
    """The longer labels ``token`` begins, each with the probability of its continuation at ``after``."""
    found: dict[str, float] = {}
    for following, probability in _probabilities(after).items():
        if _lengthens(token, token + following, wanted):
            label = wanted[normalize_token(token + following)]
            found[label] = found.get(label, 0.0) + probability
    return found


def scale_mean(scale: Sequence[str], distribution: Mapping[str, float]) -> float | None:
    """The scale's mean under the distribution renormalised over the scale (words by rank from 1)."""
    total = math.fsum(distribution.get(label, 0.0) for label in scale)
    if total <= 0:
        return None
    try:
        values = [float(label) for label in scale]
    except ValueError:
        values = [float(rank) for rank in range(1, len(scale) + 1)]
    return math.fsum(v * distribution.get(label, 0.0) for v, label in zip(values, scale, strict=True)) / total


def graded_facts(
    completion: Any,
    replayed: bool,
    latency: float,
    config: JudgeConfig,
    labels: tuple[str, ...],
    base_url: str,
) -> dict[str, Any]:
    """What a score's or a choice's completion says: the facts both results carry."""
    __tracebackhide__ = True
    data, model, _, _, positions = read_completion(completion, config, base_url)
    reading = read_distribution(positions, labels)
    distribution = reading.distribution
    coverage = min(1.0, math.fsum(distribution.values()))
    best = max(labels, key=lambda label: distribution[label])
    top = distribution[best]
    tied = sum(1 for label in labels if distribution[label] == top) > 1
    value = None if top <= 0 or tied else best
    at = reading.position or positions[0]
    return {
        "value": value,
        "confidence": 0.0 if value is None else top,
        "distribution": distribution,
        "coverage": coverage,
        "token": at.token if reading.token is None else reading.token,
        "position": at.index,
        "alternatives": tuple(
            Alternative(token=token, probability=math.exp(logprob), logprob=logprob)
            for token, logprob in at.candidates()
        ),
        "model": model,
        "threshold": config.threshold,
        "replayed": replayed,
        "usage": usage_of(data.get("usage")),
        "latency_s": latency,
    }
