"""The confidence maths: pure functions over logprobs, no pytest, no openai, no pydantic.

A *position* is one generated token: its text, its logprob, and its top alternatives as
``(token, logprob)`` pairs. Logprobs at or below ``PADDING_LOGPROB`` are padding (OpenAI uses
-9999 for "not in the top 20") and count as absent everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple, NoReturn

from .labels import DEFAULT_FALSE_LABELS, DEFAULT_TRUE_LABELS

__all__ = [
    "DEFAULT_FALSE_LABELS",
    "DEFAULT_TRUE_LABELS",
    "PADDING_LOGPROB",
    "Position",
    "Scores",
    "find_verdict_position",
    "normalize_token",
    "positions_from_logprobs",
    "score_alternatives",
]

PADDING_LOGPROB = -100.0
_QUOTES = "\"'`\u201c\u201d\u2018\u2019"


def normalize_token(token: str) -> str:
    """Token text as a label: whitespace and quotes stripped, case-folded (``' "True'`` -> ``'true'``)."""
    previous = None
    text = token
    while previous != text:
        previous = text
        text = text.strip().strip(_QUOTES)
    return text.casefold()


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


def positions_from_logprobs(content: Iterable[Mapping[str, Any]]) -> list[Position]:
    """Positions from OpenAI's ``choices[0].logprobs.content`` (a list of token dicts).

    A malformed entry raises ``JudgeResponseError`` naming it; a non-finite logprob counts as absent and
    a positive one (rounding, or a broken server) as probability 1.
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
            where = f"logprobs.content[{index}].top_logprobs[{rank}].logprob"
            alternatives.append((str(alt.get("token", "")), _as_logprob(alt.get("logprob"), where)))
        positions.append(
            Position(
                index=index,
                token=str(entry.get("token", "")),
                logprob=_as_logprob(entry.get("logprob"), f"logprobs.content[{index}].logprob"),
                alternatives=tuple(alternatives),
            )
        )
    return positions


def _malformed(what: str) -> NoReturn:
    from .._errors import JudgeResponseError

    raise JudgeResponseError(f"malformed logprobs: {what}")


def _as_logprob(value: Any, where: str = "logprob") -> float:
    if value is None:
        return float("-inf")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        _malformed(f"{where} is {value!r}, not a number")
    try:
        number = float(value)
    except ValueError:
        _malformed(f"{where} is {value!r}, not a number")
    if not math.isfinite(number):
        return float("-inf")  # NaN or infinite: absent, so no NaN reaches a verdict or a report
    return min(0.0, number)


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
    value: bool | None
    if p_true > p_false:
        value, confidence = True, p_true
    elif p_false > p_true:
        value, confidence = False, p_false
    else:
        value, confidence = None, 0.0
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
