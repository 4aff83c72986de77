"""Response confidence: the per-token and whole-response confidence of any completion.

The same maths as the verdict (``_confidence``): logprobs at or below -100 are padding and count as
absent. Knows nothing of pytest; called inside a test while the plugin is active, a result is
recorded for the test's report and the summary (``_records``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, PrivateAttr

from .._errors import JudgeResponseError, NoLogprobsError
from .._report.records import record
from .._text import fmt_probability, shorten
from .completion import chat_choice, kind_of
from .confidence import is_padding, positions_from_logprobs
from .results import FROZEN, Alternative, Check, as_dict, needed_threshold

__all__ = [
    "AGGREGATES",
    "ChoicePoint",
    "ResponseConfidence",
    "TokenConfidence",
    "response_confidence",
    "score_completion",
]

Aggregate = Literal["geometric_mean", "mean", "min"]
AGGREGATES: tuple[str, ...] = ("geometric_mean", "mean", "min")
DEFAULT_MARGIN = 0.2

HOW_TO_REQUEST = (
    "Request them: client.chat.completions.create(..., logprobs=True, top_logprobs=5), or with the "
    'Responses API client.responses.create(..., include=["message.output_text.logprobs"], top_logprobs=5). '
    "llama.cpp's server returns none in its Responses API: use its chat completions."
)


class TokenConfidence(BaseModel):
    """One generated token: its probability and the alternatives the model weighed, best first.

    ``logprob`` is None when the endpoint sent padding (-100 or below) for the token itself; such a
    token counts in no aggregate.
    """

    model_config = FROZEN

    index: int
    token: str
    probability: float
    logprob: float | None
    alternatives: tuple[Alternative, ...] = ()

    def runner_up(self) -> Alternative | None:
        """The most probable alternative other than this token, if the endpoint sent any."""
        others = [alt for alt in self.alternatives if alt.token != self.token]
        return max(others, key=lambda alt: alt.probability) if others else None

    def __repr__(self) -> str:
        return f"TokenConfidence({self.index}, {self.token!r}, {self.probability:.3f})"


class ChoicePoint(BaseModel):
    """A position where the model nearly wrote something else: top-1 minus top-2 below the margin."""

    model_config = FROZEN

    index: int
    token: str
    probability: float
    runner_up: str | None
    runner_up_probability: float

    def __repr__(self) -> str:
        return (
            f"ChoicePoint({self.index}, {self.token!r} {self.probability:.2f} vs "
            f"{self.runner_up!r} {self.runner_up_probability:.2f})"
        )


class ResponseConfidence(BaseModel):
    """How sure a model was of every token of a completion, and of the whole of it.

    ``mean`` is the arithmetic mean of the token probabilities, ``geometric_mean`` the exp of the
    mean logprob (1/perplexity), ``min`` the least probable token's probability (``min_token``).
    """

    model_config = FROZEN

    tokens: tuple[TokenConfidence, ...]
    text: str
    model: str | None = None
    api: Literal["chat.completions", "responses"] = "chat.completions"

    _checks: list[Check] = PrivateAttr(default_factory=list)

    def _scored(self) -> list[TokenConfidence]:
        return [tok for tok in self.tokens if tok.logprob is not None]

    @property
    def checks(self) -> tuple[Check, ...]:
        """Every ``at_least`` check made on this response, in order."""
        return tuple(self._checks)

    def _aggregates(self) -> tuple[float, float, float]:
        """(mean, geometric_mean, min), kept in that order despite rounding."""
        scored = self._scored()
        if not scored:
            return 0.0, 0.0, 0.0
        low = min(tok.probability for tok in scored)
        arithmetic = min(1.0, max(low, math.fsum(tok.probability for tok in scored) / len(scored)))
        mean_logprob = math.fsum(tok.logprob or 0.0 for tok in scored) / len(scored)
        return arithmetic, min(arithmetic, max(low, math.exp(mean_logprob))), low

    @property
    def mean(self) -> float:
        """The arithmetic mean of the token probabilities."""
        return self._aggregates()[0]

    @property
    def geometric_mean(self) -> float:
        """``exp`` of the mean logprob: 1/perplexity, between ``min`` and ``mean``."""
        return self._aggregates()[1]

    @property
    def min(self) -> float:
        """The probability of the least probable token."""
        return self._aggregates()[2]

    @property
    def min_token(self) -> str | None:
        """The text of the least probable token (the first of them when several tie)."""
        weakest = self.weakest(1)
        return weakest[0].token if weakest else None

    def weakest(self, n: int = 3) -> tuple[TokenConfidence, ...]:
        """The ``n`` least probable tokens, least probable first (ties in text order)."""
        return tuple(sorted(self._scored(), key=lambda tok: (tok.probability, tok.index))[:n])

    def choice_points(self, margin: float = DEFAULT_MARGIN) -> list[ChoicePoint]:
        """Positions, in order, where the top-1 minus the top-2 probability is below ``margin``."""
        if not 0.0 <= margin <= 1.0:
            raise ValueError(f"margin must be between 0 and 1, got {margin!r}")
        points = []
        for tok in self.tokens:
            ranked = sorted(_candidates(tok), key=lambda pair: -pair[1])
            if not ranked:
                continue
            top2 = ranked[1][1] if len(ranked) > 1 else 0.0
            if ranked[0][1] - top2 >= margin:
                continue
            runner = next((pair for pair in ranked if pair[0] != tok.token), None)
            points.append(
                ChoicePoint(
                    index=tok.index,
                    token=tok.token,
                    probability=tok.probability,
                    runner_up=runner[0] if runner else None,
                    runner_up_probability=runner[1] if runner else 0.0,
                )
            )
        return points

    def score(self, by: str = "geometric_mean") -> float:
        """The aggregate named ``by``: ``geometric_mean``, ``mean`` or ``min``."""
        if by not in AGGREGATES:
            raise ValueError(f"by={by!r} is not valid; valid values are {', '.join(AGGREGATES)}")
        value: float = getattr(self, by)
        return value

    def at_least(self, threshold: float, by: str = "geometric_mean") -> Check:
        """A check that holds when the aggregate ``by`` is at least ``threshold``."""
        __tracebackhide__ = True
        if threshold is None:
            raise TypeError("at_least() needs a threshold, a number from 0 to 1; got None")
        needed = needed_threshold(threshold, 0.0, "at_least(threshold=...)")
        score = self.score(by)
        passed = score >= needed
        facts = f"{by} {fmt_probability(score, needed)}"
        if passed:
            text = f"at_least passed: {facts} >= {fmt_probability(needed)}; text={shorten(self.text, 100)!r}"
        else:
            text = (
                f"at_least failed: {facts}, needed >= {fmt_probability(needed)} over {len(self._scored())} "
                f"tokens; weakest {self._weakest_text(3, needed)}; text={shorten(self.text, 50)!r}"
            )
        check = Check("at_least", passed, needed, score, text)
        self._checks.append(check)
        return check

    def _context(self, tok: TokenConfidence, before: int = 2, after: int = 1) -> str:
        start, stop = max(0, tok.index - before), min(len(self.tokens), tok.index + after + 1)
        head = "".join(t.token for t in self.tokens[start : tok.index])
        tail = "".join(t.token for t in self.tokens[tok.index + 1 : stop])
        return f"{head}[{tok.token}]{tail}"

    def _weakest_text(self, n: int = 3, below: float = 1.0) -> str:
        weakest = [tok for tok in self.weakest(n) if tok.probability < below] or self.weakest(n)
        return ", ".join(
            f"{tok.token!r} {tok.probability:.2f} in {' '.join(self._context(tok).split())!r}"
            for tok in weakest
        )

    def __repr__(self) -> str:
        return (
            f"<ResponseConfidence geometric_mean {self.geometric_mean:.2f}, mean {self.mean:.2f}, "
            f"min {self.min:.2f} at {self.min_token!r}; {len(self.tokens)} tokens; "
            f"text={shorten(self.text, 80)!r}>"
        )

    __str__ = __repr__

    def describe(self) -> str:
        """Every fact of the response on a few lines (the "llm verdicts" report section)."""
        lines = [
            f"response:   {shorten(self.text, 200)}",
            f"confidence: geometric_mean {self.geometric_mean:.4f}  mean {self.mean:.4f}  "
            f"min {self.min:.4f} at {self.min_token!r} ({len(self.tokens)} tokens)",
            f"model:      {self.model or 'unknown'} ({self.api})",
        ]
        for check in self._checks:
            lines.append(f"check:      {check.text}")
        if self.tokens:
            lines.append("weakest:    " + self._weakest_text(5))
        points = self.choice_points()
        if points:
            lines.append(
                f"choices:    {len(points)} with margin < {DEFAULT_MARGIN}: "
                + ", ".join(
                    f"{p.token!r} {p.probability:.2f} vs {p.runner_up!r} {p.runner_up_probability:.2f}"
                    for p in points[:5]
                )
            )
        return "\n".join(lines)

    def to_record(self) -> dict[str, Any]:
        """A JSON-able summary: the aggregates, the weakest tokens and every check (kind "response")."""
        return {
            "kind": "response",
            "model": self.model,
            "api": self.api,
            "text": shorten(self.text, 500),
            "tokens": len(self.tokens),
            "mean": self.mean,
            "geometric_mean": self.geometric_mean,
            "min": self.min,
            "min_token": self.min_token,
            "weakest": [
                {"index": tok.index, "token": tok.token, "probability": tok.probability}
                for tok in self.weakest(5)
            ],
            "choice_points": len(self.choice_points()),
            "checks": [check.to_dict() for check in self._checks],
        }


def _candidates(tok: TokenConfidence) -> list[tuple[str, float]]:
    """The token's distribution as sent: its alternatives, plus itself when sampled from outside them."""
    pairs = [(alt.token, alt.probability) for alt in tok.alternatives]
    if tok.logprob is not None and all(alt.token != tok.token for alt in tok.alternatives):
        pairs.append((tok.token, tok.probability))
    return pairs


def _probability(logprob: float) -> float:
    return min(1.0, math.exp(logprob))


def _tokens(entries: Iterable[Mapping[str, Any]]) -> tuple[TokenConfidence, ...]:
    tokens = []
    for position in positions_from_logprobs(entries):
        padded = is_padding(position.logprob)
        tokens.append(
            TokenConfidence(
                index=position.index,
                token=position.token,
                probability=0.0 if padded else _probability(position.logprob),
                logprob=None if padded else min(0.0, position.logprob),
                alternatives=tuple(
                    Alternative(token=token, probability=_probability(logprob), logprob=logprob)
                    for token, logprob in position.alternatives
                    if not is_padding(logprob)
                ),
            )
        )
    return tuple(tokens)


def _malformed(what: str) -> JudgeResponseError:
    return JudgeResponseError(f"response_confidence() got a malformed completion: {what}")


def _chat_entries(data: Mapping[str, Any], choice: int) -> tuple[list[Any], str]:
    try:
        found = chat_choice(data.get("choices") or [], choice)
    except JudgeResponseError as exc:
        raise _malformed(str(exc)) from None
    if found is None:
        raise NoLogprobsError(
            f"the completion from model {data.get('model')!r} has {len(data.get('choices') or [])} choices, "
            f"so no choice {choice} to score."
        )
    selected, message = found
    logprobs = selected.get("logprobs") or {}
    content = logprobs.get("content") or []
    if not isinstance(content, (list, tuple)):
        raise _malformed(f"choices[{choice}].logprobs.content is {kind_of(content)}, not a list")
    entries = list(content)
    text = message.get("content")
    if not text:
        text = "".join(str(entry.get("token", "")) for entry in entries if isinstance(entry, Mapping))
    return entries, str(text)


def _responses_entries(data: Mapping[str, Any]) -> tuple[list[Any], str]:
    entries: list[Any] = []
    texts = []
    output = data.get("output") or []
    if not isinstance(output, (list, tuple)):
        raise _malformed(f"'output' is {kind_of(output)}, not a list")
    for item in output:
        if not isinstance(item, Mapping) or item.get("type") != "message":
            continue
        parts = item.get("content") or []
        if not isinstance(parts, (list, tuple)):
            raise _malformed(f"an output message's content is {kind_of(parts)}, not a list")
        for part in parts:
            if isinstance(part, Mapping) and part.get("type") == "output_text":
                found = part.get("logprobs") or []
                if not isinstance(found, (list, tuple)):
                    raise _malformed(f"an output_text's logprobs is {kind_of(found)}, not a list")
                entries.extend(found)
                texts.append(str(part.get("text") or ""))
    return entries, "".join(texts)


_TAKES = (
    "response_confidence() takes a ChatCompletion, a Responses API Response, the JSON dict of either, "
    "or a stream of them (its chunks or events)"
)


def _whole(completion: Any) -> dict[str, Any]:
    """The completion as a dict: a stream (an iterator, or the list of its chunks) merged into one."""
    if isinstance(completion, Mapping) or hasattr(completion, "model_dump"):
        return as_dict(completion, TypeError, _TAKES)
    if isinstance(completion, (str, bytes, bytearray)) or not hasattr(completion, "__iter__"):
        return as_dict(completion, TypeError, _TAKES)
    from .stream import is_stream_events, merge_stream

    chunks = [as_dict(chunk, TypeError, _TAKES) for chunk in completion]
    if not chunks:
        raise TypeError(
            f"{_TAKES}; got no chunks (a stream can be read once: pass the list of chunks it yielded)"
        )
    if not is_stream_events(chunks):
        raise TypeError(f"{_TAKES}; got a list that holds no stream chunks")
    return merge_stream(chunks)


def response_confidence(completion: Any, *, choice: int = 0) -> ResponseConfidence:
    """The per-token and whole-response confidence of a completion.

    ``completion`` is an ``openai`` ``ChatCompletion`` (requested with ``logprobs=True`` and
    ``top_logprobs=N``), a Responses API ``Response`` (requested with
    ``include=["message.output_text.logprobs"]``), or the JSON dict of either; or a stream of either
    (``stream=True``): the stream itself, unread, or the list of chunks (events) it yielded. Called
    inside a test while the plugin is active, the result is recorded for the test's report and the
    summary.
    """
    __tracebackhide__ = True
    result = score_completion(completion, choice=choice)
    record(result)
    return result


def score_completion(completion: Any, *, choice: int = 0) -> ResponseConfidence:
    """``response_confidence()`` without recording the result for the running test."""
    __tracebackhide__ = True
    if isinstance(choice, bool) or not isinstance(choice, int) or choice < 0:
        raise TypeError(
            f"response_confidence(choice=...) takes a choice index, a whole number >= 0; got {choice!r}"
        )
    data = _whole(completion)
    model = data.get("model")
    if "choices" in data:
        entries, text = _chat_entries(data, choice)
        api: Literal["chat.completions", "responses"] = "chat.completions"
    elif "output" in data:
        entries, text = _responses_entries(data)
        api = "responses"
    else:
        raise TypeError(
            "response_confidence() takes a ChatCompletion (with 'choices'), a Responses API Response "
            f"(with 'output'), or the JSON dict of either; got a {type(completion).__name__} with keys "
            f"{sorted(data)[:8]}"
        )
    tokens = _tokens(entries)
    if not any(tok.logprob is not None for tok in tokens):
        raise NoLogprobsError(
            f"the {api} result from model {model!r} carries no logprobs, so its confidence is unknown. "
            + HOW_TO_REQUEST
        )
    return ResponseConfidence(tokens=tokens, text=text, model=str(model) if model else None, api=api)
