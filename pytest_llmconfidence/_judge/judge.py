"""The judge: prompt -> one chat completion with logprobs -> Verdict. Knows nothing of pytest.

``Judge`` takes its configuration, a ``Transport`` (how requests are sent: ``_transport``) and a
``JudgeHooks`` object (the prompt, and what to do with each verdict; the plugin's asks pytest's hooks).
"""

from __future__ import annotations

import contextvars
import json
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .._errors import JudgeResponseError, NoLogprobsError, no_logprobs_message
from .._scoring.completion import chat_choice
from .._scoring.confidence import (
    Position,
    find_verdict_position,
    normalize_token,
    positions_from_logprobs,
    score_alternatives,
)
from .._scoring.prompts import REASON_MAX_TOKENS, default_messages
from .._scoring.results import Alternative, Usage, Verdict, as_dict
from .._settings import CALL_FIELDS, DEFAULT_MAX_TOKENS, ConfigValueError, JudgeConfig, apply_overrides
from .._text import shorten
from .transport import OPTION_NAMES, Transport, base_url_of

if TYPE_CHECKING:
    from .._scoring.graded import Choice, Score
    from .._scoring.response import ResponseConfidence

_T = TypeVar("_T")

__all__ = ["Judge", "JudgeHooks", "verdict_from_completion"]

Messages = list[dict[str, str]]


class JudgeHooks:
    """What a judge asks of its surroundings; the defaults are the plain prompt and no bookkeeping.

    The plugin's subclass builds the prompt with ``pytest_llmconfidence_build_messages`` (a score's or a
    choice's with ``pytest_llmconfidence_build_graded_messages``), calibrates,
    records each verdict for the test and calls ``pytest_llmconfidence_verdict``.
    """

    def build_messages(
        self, question: str, response: str | None, context: str | None, config: JudgeConfig
    ) -> Messages:
        return default_messages(question, response, context, reason=config.reason)

    def build_graded_messages(
        self,
        kind: str,
        question: str,
        response: str | None,
        context: str | None,
        labels: Sequence[str],
        options: Sequence[str],
        config: JudgeConfig,
    ) -> Messages:
        """The prompt of a score (``kind`` "score") or a choice ("choice"): answer with one of ``labels``.

        ``options`` says what each label stands for (a choice's options; a score's labels themselves).
        """
        from .._scoring.graded import graded_messages

        return graded_messages(question, response, context, labels, options)

    def finish(self, verdict: Verdict) -> Verdict:
        """Called with every verdict before the judge returns it; returns the verdict to return."""
        return verdict

    def keep(self, result: Any) -> None:
        """Called with every score and choice before the judge returns it."""


def checked_messages(messages: Any, hook: str) -> Messages:
    """A hook's chat messages, or a TypeError naming the hook and what it returned instead."""
    entries = list(messages) if isinstance(messages, list | tuple) else None
    if entries and all(isinstance(m, Mapping) and isinstance(m.get("role"), str) for m in entries):
        return entries
    got = shorten(repr(messages), 120)
    raise TypeError(
        f"{hook} returned {got} ({type(messages).__name__}); return a non-empty list of chat messages, "
        'each a dict with a "role" and a "content", e.g. [{"role": "user", "content": "..."}], '
        "or None to leave the prompt to the next implementation"
    )


def read_completion(
    completion: Any, config: JudgeConfig, base_url: str
) -> tuple[dict[str, Any], str, Any, Mapping[str, Any], list[Position]]:
    """A chat completion checked and read: its JSON, model, finish reason, message and token positions."""
    __tracebackhide__ = True
    data = as_dict(completion, JudgeResponseError, f"the endpoint {base_url} did not send a chat completion")
    model = str(data.get("model") or config.model)
    choice, message = _first_choice(data, model, base_url)
    finish = choice.get("finish_reason")
    refusal = message.get("refusal")
    if refusal:
        raise JudgeResponseError(f"model {model!r} refused to judge: {refusal}")
    if finish == "content_filter":
        raise JudgeResponseError(
            f"model {model!r} stopped with finish_reason 'content_filter': the provider's content "
            "filter blocked the judge's answer; rephrase the question or judge with another model"
        )
    logprobs = choice.get("logprobs") or {}
    content = logprobs.get("content")
    if not content:
        text = message.get("content")
        if content is not None and not (text.strip() if isinstance(text, str) else text):
            raise JudgeResponseError(
                f"model {model!r} returned an empty answer (finish_reason {finish!r}); "
                "the judge expects one word, true or false"
            )
        raise NoLogprobsError(no_logprobs_message(model, base_url))
    try:
        positions = positions_from_logprobs(content)
    except JudgeResponseError as exc:
        raise JudgeResponseError(f"the endpoint {base_url} sent {exc} (model {model!r})") from None
    return data, model, finish, message, positions


def verdict_from_completion(
    completion: Any,
    *,
    question: str,
    config: JudgeConfig,
    response: str | None = None,
    context: str | None = None,
    base_url: str = "the endpoint",
    replayed: bool = False,
    latency_s: float = 0.0,
    expected: bool | None = None,
) -> Verdict:
    """The Verdict of a chat completion (a ``ChatCompletion`` or its JSON dict)."""
    __tracebackhide__ = True
    data, model, finish, message, positions = read_completion(completion, config, base_url)
    reasoning = None
    if config.reason:
        reasoning, positions = _after_marker(positions, finish, model, message.get("content"))
    position = find_verdict_position(positions, config.true_labels, config.false_labels) or positions[0]
    labels = {normalize_token(label) for label in (*config.true_labels, *config.false_labels)}
    candidates = position.candidates()
    scores = score_alternatives(candidates, config.true_labels, config.false_labels)
    return Verdict(
        value=scores.value,
        confidence=scores.confidence,
        normalized=scores.normalized,
        p_true=scores.p_true,
        p_false=scores.p_false,
        coverage=scores.coverage,
        token=position.token,
        position=position.index,
        alternatives=tuple(
            Alternative(token=token, probability=math.exp(logprob), logprob=logprob)
            for token, logprob in candidates
        ),
        question=question,
        response=response,
        context=context,
        model=model,
        threshold=config.threshold,
        replayed=replayed,
        usage=usage_of(data.get("usage")),
        reasoning=reasoning,
        requested_model=config.model if _differs(config.model, model) else None,
        finish_reason=str(finish) if finish is not None else None,
        cut_off=finish == "length" and normalize_token(position.token) not in labels,
        latency_s=latency_s,
        expected=expected,
    )


def _first_choice(
    data: Mapping[str, Any], model: str, base_url: str
) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """``choices[0]`` and its message, or a ``JudgeResponseError`` saying what is malformed."""
    choices = data.get("choices")
    found = None
    if choices:
        try:
            found = chat_choice(choices, 0)
        except JudgeResponseError as exc:
            raise JudgeResponseError(
                f"the endpoint {base_url} sent a malformed chat completion for model {model!r}: {exc}"
            ) from None
    if found is None:
        raise JudgeResponseError(f"the endpoint {base_url} returned no choices for model {model!r}")
    return found


def _after_marker(
    positions: list[Position], finish: Any, model: str, text: str | None
) -> tuple[str, list[Position]]:
    """A reasoning answer split at its last ``Verdict:`` line: the reasoning, and the positions after it."""
    joined = "".join(position.token for position in positions)
    found = list(re.finditer(r"verdict\s*:", joined, re.IGNORECASE))
    if not found:
        excerpt = shorten(text if text is not None else joined, 120)
        if finish == "length":
            raise JudgeResponseError(
                f"model {model!r} was cut off (finish_reason 'length') before its `Verdict: true|false` "
                f"line, after {len(positions)} tokens: raise max_tokens (judge(..., max_tokens=800) or the "
                f"llm marker). It wrote: {excerpt!r}"
            )
        raise JudgeResponseError(
            f"model {model!r} reasoned but did not end with a `Verdict: true` or `Verdict: false` line "
            f"(finish_reason {finish!r}); it wrote: {excerpt!r}"
        )
    marker = found[-1]
    offset = 0
    after: list[Position] = []
    for position in positions:
        offset += len(position.token)
        if offset > marker.end():
            after.append(position)
    if not after:
        raise JudgeResponseError(
            f"model {model!r} was cut off right after `Verdict:` (finish_reason {finish!r}): raise max_tokens"
        )
    return joined[: marker.start()].strip(), after


def _differs(requested: str, served: str) -> bool:
    """Whether the server says it used another model than the one asked for (dated snapshots aside)."""
    return not (served == requested or served.startswith(f"{requested}-"))


def usage_of(usage: Any) -> Usage | None:
    """The token counts the endpoint reported; ``None`` when they do not parse (the verdict stands)."""
    if not isinstance(usage, Mapping):
        return None
    try:
        counts = {k: int(v or 0) for k, v in usage.items() if k in Usage.model_fields}
    except (TypeError, ValueError, OverflowError):
        return None
    if any(count < 0 for count in counts.values()):
        return None
    return Usage(**counts)


class Judge:
    """Calls the model and turns its one-word answer into a Verdict.

    ``transport`` sends each request and says whether it was replayed (``Transport``: sync and async);
    ``hooks`` builds the prompt and hears of every verdict (``JudgeHooks``). ``many``, ``score_many`` and
    ``choose_many`` send from worker threads; ``acheck``, ``ascore`` and ``achoose`` are awaited.
    """

    def __init__(self, config: JudgeConfig, transport: Transport, *, hooks: JudgeHooks | None = None) -> None:
        self.config = config
        self.transport = transport
        self.hooks = hooks or JudgeHooks()

    def async_client(self) -> Any:
        """The ``openai.AsyncOpenAI`` client of ``acheck``, made on first use."""
        return self.transport.async_client()

    def params(
        self, question: str, response: str | None, context: str | None, config: JudgeConfig
    ) -> dict[str, Any]:
        """The keyword arguments of ``client.chat.completions.create`` for one verdict."""
        messages = self.hooks.build_messages(question, response, context, config)
        return {
            "model": config.model,
            "messages": messages,
            "temperature": 0,
            "logprobs": True,
            "top_logprobs": config.top_logprobs,
            "max_tokens": REASON_MAX_TOKENS
            if config.reason and config.max_tokens == DEFAULT_MAX_TOKENS
            else config.max_tokens,
        }

    def config_for(self, overrides: Mapping[str, Any]) -> JudgeConfig:
        try:
            return apply_overrides(self.config, overrides, where="judge()", allowed=CALL_FIELDS)
        except ConfigValueError as exc:
            raise TypeError(str(exc)) from None

    def __call__(
        self,
        question: str,
        response: str | None = None,
        *,
        context: str | None = None,
        expected: bool | None = None,
        **overrides: Any,
    ) -> Verdict:
        """Judge ``response`` against ``question``: one chat completion, one Verdict."""
        __tracebackhide__ = True
        return self._run(self._verdict_call(question, response, context, expected, overrides))

    async def acheck(
        self,
        question: str,
        response: str | None = None,
        *,
        context: str | None = None,
        expected: bool | None = None,
        **overrides: Any,
    ) -> Verdict:
        """``await judge.acheck(question, response)``: ``judge(...)`` without blocking the event loop."""
        __tracebackhide__ = True
        return await self._arun(self._verdict_call(question, response, context, expected, overrides))

    def many(self, items: Iterable[Any], *, concurrency: int = 8, **overrides: Any) -> list[Verdict]:
        """Judge many ``(question, response)`` pairs at once; the verdicts come in input order.

        An item is a question, a ``(question, response[, context])`` tuple, or a dict of ``judge()``
        keyword arguments. At most ``concurrency`` requests are in flight; identical requests are sent
        one after another in input order, so a cassette replays them in the order it recorded them.
        Every verdict is recorded (in input order); the first failure, in input order, is raised.
        """
        __tracebackhide__ = True

        def call(question: str, response: str | None, context: str | None, expected: Any) -> _Call[Verdict]:
            return self._verdict_call(question, response, context, expected, overrides)

        return self._run_many(items, concurrency, "judge.many()", _BATCH_KEYS, call)

    def score(
        self,
        question: str,
        response: str | None = None,
        *,
        scale: Sequence[Any] = (1, 2, 3, 4, 5),
        context: str | None = None,
        expected: Any = None,
        **overrides: Any,
    ) -> Score:
        """Grade ``response`` on ``scale`` (integers or words): one chat completion, one ``Score``.

        ``expected`` is the label the test expects (for calibration, kept as ``expected_label``).
        """
        __tracebackhide__ = True
        return self._run(self._score_call(question, response, context, expected, _scale(scale), overrides))

    async def ascore(
        self,
        question: str,
        response: str | None = None,
        *,
        scale: Sequence[Any] = (1, 2, 3, 4, 5),
        context: str | None = None,
        expected: Any = None,
        **overrides: Any,
    ) -> Score:
        """``await judge.ascore(question, response)``: ``judge.score(...)``, awaited."""
        __tracebackhide__ = True
        call = self._score_call(question, response, context, expected, _scale(scale), overrides)
        return await self._arun(call)

    def score_many(
        self,
        items: Iterable[Any],
        *,
        scale: Sequence[Any] = (1, 2, 3, 4, 5),
        concurrency: int = 8,
        **overrides: Any,
    ) -> list[Score]:
        """Grade many items on one ``scale`` at once; the scores come in input order, as ``many``'s verdicts.

        An item is a question, a ``(question, response[, context])`` tuple, or a dict of ``judge.score()``
        keyword arguments (``question``, ``response``, ``context``, ``expected``).
        """
        __tracebackhide__ = True
        items_of = _scale(scale)

        def call(question: str, response: str | None, context: str | None, expected: Any) -> _Call[Score]:
            return self._score_call(question, response, context, expected, items_of, overrides)

        return self._run_many(items, concurrency, "judge.score_many()", _BATCH_KEYS, call)

    def choose(
        self,
        question: str,
        response: str | None = None,
        *,
        options: Sequence[str],
        context: str | None = None,
        **overrides: Any,
    ) -> Choice:
        """Pick one of ``options``: one chat completion, one ``Choice``.

        Options that are not single short words are asked for by letters (A, B, C…) and mapped back.
        """
        __tracebackhide__ = True
        return self._run(self._choice_call(question, response, context, _options(options), overrides))

    async def achoose(
        self,
        question: str,
        response: str | None = None,
        *,
        options: Sequence[str],
        context: str | None = None,
        **overrides: Any,
    ) -> Choice:
        """``await judge.achoose(question, response, options=[...])``: ``judge.choose(...)``, awaited."""
        __tracebackhide__ = True
        return await self._arun(self._choice_call(question, response, context, _options(options), overrides))

    def choose_many(
        self, items: Iterable[Any], *, options: Sequence[str], concurrency: int = 8, **overrides: Any
    ) -> list[Choice]:
        """Pick one of the same ``options`` for many items at once; the choices come in input order.

        An item is a question, a ``(question, response[, context])`` tuple, or a dict of ``judge.choose()``
        keyword arguments (``question``, ``response``, ``context``).
        """
        __tracebackhide__ = True
        names = _options(options)

        def call(question: str, response: str | None, context: str | None) -> _Call[Choice]:
            return self._choice_call(question, response, context, names, overrides)

        return self._run_many(items, concurrency, "judge.choose_many()", _BATCH_KEYS[:3], call)

    def _verdict_call(
        self,
        question: str,
        response: str | None,
        context: str | None,
        expected: bool | None,
        overrides: Mapping[str, Any],
    ) -> _Call[Verdict]:
        """A verdict's request, checked and built, and how its completion becomes the Verdict."""
        __tracebackhide__ = True
        config, params = self._prepare(question, response, context, expected, overrides)

        def finish(completion: Any, replayed: bool, latency: float) -> Verdict:
            __tracebackhide__ = True
            return self._finish(completion, replayed, latency, question, response, context, expected, config)

        return _Call(params, finish)

    def _score_call(
        self,
        question: str,
        response: str | None,
        context: str | None,
        expected: Any,
        items_of: Mapping[str, int | str],
        overrides: Mapping[str, Any],
    ) -> _Call[Score]:
        __tracebackhide__ = True
        from .._scoring.graded import Score, scale_mean

        labels = tuple(items_of)
        if expected is not None and str(expected) not in labels:
            raise ValueError(f"judge.score(expected={expected!r}): not on the scale {', '.join(labels)}")

        def score(facts: dict[str, Any]) -> Score:
            mean = scale_mean(labels, facts["distribution"])
            facts["distribution"] = {items_of[label]: p for label, p in facts["distribution"].items()}
            facts["value"] = None if facts["value"] is None else items_of[facts["value"]]
            return Score(
                **facts,
                scale=tuple(items_of.values()),
                expected=mean,
                expected_label=None if expected is None else str(expected),
            )

        return self._graded_call("score", question, response, context, labels, labels, overrides, score)

    def _choice_call(
        self,
        question: str,
        response: str | None,
        context: str | None,
        names: tuple[str, ...],
        overrides: Mapping[str, Any],
    ) -> _Call[Choice]:
        __tracebackhide__ = True
        from .._scoring.graded import Choice, choice_labels

        labels = choice_labels(names)
        by_label = dict(zip(labels, names, strict=True))

        def choice(facts: dict[str, Any]) -> Choice:
            facts["distribution"] = {by_label[label]: p for label, p in facts["distribution"].items()}
            facts["value"] = None if facts["value"] is None else by_label[facts["value"]]
            return Choice(**facts, options=names, labels=labels)

        return self._graded_call("choice", question, response, context, labels, names, overrides, choice)

    def _graded_call(
        self,
        kind: str,
        question: str,
        response: str | None,
        context: str | None,
        labels: tuple[str, ...],
        options: tuple[str, ...],
        overrides: Mapping[str, Any],
        make: Callable[[dict[str, Any]], _T],
    ) -> _Call[_T]:
        """A score's or a choice's request, and how its completion becomes the result (``make``)."""
        __tracebackhide__ = True
        self._check_inputs(question, response, context)
        config = self.config_for(overrides)
        messages = self.hooks.build_graded_messages(
            kind, question, response, context, labels, options, config
        )
        params = {
            "model": config.model,
            "messages": messages,
            "temperature": 0,
            "logprobs": True,
            "top_logprobs": config.top_logprobs,
            "max_tokens": max(config.max_tokens, 2),
        }

        def finish(completion: Any, replayed: bool, latency: float) -> _T:
            __tracebackhide__ = True
            facts = self._graded_facts(completion, replayed, latency, config, labels)
            facts.update(question=question, response=response, context=context)
            return self._keep(make(facts))

        return _Call(params, finish)

    def _graded_facts(
        self, completion: Any, replayed: bool, latency: float, config: JudgeConfig, labels: tuple[str, ...]
    ) -> dict[str, Any]:
        """What a score's or a choice's completion says: the facts both results carry."""
        __tracebackhide__ = True
        from .._scoring.graded import read_distribution

        data, model, _, _, positions = read_completion(completion, config, base_url_of(self.transport.client))
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

    def _send(self, params: dict[str, Any]) -> tuple[Any, bool, float]:
        """Send one request: its completion, whether it was replayed, and how long it took."""
        start = time.perf_counter()
        completion, replayed = self.transport.send(params)
        return completion, replayed, time.perf_counter() - start

    def _run(self, call: _Call[_T]) -> _T:
        """One request, sent on this thread: ``judge()``, ``judge.score()``, ``judge.choose()``."""
        __tracebackhide__ = True
        return call.finish(*self._send(call.params))

    async def _arun(self, call: _Call[_T]) -> _T:
        """One request, awaited: ``acheck``, ``ascore``, ``achoose``."""
        __tracebackhide__ = True
        start = time.perf_counter()
        completion, replayed = await self.transport.asend(call.params)
        return call.finish(completion, replayed, time.perf_counter() - start)

    def _run_many(
        self,
        items: Iterable[Any],
        concurrency: int,
        where: str,
        keys: tuple[str, ...],
        make: Callable[..., _Call[_T]],
    ) -> list[_T]:
        """Many requests at once: ``many``, ``score_many``, ``choose_many``; results in input order.

        Every item is checked and its request built (``make`` of the item's arguments) before anything is
        sent. At most ``concurrency`` requests are in flight; identical requests are sent one after another
        in input order (a cassette replays identical requests in the order it recorded them). Results are
        finished (recorded) on this thread in input order; the first failure, in input order, is raised.
        """
        __tracebackhide__ = True
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError(f"concurrency must be a whole number >= 1, got {concurrency!r}")
        calls = [make(**_batch_item(item, where, keys)) for item in items]
        groups: dict[str, list[int]] = {}
        for index, call in enumerate(calls):
            groups.setdefault(json.dumps(call.params, sort_keys=True, default=str), []).append(index)
        sent: list[tuple[Any, bool, float] | None] = [None] * len(calls)
        errors: list[BaseException | None] = [None] * len(calls)

        def run(indices: list[int]) -> None:
            for index in indices:
                try:
                    sent[index] = self._send(calls[index].params)
                except Exception as exc:
                    errors[index] = exc
                    return

        if groups:
            with ThreadPoolExecutor(min(concurrency, len(groups)), "llmconfidence-judge") as pool:
                for indices in groups.values():
                    pool.submit(contextvars.copy_context().run, run, indices)
        results = []
        for index, call in enumerate(calls):
            found = sent[index]
            if found is None:
                raise errors[index] or next(exc for exc in errors if exc is not None)
            results.append(call.finish(*found))
        return results

    def _keep(self, result: _T) -> _T:
        self.hooks.keep(result)
        return result

    def ask(
        self,
        prompt: str | Sequence[Mapping[str, Any]],
        *,
        model: str | None = None,
        top_logprobs: int | None = None,
        **params: Any,
    ) -> ResponseConfidence:
        """Ask a model (the judge's, unless ``model=``) with logprobs; the confidence of its whole answer.

        ``prompt`` is a user message or a list of chat messages; other keyword arguments (``max_tokens``,
        ``temperature``...) go to ``chat.completions.create``, with ``temperature=0`` unless given, so a
        recording does not depend on sampling. The SDK's request options ``timeout=``, ``extra_headers=``,
        ``extra_query=`` and ``extra_body=`` are given to the client as ``create`` does, not put in the
        body. The request goes through the judge's client and the test's cassette; the result is recorded
        like ``response_confidence()``'s.
        """
        __tracebackhide__ = True
        from .._scoring.response import response_confidence

        if isinstance(prompt, str):
            messages: list[Any] = [{"role": "user", "content": prompt}]
        else:
            messages = [dict(message) for message in prompt]
        options = {name: params.pop(name) for name in OPTION_NAMES if name in params}
        request = {
            "model": model or self.config.model,
            "messages": messages,
            "temperature": 0,
            "logprobs": True,
            "top_logprobs": self.config.top_logprobs if top_logprobs is None else top_logprobs,
            **params,
        }
        completion, _ = self.transport.send(request, options)
        return response_confidence(completion)

    def _check_inputs(self, question: str, response: str | None, context: str | None) -> None:
        """The arguments every judge call shares, checked."""
        __tracebackhide__ = True
        if not isinstance(question, str) or not question.strip():
            raise TypeError(f"judge() needs the question as a non-empty string, got {question!r}")
        for name, value in (("response", response), ("context", context)):
            if value is not None and not isinstance(value, str):
                raise TypeError(f"judge() needs {name} as a string or None, got {type(value).__name__}")

    def _prepare(
        self,
        question: str,
        response: str | None,
        context: str | None,
        expected: bool | None,
        overrides: Mapping[str, Any],
    ) -> tuple[JudgeConfig, dict[str, Any]]:
        __tracebackhide__ = True
        self._check_inputs(question, response, context)
        if expected is not None and not isinstance(expected, bool):
            raise TypeError(f"judge() needs expected as True, False or None, got {expected!r}")
        config = self.config_for(overrides)
        return config, self.params(question, response, context, config)

    def _finish(
        self,
        completion: Any,
        replayed: bool,
        latency: float,
        question: str,
        response: str | None,
        context: str | None,
        expected: bool | None,
        config: JudgeConfig,
    ) -> Verdict:
        __tracebackhide__ = True
        verdict = verdict_from_completion(
            completion,
            question=question,
            config=config,
            response=response,
            context=context,
            base_url=base_url_of(self.transport.client),
            replayed=replayed,
            latency_s=latency,
            expected=expected,
        )
        return self.hooks.finish(verdict)


_BATCH_KEYS = ("question", "response", "context", "expected")


@dataclass(frozen=True)
class _Call(Generic[_T]):
    """One judge request, checked and built: the body to send, and how its completion becomes the result.

    ``finish(completion, replayed, latency_s)`` reads the completion and records the result; the sync,
    async and batch paths only differ in how they send ``params``.
    """

    params: dict[str, Any]
    finish: Callable[[Any, bool, float], _T]


def _scale(scale: Sequence[Any]) -> dict[str, int | str]:
    """A score's scale, checked (at least two distinct labels): each label the model is asked for, and
    the item it stands for in ``Score`` (an integer of the scale stays an integer; anything else is its
    label)."""
    items = tuple(scale) if not isinstance(scale, str) else ()
    labels = tuple(str(item) for item in items)
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise ValueError(f"judge.score() needs a scale of at least two distinct labels, got {scale!r}")
    return {
        label: item if isinstance(item, int) and not isinstance(item, bool) else label
        for label, item in zip(labels, items, strict=True)
    }


def _options(options: Sequence[str]) -> tuple[str, ...]:
    """A choice's options, checked: at least two distinct strings."""
    names = tuple(options) if not isinstance(options, str) else ()
    if len(names) < 2 or len(set(names)) != len(names) or not all(isinstance(o, str) for o in names):
        raise ValueError(f"judge.choose() needs at least two distinct options as strings, got {options!r}")
    return names


def _batch_item(item: Any, where: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """One item of a batch (``many``, ``score_many``, ``choose_many``) as keyword arguments named ``keys``."""
    if isinstance(item, str):
        return {key: item if key == "question" else None for key in keys}
    if isinstance(item, Mapping):
        unknown = sorted(set(item) - set(keys))
        if unknown or "question" not in item:
            raise TypeError(
                f"{where} items as dicts need 'question' and may have {', '.join(keys[1:])}; "
                f"got {sorted(item)}"
            )
        return {key: item.get(key) for key in keys}
    if isinstance(item, (tuple, list)) and 1 <= len(item) <= 3:
        values = [*item, None, None, None][: len(keys)]
        return dict(zip(keys, values, strict=True))
    raise TypeError(
        f"{where} takes questions, (question, response[, context]) tuples or dicts of "
        f"{where.replace('_many', '').replace('.many', '')} arguments; got {item!r}"
    )
