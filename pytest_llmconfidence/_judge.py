"""The judge: prompt -> one chat completion with logprobs -> Verdict. Knows nothing of pytest."""

from __future__ import annotations

import contextlib
import contextvars
import json
import math
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from ._confidence import find_verdict_position, positions_from_logprobs, score_alternatives
from ._config import CALL_FIELDS, ConfigValueError, JudgeConfig, apply_overrides
from ._errors import JudgeResponseError, LLMConfidenceError, NoLogprobsError, no_logprobs_message
from ._models import Alternative, Usage, Verdict

if TYPE_CHECKING:
    from ._response import ResponseConfidence

__all__ = ["PLACEHOLDER_KEY", "Judge", "build_async_client", "build_client", "verdict_from_completion"]

PLACEHOLDER_KEY = "sk-llmconfidence-placeholder-not-a-real-key"

Messages = list[dict[str, str]]
BuildMessages = Callable[[str, "str | None", "str | None", JudgeConfig], Messages]
Send = Callable[[Any, dict[str, Any]], tuple[Any, bool]]
AsyncSend = Callable[[Any, dict[str, Any]], Awaitable[tuple[Any, bool]]]


def build_client(config: JudgeConfig, **options: Any) -> Any:
    """An ``openai.OpenAI`` client for the judge: ``--llm-base-url`` and ``OPENAI_API_KEY``.

    With no key in the environment a placeholder is used, so replaying cassettes and local
    servers (which ignore the key) need none.
    """
    import openai

    kwargs: dict[str, Any] = {"api_key": os.environ.get("OPENAI_API_KEY") or PLACEHOLDER_KEY}
    if config.base_url:
        kwargs["base_url"] = config.base_url
    kwargs.update(options)
    return openai.OpenAI(**kwargs)


def build_async_client(config: JudgeConfig, **options: Any) -> Any:
    """An ``openai.AsyncOpenAI`` client for ``Judge.acheck``, configured as ``build_client``.

    Its connections are not kept alive between requests: pytest-asyncio and anyio may give every
    test its own event loop, and a pooled connection belongs to the loop that opened it.
    """
    import openai

    limits = openai.DEFAULT_CONNECTION_LIMITS
    kwargs: dict[str, Any] = {"api_key": os.environ.get("OPENAI_API_KEY") or PLACEHOLDER_KEY}
    if config.base_url:
        kwargs["base_url"] = config.base_url
    kwargs["http_client"] = openai.DefaultAsyncHttpxClient(
        limits=type(limits)(max_connections=limits.max_connections, max_keepalive_connections=0)
    )
    kwargs.update(options)
    return openai.AsyncOpenAI(**kwargs)


def _as_dict(completion: Any) -> dict[str, Any]:
    if isinstance(completion, Mapping):
        return dict(completion)
    dump = getattr(completion, "model_dump", None)
    if dump is None:
        raise JudgeResponseError(f"expected a chat completion, got {type(completion).__name__}")
    result: dict[str, Any] = dump()
    return result


def _base_url(client: Any) -> str:
    return str(getattr(client, "base_url", "") or "the endpoint")


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
    """The Verdict of a chat completion (a ``ChatCompletion`` or its JSON dict), per DESIGN §3."""
    __tracebackhide__ = True
    data = _as_dict(completion)
    model = str(data.get("model") or config.model)
    choices: Sequence[Mapping[str, Any]] = data.get("choices") or []
    if not choices:
        raise JudgeResponseError(f"the endpoint {base_url} returned no choices for model {model!r}")
    choice = choices[0]
    finish = choice.get("finish_reason")
    message = choice.get("message") or {}
    refusal = message.get("refusal")
    if refusal:
        raise JudgeResponseError(f"model {model!r} refused to judge: {refusal}")
    if finish == "content_filter":
        raise JudgeResponseError(
            f"model {model!r} stopped with finish_reason 'content_filter': the provider's content "
            "filter blocked the judge's answer; rephrase the question or judge with another model"
        )
    logprobs = choice.get("logprobs") or {}
    content = logprobs.get("content") if isinstance(logprobs, Mapping) else None
    if not content:
        if content is not None and not (message.get("content") or "").strip():
            raise JudgeResponseError(
                f"model {model!r} returned an empty answer (finish_reason {finish!r}); "
                "the judge expects one word, true or false"
            )
        raise NoLogprobsError(no_logprobs_message(model, base_url))
    positions = positions_from_logprobs(content)
    position = find_verdict_position(positions, config.true_labels, config.false_labels) or positions[0]
    candidates = position.candidates()
    scores = score_alternatives(candidates, config.true_labels, config.false_labels)
    usage = data.get("usage")
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
        usage=Usage(**{k: int(v or 0) for k, v in usage.items() if k in Usage.model_fields})
        if isinstance(usage, Mapping)
        else None,
        latency_s=latency_s,
        expected=expected,
    )


def _api_error_text(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping) and inner.get("message"):
            return str(inner["message"])
        if body.get("message"):
            return str(body["message"])
    return str(getattr(exc, "message", "") or exc)


class Judge:
    """Calls the model and turns its one-word answer into a Verdict.

    ``build_messages(question, response, context, config)`` makes the prompt; ``on_verdict(verdict)``
    is told of every verdict (the plugin records it for the summary); ``send(client, params)``
    performs the request and says whether it was replayed (the cassette layer replaces it).
    ``Judge.many`` calls ``send`` from worker threads. ``Judge.acheck`` awaits ``asend(async_client,
    params)`` when given; else a replaced ``send`` runs in a worker thread; else the request goes
    through ``async_client()``, an ``openai.AsyncOpenAI`` (built from the config on first use).
    """

    def __init__(
        self,
        config: JudgeConfig,
        client: Any,
        *,
        build_messages: BuildMessages,
        on_verdict: Callable[[Verdict], None] | None = None,
        send: Send | None = None,
        calibrate: Callable[[Verdict], Verdict] | None = None,
        async_client: Callable[[], Any] | None = None,
        asend: AsyncSend | None = None,
    ) -> None:
        self.config = config
        self.client = client
        self._build_messages = build_messages
        self._on_verdict = on_verdict
        self._send = send or _send_live
        self._calibrate = calibrate
        self._get_async_client = async_client
        self._async_client: Any = None
        self._asend = asend

    def params(
        self, question: str, response: str | None, context: str | None, config: JudgeConfig
    ) -> dict[str, Any]:
        """The keyword arguments of ``client.chat.completions.create`` for one verdict."""
        messages = self._build_messages(question, response, context, config)
        return {
            "model": config.model,
            "messages": messages,
            "temperature": 0,
            "logprobs": True,
            "top_logprobs": config.top_logprobs,
            "max_tokens": config.max_tokens,
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
        config, params = self._prepare(question, response, context, expected, overrides)
        start = time.perf_counter()
        completion, replayed = self._request(params, config)
        latency = time.perf_counter() - start
        return self._finish(completion, replayed, latency, question, response, context, expected, config)

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
        config, params = self._prepare(question, response, context, expected, overrides)
        start = time.perf_counter()
        completion, replayed = await self._arequest(params, config)
        latency = time.perf_counter() - start
        return self._finish(completion, replayed, latency, question, response, context, expected, config)

    def many(self, items: Iterable[Any], *, concurrency: int = 8, **overrides: Any) -> list[Verdict]:
        """Judge many ``(question, response)`` pairs at once; the verdicts come in input order.

        An item is a question, a ``(question, response[, context])`` tuple, or a dict of ``judge()``
        keyword arguments. At most ``concurrency`` requests are in flight; identical requests are sent
        one after another in input order, so a cassette replays them in the order it recorded them.
        Every verdict is recorded (in input order); the first failure, in input order, is raised.
        """
        __tracebackhide__ = True
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError(f"concurrency must be a whole number >= 1, got {concurrency!r}")
        calls = [_batch_item(item) for item in items]
        prepared = [
            self._prepare(call["question"], call["response"], call["context"], call["expected"], overrides)
            for call in calls
        ]
        groups: dict[str, list[int]] = {}
        for index, (_, params) in enumerate(prepared):
            groups.setdefault(json.dumps(params, sort_keys=True, default=str), []).append(index)
        results: list[tuple[Any, bool, float] | None] = [None] * len(prepared)
        errors: list[BaseException | None] = [None] * len(prepared)

        def run(indices: list[int]) -> None:
            for index in indices:
                config, params = prepared[index]
                start = time.perf_counter()
                try:
                    completion, replayed = self._request(params, config)
                except Exception as exc:
                    errors[index] = exc
                    return
                results[index] = (completion, replayed, time.perf_counter() - start)

        if groups:
            with ThreadPoolExecutor(min(concurrency, len(groups)), "llmconfidence-judge") as pool:
                for indices in groups.values():
                    pool.submit(contextvars.copy_context().run, run, indices)
        verdicts = []
        for index, call in enumerate(calls):
            result = results[index]
            if result is None:
                raise errors[index] or next(exc for exc in errors if exc is not None)
            completion, replayed, latency = result
            question, response, context = call["question"], call["response"], call["context"]
            config = prepared[index][0]
            verdicts.append(
                self._finish(
                    completion, replayed, latency, question, response, context, call["expected"], config
                )
            )
        return verdicts

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
        ``temperature``...) go to ``chat.completions.create``. The request goes through the judge's
        client and the test's cassette; the result is recorded like ``response_confidence()``'s.
        """
        __tracebackhide__ = True
        from ._response import response_confidence

        if isinstance(prompt, str):
            messages: list[Any] = [{"role": "user", "content": prompt}]
        else:
            messages = [dict(message) for message in prompt]
        request = {
            "model": model or self.config.model,
            "messages": messages,
            "logprobs": True,
            "top_logprobs": self.config.top_logprobs if top_logprobs is None else top_logprobs,
            **params,
        }
        completion, _ = self._request(request, self.config.replace(model=request["model"]))
        return response_confidence(completion)

    def _prepare(
        self,
        question: str,
        response: str | None,
        context: str | None,
        expected: bool | None,
        overrides: Mapping[str, Any],
    ) -> tuple[JudgeConfig, dict[str, Any]]:
        __tracebackhide__ = True
        if not isinstance(question, str) or not question.strip():
            raise TypeError(f"judge() needs the question as a non-empty string, got {question!r}")
        for name, value in (("response", response), ("context", context)):
            if value is not None and not isinstance(value, str):
                raise TypeError(f"judge() needs {name} as a string or None, got {type(value).__name__}")
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
            base_url=_base_url(self.client),
            replayed=replayed,
            latency_s=latency,
            expected=expected,
        )
        if self._calibrate is not None:
            verdict = self._calibrate(verdict)
        if self._on_verdict is not None:
            self._on_verdict(verdict)
        return verdict

    def _request(self, params: dict[str, Any], config: JudgeConfig) -> tuple[Any, bool]:
        __tracebackhide__ = True
        with self._errors_explained(config):
            return self._send(self.client, params)

    async def _arequest(self, params: dict[str, Any], config: JudgeConfig) -> tuple[Any, bool]:
        __tracebackhide__ = True
        with self._errors_explained(config):
            if self._asend is not None:
                return await self._asend(self.async_client(), params)
            if self._send is not _send_live:
                import anyio.to_thread

                return await anyio.to_thread.run_sync(self._send, self.client, params)
            return await _asend_live(self.async_client(), params)

    def async_client(self) -> Any:
        """The ``openai.AsyncOpenAI`` client of ``acheck``, made on first use."""
        if self._async_client is None:
            factory = self._get_async_client
            self._async_client = factory() if factory is not None else build_async_client(self.config)
        return self._async_client

    @contextlib.contextmanager
    def _errors_explained(self, config: JudgeConfig) -> Iterator[None]:
        __tracebackhide__ = True
        import openai

        try:
            yield
        except openai.AuthenticationError as exc:
            key = getattr(self.client, "api_key", None)
            if key == PLACEHOLDER_KEY:
                raise LLMConfidenceError(
                    f"no API key: {_base_url(self.client)} refused the judge's request "
                    f"(HTTP {exc.status_code}). Set OPENAI_API_KEY to record, or commit the test's "
                    "cassette so it replays offline."
                ) from None
            raise LLMConfidenceError(
                f"{_base_url(self.client)} refused the API key (HTTP {exc.status_code}): "
                f"{_api_error_text(exc)}"
            ) from None
        except (openai.BadRequestError, openai.PermissionDeniedError, openai.UnprocessableEntityError) as exc:
            text = _api_error_text(exc)
            if "logprob" in text.lower():
                raise NoLogprobsError(
                    no_logprobs_message(config.model, _base_url(self.client), text)
                ) from None
            raise LLMConfidenceError(
                f"{_base_url(self.client)} rejected the judge's request for model {config.model!r} "
                f"(HTTP {exc.status_code}): {text}"
            ) from None
        except openai.NotFoundError as exc:
            raise LLMConfidenceError(
                f"{_base_url(self.client)} answered HTTP 404 for model {config.model!r}: "
                f"{_api_error_text(exc)}. Check --llm-model and --llm-base-url."
            ) from None
        except openai.APIStatusError as exc:
            raise LLMConfidenceError(
                f"{_base_url(self.client)} failed the judge's request for model {config.model!r} "
                f"(HTTP {exc.status_code}, after the client's retries): {_api_error_text(exc)}"
            ) from None
        except openai.APIConnectionError as exc:
            cause = exc.__cause__
            if isinstance(cause, LLMConfidenceError):
                raise cause from None
            raise LLMConfidenceError(
                f"could not reach {_base_url(self.client)} ({cause or exc}); is the server running, and is "
                "--llm-base-url / OPENAI_BASE_URL right?"
            ) from None


_NO_KEY = (
    "no API key: OPENAI_API_KEY is not set, so OpenAI's API would refuse the judge. Set OPENAI_API_KEY, "
    "point --llm-base-url at an endpoint that needs none, or replay the test from a committed cassette."
)


def _send_live(client: Any, params: dict[str, Any]) -> tuple[Any, bool]:
    from ._recording import completion_of, needs_key, post_chat

    if needs_key(client):
        raise LLMConfidenceError(_NO_KEY)
    return completion_of(post_chat(client, params)), False


async def _asend_live(client: Any, params: dict[str, Any]) -> tuple[Any, bool]:
    from ._recording import apost_chat, completion_of, needs_key

    if needs_key(client):
        raise LLMConfidenceError(_NO_KEY)
    return completion_of(await apost_chat(client, params)), False


_BATCH_KEYS = ("question", "response", "context", "expected")


def _batch_item(item: Any) -> dict[str, Any]:
    """One item of ``Judge.many`` as ``judge()`` arguments."""
    if isinstance(item, str):
        return {"question": item, "response": None, "context": None, "expected": None}
    if isinstance(item, Mapping):
        unknown = sorted(set(item) - set(_BATCH_KEYS))
        if unknown or "question" not in item:
            raise TypeError(
                f"judge.many() items as dicts need 'question' and may have {', '.join(_BATCH_KEYS[1:])}; "
                f"got {sorted(item)}"
            )
        return {key: item.get(key) for key in _BATCH_KEYS}
    if isinstance(item, (tuple, list)) and 1 <= len(item) <= 3:
        values = [*item, None, None][:3]
        return {"question": values[0], "response": values[1], "context": values[2], "expected": None}
    raise TypeError(
        "judge.many() takes questions, (question, response[, context]) tuples or dicts of judge() "
        f"arguments; got {item!r}"
    )
