"""Watching the app's own LLM calls: the responses the code under test receives, scored. Pure of pytest.

The test's cassette (``_cassette.LLMCassette``) calls a ``Watcher`` with every response it replays or
records, the judge's excepted. A status-200 chat completion (``.../chat/completions``) or Responses API
result (``.../responses``) is scored as ``response_confidence()`` scores it, without being recorded as
the test's own call; a streamed one from its chunks' logprobs. One without logprobs or one that does not
parse is counted as skipped, never an error. Each is recorded for the test as kind ``"app_response"``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

from ._errors import NoLogprobsError
from ._report.records import TestRecords
from ._scoring.response import DEFAULT_MARGIN, HOW_TO_REQUEST, ResponseConfidence, score_completion
from ._text import shorten

__all__ = ["SKIP_REASONS", "AppResponse", "AppResponses", "Watcher", "strict_failure"]

NO_LOGPROBS, STREAMED, UNREADABLE = "no logprobs", "streamed", "unreadable"
SKIP_REASONS = (NO_LOGPROBS, STREAMED, UNREADABLE)
ROUTES = {"/chat/completions": "chat.completions", "/responses": "responses"}
CHOICE_POINTS = 5
"""How many choice points (where the model hesitated) a record keeps, in text order."""


def api_of(method: str, path: str) -> str | None:
    """The API a request calls (``chat.completions`` or ``responses``), or None for any other route."""
    if str(method).upper() != "POST":
        return None
    route = path.split("?", 1)[0].rstrip("/")
    return next((api for suffix, api in ROUTES.items() if route.endswith(suffix)), None)


def _header(headers: Mapping[str, Any], name: str) -> str:
    for key, value in (headers or {}).items():
        if str(key).lower() == name:
            return str(value[0] if isinstance(value, list) and value else value).lower()
    return ""


def _status(response: Mapping[str, Any]) -> int:
    status = response.get("status")
    code = status.get("code") if isinstance(status, Mapping) else None
    return code if isinstance(code, int) else 0


def read_response(response: Mapping[str, Any]) -> tuple[ResponseConfidence | None, str | None, Any]:
    """(the confidence, None) of a vcrpy response dict, or (None, why it was skipped); and its model."""
    headers = response.get("headers") or {}
    if _header(headers, "content-encoding"):
        from ._recording.vcr_internals import decode_response

        response = decode_response(response)
    body = (response.get("body") or {}).get("string")
    raw = body.encode() if isinstance(body, str) else body
    if not isinstance(raw, (bytes, bytearray)):
        return None, UNREADABLE, None
    try:
        streamed = "event-stream" in _header(headers, "content-type")
        if streamed or raw.lstrip().startswith((b"data:", b"event:")):
            from ._scoring.stream import merge_stream, parse_sse

            data = merge_stream(parse_sse(raw))  # a stream is scored from its chunks' logprobs
        else:
            data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None, UNREADABLE, None
    if not isinstance(data, dict):
        return None, UNREADABLE, None
    model = data.get("model")
    try:
        return score_completion(data), None, model
    except NoLogprobsError:
        return None, NO_LOGPROBS, model
    except Exception:  # whatever the body holds, the app gets its response: never an error of ours
        return None, UNREADABLE, model


class AppResponse:
    """One response the code under test received: scored (``confidence``) or skipped (``skipped``)."""

    __slots__ = ("api", "by", "confidence", "index", "minimum", "model", "replayed", "route", "skipped")

    def __init__(
        self,
        *,
        index: int,
        api: str,
        route: str,
        replayed: bool,
        by: str,
        minimum: float,
        confidence: ResponseConfidence | None,
        skipped: str | None,
        model: Any = None,
    ) -> None:
        self.index, self.api, self.route, self.replayed = index, api, route, replayed
        self.by, self.minimum = by, minimum
        self.confidence, self.skipped = confidence, skipped
        self.model = str(model) if model else None

    @property
    def score(self) -> float | None:
        """The response's confidence by ``llm_watch_by`` (None when skipped)."""
        return None if self.confidence is None else self.confidence.score(self.by)

    @property
    def unsure(self) -> bool:
        score = self.score
        return score is not None and score < self.minimum

    def _where(self) -> str:
        source = "replayed" if self.replayed else "live"
        return f"app response #{self.index} ({self.route}, model {self.model or 'unknown'}, {source})"

    def headline(self) -> str:
        """``app response #2 (...): geometric_mean 0.42 (mean 0.55, min 0.20 at ' maybe'); text='...'``."""
        rc = self.confidence
        if rc is None:
            return f"{self._where()}: skipped, {self.skipped}"
        others = ", ".join(
            f"{name} {rc.score(name):.2f}" + (f" at {rc.min_token!r}" if name == "min" else "")
            for name in ("mean", "geometric_mean", "min")
            if name != self.by
        )
        return f"{self._where()}: {self.by} {rc.score(self.by):.2f} ({others}); text={shorten(rc.text, 80)!r}"

    def choice_points_text(self) -> str:
        rc = self.confidence
        points = rc.choice_points() if rc is not None else []
        if not points:
            return "no choice points"
        return "choice points: " + ", ".join(
            f"{p.token!r} {p.probability:.2f} vs {p.runner_up!r} {p.runner_up_probability:.2f}"
            for p in points[:CHOICE_POINTS]
        )

    def describe(self) -> str:
        """The response in full, for the failed test's "llm verdicts" section."""
        if self.confidence is None:
            return self.headline()
        return f"{self._where()}:\n{self.confidence.describe()}"

    def to_record(self) -> dict[str, Any]:
        """A JSON record of kind ``app_response``; a skipped one says why in ``skipped``."""
        base: dict[str, Any] = {
            "kind": "app_response",
            "index": self.index,
            "api": self.api,
            "route": self.route,
            "model": self.model,
            "replayed": self.replayed,
        }
        rc = self.confidence
        if rc is None:
            return {**base, "skipped": self.skipped}
        data = rc.to_record()
        return {
            **base,
            "by": self.by,
            "score": rc.score(self.by),
            "minimum": self.minimum,
            "unsure": self.unsure,
            "text": data["text"],
            "tokens": data["tokens"],
            "mean": data["mean"],
            "geometric_mean": data["geometric_mean"],
            "min": data["min"],
            "min_token": data["min_token"],
            "weakest": data["weakest"],
            "choice_points": [
                point.model_dump() for point in rc.choice_points(DEFAULT_MARGIN)[:CHOICE_POINTS]
            ],
            "checks": data["checks"],
        }


class Watcher:
    """Scores what a test's cassette hands it, into the test's records; the ``llm_responses`` view."""

    def __init__(
        self, records: TestRecords, *, by: str = "geometric_mean", minimum: float = 0.5, strict: bool = False
    ) -> None:
        self.records = records
        self.strict = strict
        self.by = by
        self.minimum = minimum
        self.received: list[AppResponse] = []
        self._sent: list[tuple[float, AppResponse]] = []
        self._lock = threading.Lock()

    def __call__(self, request: Any, response: Mapping[str, Any], replayed: bool) -> None:
        api = api_of(request.method, request.path)
        if api is None or _status(response) != 200:
            return
        confidence, skipped, model = read_response(response)
        sent = request.__dict__.get("_llm_sent", float("inf"))
        with self._lock:
            # In the order the requests were sent, not answered: threads and tasks finish in any order.
            place = next((i for i, (at, _) in enumerate(self._sent) if at > sent), len(self._sent))
            item = AppResponse(
                index=place + 1,
                api=api,
                route=f"{request.method} {request.path}",
                replayed=replayed,
                by=self.by,
                minimum=self.minimum,
                confidence=confidence,
                skipped=skipped,
                model=model,
            )
            self._sent.insert(place, (sent, item))
            self.received.insert(place, item)
            for number, later in enumerate(self.received[place + 1 :], place + 2):
                later.index = number
            self.records.add(item)

    def scored(self) -> list[ResponseConfidence]:
        return [item.confidence for item in self.received if item.confidence is not None]

    def skipped(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for item in self.received:
            if item.skipped is not None:
                counts[item.skipped] = counts.get(item.skipped, 0) + 1
        return counts

    def unsure(self) -> list[AppResponse]:
        return [item for item in self.received if item.unsure]


def _skipped_text(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{reason} {count}" for reason, count in sorted(counts.items()))


class AppResponses(Sequence[ResponseConfidence]):
    """The app's scored responses in this test so far, in order; it grows as the test makes calls."""

    def __init__(self, watcher: Watcher) -> None:
        self._watcher = watcher

    def __len__(self) -> int:
        return len(self._watcher.scored())

    @overload
    def __getitem__(self, index: int) -> ResponseConfidence: ...
    @overload
    def __getitem__(self, index: slice) -> list[ResponseConfidence]: ...
    def __getitem__(self, index: int | slice) -> ResponseConfidence | list[ResponseConfidence]:
        __tracebackhide__ = True
        scored = self._watcher.scored()
        if isinstance(index, slice):
            return scored[index]
        try:
            return scored[index]
        except IndexError:
            skipped = self._watcher.skipped()
            note = f" ({sum(skipped.values())} skipped: {_skipped_text(skipped)})" if skipped else ""
            raise IndexError(
                f"llm_responses[{index}]: the code under test has received {len(scored)} scored "
                f"response(s) so far{note}. Only chat completions and Responses API results that carry "
                f"logprobs are scored. {HOW_TO_REQUEST}"
            ) from None

    def __iter__(self) -> Iterator[ResponseConfidence]:
        return iter(self._watcher.scored())

    def __eq__(self, other: object) -> bool:
        """Equal, as a list is, to a list (or tuple, or another view) of the same responses in order."""
        if isinstance(other, AppResponses):
            other = other._watcher.scored()
        if isinstance(other, (list, tuple)):
            return self._watcher.scored() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # it changes as the test runs, as a list does

    @property
    def skipped(self) -> dict[str, int]:
        """How many responses were not scored, by reason (``no logprobs``, ``streamed``, ``unreadable``)."""
        return self._watcher.skipped()

    def __repr__(self) -> str:
        skipped = self._watcher.skipped()
        note = f", {sum(skipped.values())} skipped ({_skipped_text(skipped)})" if skipped else ""
        return f"<llm_responses: {len(self)} scored{note}>"


def strict_failure(watcher: Watcher) -> str | None:
    """Why the test fails under ``llm_watch_strict`` (its unsure responses), or None."""
    unsure = watcher.unsure()
    if not unsure:
        return None
    lines = [
        f"llm_watch_strict: the code under test received {len(unsure)} unsure response(s), "
        f"{watcher.by} below llm_watch_min {watcher.minimum:.2f}:"
    ]
    for item in unsure:
        lines.append(f"  {item.headline()}")
        lines.append(f"    {item.choice_points_text()}")
    lines.append(
        "Make the app's answer surer (prompt, model, temperature), lower llm_watch_min, "
        "or run without --llm-watch-strict."
    )
    return "\n".join(lines)
