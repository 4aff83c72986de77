"""The judge: prompt -> one chat completion with logprobs -> Verdict. Knows nothing of pytest."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._confidence import find_verdict_position, positions_from_logprobs, score_alternatives
from ._config import CALL_FIELDS, ConfigValueError, JudgeConfig, apply_overrides
from ._errors import JudgeResponseError, LLMConfidenceError, NoLogprobsError, no_logprobs_message
from ._models import Alternative, Usage, Verdict

__all__ = ["PLACEHOLDER_KEY", "Judge", "build_client", "verdict_from_completion"]

PLACEHOLDER_KEY = "sk-llmconfidence-placeholder-not-a-real-key"

Messages = list[dict[str, str]]
BuildMessages = Callable[[str, "str | None", "str | None", JudgeConfig], Messages]


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
    """

    def __init__(
        self,
        config: JudgeConfig,
        client: Any,
        *,
        build_messages: BuildMessages,
        on_verdict: Callable[[Verdict], None] | None = None,
        send: Callable[[Any, dict[str, Any]], tuple[Any, bool]] | None = None,
        calibrate: Callable[[Verdict], Verdict] | None = None,
    ) -> None:
        self.config = config
        self.client = client
        self._build_messages = build_messages
        self._on_verdict = on_verdict
        self._send = send or _send_live
        self._calibrate = calibrate

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
        if not isinstance(question, str) or not question.strip():
            raise TypeError(f"judge() needs the question as a non-empty string, got {question!r}")
        for name, value in (("response", response), ("context", context)):
            if value is not None and not isinstance(value, str):
                raise TypeError(f"judge() needs {name} as a string or None, got {type(value).__name__}")
        if expected is not None and not isinstance(expected, bool):
            raise TypeError(f"judge() needs expected as True, False or None, got {expected!r}")
        config = self.config_for(overrides)
        params = self.params(question, response, context, config)
        start = time.perf_counter()
        completion, replayed = self._request(params, config)
        latency = time.perf_counter() - start
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
        import openai

        try:
            return self._send(self.client, params)
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


def _send_live(client: Any, params: dict[str, Any]) -> tuple[Any, bool]:
    return client.chat.completions.create(**params), False
