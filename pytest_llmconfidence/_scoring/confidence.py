"""The confidence maths: pure functions over logprobs, no pytest, no openai, no pydantic.

A *position* is one generated token: its text, its logprob, and its top alternatives as
``(token, logprob)`` pairs. Logprobs at or below ``PADDING_LOGPROB`` are padding (OpenAI uses
-9999 for "not in the top 20") and count as absent everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple, NoReturn, TypeVar

from .labels import DEFAULT_FALSE_LABELS, DEFAULT_TRUE_LABELS, normalize_token

__all__ = [
    "DEFAULT_FALSE_LABELS",
    "DEFAULT_TRUE_LABELS",
    "PADDING_LOGPROB",
    "Position",
    "Scores",
    "find_verdict_position",
    "likelier",
    "normalize_token",
    "positions_from_logprobs",
    "score_alternatives",
]

PADDING_LOGPROB = -100.0


def is_padding(logprob: float) -> bool:
    return math.isnan(logprob) or logprob <= PADDING_LOGPROB


class Position:
    """One generated token with its alternatives (``(token, logprob)``, best first as sent)."""

    __slots__ = ("alternatives", "index", "logprob", "token")

    def __init__(
        self, index: int, token: str, logprob: float, alternatives: tuple[tuple[str, float], ...]
    ) -> None:
        self.index = index
        self.token = token
        self.logprob = logprob
        self.alternatives = alternatives

    def __repr__(self) -> str:
        return f"Position({self.index}, {self.token!r}, {self.logprob}, {self.alternatives!r})"

    def candidates(self) -> tuple[tuple[str, float], ...]:
        """The alternatives without padding, or the sampled token alone when none were returned."""
        kept = tuple((tok, lp) for tok, lp in self.alternatives if not is_padding(lp))
        if kept:
            return kept
        if not is_padding(self.logprob):
            return ((self.token, self.logprob),)
        return ()


MAX_POSITION_MASS = 1.01
"""The most the alternatives at one position may add up to: a distribution, give or take rounding."""
ROUNDING_LOGPROB = 1e-6
"""A positive logprob up to this is rounding (read as probability 1); beyond it, not a probability."""


def positions_from_logprobs(content: Iterable[Mapping[str, Any]]) -> list[Position]:
    """Positions from OpenAI's ``choices[0].logprobs.content`` (a list of token dicts).

    Numbers that cannot be probabilities are never read: a malformed entry, a NaN or infinite logprob, a
    positive one beyond rounding, a token that is not text, or alternatives adding up to more than 1.01
    raise ``JudgeResponseError`` naming the position, the token and the value. A token sent only as
    ``bytes`` is decoded from them; a null logprob counts as absent.
    """
    if not isinstance(content, (list, tuple)):
        _malformed(f"logprobs.content is a {type(content).__name__}, not a list of token entries")
    positions = []
    for index, entry in enumerate(content):
        if not isinstance(entry, Mapping):
            _malformed(f"logprobs.content[{index}] is a {type(entry).__name__}, not a token entry")
        top = entry.get("top_logprobs") or ()
        if not isinstance(top, (list, tuple)):
            _malformed(f"logprobs.content[{index}].top_logprobs is a {type(top).__name__}, not a list")
        alternatives = []
        for rank, alt in enumerate(top):
            if not isinstance(alt, Mapping):
                _malformed(
                    f"logprobs.content[{index}].top_logprobs[{rank}] is a {type(alt).__name__}, not an entry"
                )
            where = f"logprobs.content[{index}].top_logprobs[{rank}]"
            token = _as_token(alt, where)
            alternatives.append((token, _as_logprob(alt.get("logprob"), where, token)))
        token = _as_token(entry, f"logprobs.content[{index}]")
        position = Position(
            index=index,
            token=token,
            logprob=_as_logprob(entry.get("logprob"), f"logprobs.content[{index}]", token),
            alternatives=tuple(alternatives),
        )
        _check_mass(position)
        positions.append(position)
    return positions


def _malformed(what: str) -> NoReturn:
    from .._errors import JudgeResponseError

    raise JudgeResponseError(f"malformed logprobs: {what}")


def _as_token(entry: Mapping[str, Any], where: str) -> str:
    """An entry's token text; decoded from its ``bytes`` when only they were sent."""
    token = entry.get("token")
    if isinstance(token, str):
        return token
    if token is not None:
        _malformed(f"{where}.token is {token!r} ({_kind(token)}), not text: a token is sent as a string")
    raw = entry.get("bytes")
    if raw is None:
        return ""
    if not isinstance(raw, (list, tuple)) or not all(
        isinstance(b, int) and not isinstance(b, bool) and 0 <= b <= 255 for b in raw
    ):
        _malformed(f"{where}.bytes is {raw!r}, not a list of byte values (0 to 255)")
    return bytes(raw).decode("utf-8", "replace")


def _kind(value: Any) -> str:
    return "a JSON boolean" if isinstance(value, bool) else f"a {type(value).__name__}"


def _as_logprob(value: Any, where: str = "logprob", token: str | None = None) -> float:
    if value is None:
        return float("-inf")
    named = f"{where}.logprob"
    of = "" if token is None else f" (token {token!r})"
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        _malformed(f"{named} is {value!r}{of}, not a number")
    try:
        number = float(value)
    except ValueError:
        _malformed(f"{named} is {value!r}{of}, not a number")
    if not math.isfinite(number):
        _malformed(f"{named} is {number!r}{of}: a logprob is a finite number at most 0")
    if number > ROUNDING_LOGPROB:
        _malformed(f"{named} is {number!r}{of}: a positive logprob is a probability above 1")
    return min(0.0, number)


def _check_mass(position: Position) -> None:
    """The alternatives at one position are a distribution: their probabilities add up to at most 1.01."""
    best: dict[str, float] = {}
    for token, logprob in position.alternatives:
        if not is_padding(logprob) and (token not in best or logprob > best[token]):
            best[token] = logprob
    mass = math.fsum(math.exp(logprob) for logprob in best.values())
    if mass > MAX_POSITION_MASS:
        top = max(best.items(), key=lambda pair: pair[1])
        _malformed(
            f"the alternatives at logprobs.content[{position.index}] (sampled token {position.token!r}) "
            f"add up to a probability of {mass:.2f}, more than 1: the largest is {top[0]!r} at "
            f"{math.exp(top[1]):.2f}. They are not a distribution and are not read as a verdict"
        )


class Scores(NamedTuple):
    """The verdict at one position: label probabilities, the value and its confidence."""

    p_true: float
    p_false: float
    coverage: float
    value: bool | None
    confidence: float
    normalized: float


def _label_set(labels: Iterable[str]) -> frozenset[str]:
    return frozenset(normalize_token(label) for label in labels)


_V = TypeVar("_V")


def likelier(first: _V, p_first: float, second: _V, p_second: float) -> tuple[_V | None, float]:
    """The more probable of two answers, with its probability; ``(None, 0.0)`` when they are as probable."""
    if p_first > p_second:
        return first, p_first
    if p_second > p_first:
        return second, p_second
    return None, 0.0


def score_alternatives(
    alternatives: Sequence[tuple[str, float]],
    true_labels: Iterable[str] = DEFAULT_TRUE_LABELS,
    false_labels: Iterable[str] = DEFAULT_FALSE_LABELS,
) -> Scores:
    """Sum the probability of the alternatives that normalise to a true label, and to a false label.

    Padding is ignored; a token text listed twice counts once (its best logprob). The chosen
    verdict's probability is the confidence, never renormalised.
    """
    trues, falses = _label_set(true_labels), _label_set(false_labels)
    best: dict[str, float] = {}
    for token, logprob in alternatives:
        if is_padding(logprob):
            continue
        if token not in best or logprob > best[token]:
            best[token] = logprob
    p_true = p_false = 0.0
    for token, logprob in best.items():
        label = normalize_token(token)
        if label in trues:
            p_true += math.exp(logprob)
        elif label in falses:
            p_false += math.exp(logprob)
    coverage = p_true + p_false
    if coverage > 1.0:  # only rounding, or a server that does not return a distribution
        p_true, p_false, coverage = p_true / coverage, p_false / coverage, 1.0
    value, confidence = likelier(True, p_true, False, p_false)
    normalized = max(p_true, p_false) / coverage if coverage > 0 else 0.0
    return Scores(p_true, p_false, coverage, value, confidence, normalized)


def find_verdict_position(
    positions: Sequence[Position],
    true_labels: Iterable[str] = DEFAULT_TRUE_LABELS,
    false_labels: Iterable[str] = DEFAULT_FALSE_LABELS,
) -> Position | None:
    """Where the verdict was written: the first position whose *sampled* token is a label.

    So ``{"verdict": false}`` is read at its ``false``, not at the ``{`` whose long tail of
    alternatives happens to hold a ``True``. When no sampled token is a label, the first position whose
    alternatives hold one; ``None`` (undecided) when none does.
    """
    labels = _label_set(true_labels) | _label_set(false_labels)
    for position in positions:
        if normalize_token(position.token) in labels:
            return position
    for position in positions:
        if any(normalize_token(token) in labels for token, _ in position.candidates()):
            return position
    return None
