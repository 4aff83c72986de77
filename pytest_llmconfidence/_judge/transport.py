"""Sending the judge's requests: through the official ``openai`` client, and the test's cassette.

Knows nothing of pytest; imports ``openai`` on first use only. ``Transport.send`` and ``Transport.asend``
are one logic behind two doors: both prepare the client the same way (``_prepare``), post the plain JSON
body, and turn the client's errors into the plugin's (``_explained``, raised from None: the text of the
client's error, which may echo a key, never shows). Each request is a ``JudgeRequest`` held in a context
variable while it is sent: the cassette that answers it marks it replayed (``answered``), so whether it
was replayed stays exact across threads and tasks, and nothing is added to the response.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
import threading
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from .._errors import (
    JudgeResponseError,
    LLMConfidenceError,
    NoLogprobsError,
    ReplayMiss,
    no_logprobs_message,
)
from .._recording import secrets as _secrets
from .._recording.secrets import PLACEHOLDER_KEY, PLACEHOLDER_KEYS, scrub_url
from .openai_internals import post_args

__all__ = [
    "OPTION_NAMES",
    "PLACEHOLDER_KEY",
    "JudgeRequest",
    "Transport",
    "answered",
    "build_async_client",
    "build_client",
    "is_judge_request",
    "no_key_message",
]

OPTION_NAMES = ("extra_headers", "extra_query", "extra_body", "timeout")
"""The SDK's per-request options: passed to the client as options, never put into the JSON body."""


class JudgeRequest:
    """The judge's request being sent now (in this thread or task), and whether a cassette answered it."""

    __slots__ = ("replayed",)

    def __init__(self) -> None:
        self.replayed = False


_JUDGE_REQUEST: contextvars.ContextVar[JudgeRequest | None] = contextvars.ContextVar(
    "llmconfidence_judge", default=None
)


def is_judge_request() -> bool:
    """Whether the HTTP request being made now is the judge's (the cassette's ``judge`` scope asks).

    A marker inside the process, never a header: nothing of it reaches the endpoint.
    """
    return _JUDGE_REQUEST.get() is not None


def answered(*, replayed: bool) -> None:
    """Called by a cassette as it answers an HTTP request: from its recording, or live. When the request
    is the judge's, its ``JudgeRequest`` learns which (what ``Verdict.replayed`` says)."""
    request = _JUDGE_REQUEST.get()
    if request is not None:
        request.replayed = replayed


OPENAI_HOST = "api.openai.com"

Completion = tuple[Any, bool]
"""What a send returns: the completion's JSON and whether it was replayed from a cassette."""


def no_key_message(situation: str, remedy: str, variable: str = "OPENAI_API_KEY") -> str:
    """The one "no API key" message: what happened, what to do, or replay from a cassette."""
    return (
        f"no API key: {situation} and {variable} is not set.\n{remedy}\n"
        "or commit the test's cassette so it replays offline."
    )


def endpoint_setting(client: Any) -> tuple[str, str]:
    """Where the user sets ``client``'s endpoint, and its key's variable, as an error should name them.

    The plugin's own client follows --llm-base-url; an overridden ``judge_client`` (an ``AzureOpenAI``,
    any client) is configured where the fixture builds it, and the option has no effect on it.
    """
    if is_own(client):
        return "--llm-base-url / OPENAI_BASE_URL", "OPENAI_API_KEY"
    if "Azure" in type(client).__name__:
        return (
            "the azure_endpoint your judge_client fixture builds its AzureOpenAI client with "
            "(AZURE_OPENAI_ENDPOINT; --llm-base-url has no effect on it)",
            "AZURE_OPENAI_API_KEY",
        )
    return (
        "the base_url your judge_client fixture builds its client with "
        "(--llm-base-url has no effect on an overridden client)",
        "OPENAI_API_KEY",
    )


# --- clients ------------------------------------------------------------------------------------


def _client_options(base_url: str | None, options: Mapping[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"api_key": os.environ.get("OPENAI_API_KEY") or PLACEHOLDER_KEY}
    if base_url:
        kwargs["base_url"] = base_url
    kwargs.update(options)
    return kwargs


def build_client(base_url: str | None = None, **options: Any) -> Any:
    """An ``openai.OpenAI`` client for the judge: ``base_url`` (``--llm-base-url``) and ``OPENAI_API_KEY``.

    With no key in the environment a placeholder is used, so replaying cassettes and local
    servers (which ignore the key) need none.
    """
    import openai

    client = openai.OpenAI(**_client_options(base_url, options))
    _own.add(client)
    return client


def build_async_client(base_url: str | None = None, **options: Any) -> Any:
    """An ``openai.AsyncOpenAI`` client for ``Judge.acheck``, configured as ``build_client``.

    Its connections are not kept alive between requests: pytest-asyncio and anyio may give every
    test its own event loop, and a pooled connection belongs to the loop that opened it.
    """
    import openai

    limits = openai.DEFAULT_CONNECTION_LIMITS
    http_client = openai.DefaultAsyncHttpxClient(
        limits=type(limits)(max_connections=limits.max_connections, max_keepalive_connections=0)
    )
    client = openai.AsyncOpenAI(**_client_options(base_url, {"http_client": http_client, **options}))
    _own.add(client)
    return client


_own: weakref.WeakSet[Any] = weakref.WeakSet()
"""The clients the plugin built from its options (not a user's ``judge_client``)."""


def is_own(client: Any) -> bool:
    """Whether the plugin built ``client`` from its options (``build_client``/``build_async_client``)."""
    try:
        return client in _own
    except TypeError:
        return False


def needs_key(client: Any) -> bool:
    """Whether ``client`` would call OpenAI's own API with the placeholder key (a certain 401)."""
    url = getattr(client, "base_url", None)
    host = getattr(url, "host", None)
    return getattr(client, "api_key", None) in PLACEHOLDER_KEYS and host == OPENAI_HOST


def base_url_of(client: Any) -> str:
    """The client's base URL as messages show it: no user-info, no secret query values."""
    return scrub_url(str(getattr(client, "base_url", "") or "the endpoint"))


_variants: weakref.WeakKeyDictionary[Any, dict[bool, Any]] = weakref.WeakKeyDictionary()
_variants_lock = threading.Lock()


def judge_client_for(client: Any, *, retries: bool = True) -> Any:
    """``client`` without retries when replaying; made once per client.

    The variants live as long as their client does (a weak mapping: nothing outlives the session's client).
    """
    try:
        known = _variants.get(client)
    except TypeError:  # a client that cannot be weakly referenced: no cache
        known = None
    if known is not None and retries in known:
        return known[retries]
    with_options = getattr(client, "with_options", None)
    variant = with_options(max_retries=0) if with_options is not None and not retries else client
    with _variants_lock, contextlib.suppress(TypeError):
        _variants.setdefault(client, {})[retries] = variant
    return variant


# --- one request ----------------------------------------------------------------------------------


def completion_of(raw: Any, where: str = "the endpoint") -> Any:
    """The completion of a raw response: its JSON (or what openai's raw response parses to).

    A body that is not a JSON object (an HTML page, an empty body, a streamed answer, bytes that are not
    UTF-8) is a ``JudgeResponseError`` saying what came back instead.
    """
    parse = getattr(raw, "parse", None)
    try:
        data = parse() if parse is not None else raw.json()
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise JudgeResponseError(_not_json(raw, where, exc)) from None
    if parse is None and not isinstance(data, dict):
        raise JudgeResponseError(
            f"{where} answered with JSON that is not a chat completion (a {type(data).__name__}, "
            "not an object); is --llm-base-url the OpenAI-compatible API root (often ending in /v1)?"
        )
    return data


def _not_json(raw: Any, where: str, exc: BaseException) -> str:
    http = getattr(raw, "http_response", raw)
    headers = getattr(http, "headers", None) or {}
    kind = str(headers.get("content-type") or "no content type")
    body = getattr(http, "content", b"") or b""
    if not body.strip():
        what = "an empty body"
    elif "event-stream" in kind or body.lstrip().startswith(b"data:"):
        what = "a streamed (server-sent events) answer; the judge needs one JSON answer, not a stream"
    elif isinstance(exc, UnicodeDecodeError):
        what = "a body that is not UTF-8 text"
    else:
        what = f"a body that is not JSON (starting {body[:60].decode('utf-8', 'replace')!r})"
    status = getattr(http, "status_code", "?")
    return (
        f"{where} answered HTTP {status} with {what} ({kind}) instead of a chat completion; "
        "is --llm-base-url the OpenAI-compatible API root (often ending in /v1)?"
    )


def _ours(exc: BaseException) -> LLMConfidenceError | None:
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None or isinstance(seen, LLMConfidenceError):
            return seen
        seen = seen.__cause__
    return None


def _api_error_text(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping) and inner.get("message"):
            return str(inner["message"])
        if body.get("message"):
            return str(body["message"])
    return str(getattr(exc, "message", "") or exc)


def _explained(exc: Exception, client: Any, model: str) -> BaseException:
    """The error to raise for ``exc``: one of ours as it is (traceback cut), the client's errors as the
    plugin's, saying what went wrong and what to do, anything else unchanged.

    The caller raises it ``from None``: the client's exception, whose text may echo a key, is never shown.
    """
    import openai

    ours = _ours(exc)
    if ours is not None:
        return ours.with_traceback(None)
    where = base_url_of(client)
    setting, variable = endpoint_setting(client)
    if isinstance(exc, openai.AuthenticationError):
        if getattr(client, "api_key", None) in PLACEHOLDER_KEYS:
            return LLMConfidenceError(
                no_key_message(
                    f"{where} refused the judge's request (HTTP {exc.status_code})",
                    f"Set it to record the test, or point {setting} at an endpoint that needs none,",
                    variable,
                )
            )
        return LLMConfidenceError(
            f"{where} refused the API key (HTTP {exc.status_code}): {_api_error_text(exc)}"
        )
    if isinstance(
        exc, (openai.BadRequestError, openai.PermissionDeniedError, openai.UnprocessableEntityError)
    ):
        text = _api_error_text(exc)
        if "logprob" in text.lower():
            return NoLogprobsError(no_logprobs_message(model, where, text), model=model, base_url=where)
        return LLMConfidenceError(
            f"{where} rejected the judge's request for model {model!r} (HTTP {exc.status_code}): {text}"
        )
    if isinstance(exc, openai.NotFoundError):
        return LLMConfidenceError(
            f"{where} answered HTTP 404 for model {model!r}: {_api_error_text(exc)}. "
            f"Check --llm-model (for Azure, the deployment's name) and {setting}."
        )
    if isinstance(exc, openai.APIStatusError):
        return LLMConfidenceError(
            f"{where} failed the judge's request for model {model!r} "
            f"(HTTP {exc.status_code}, after the client's retries): {_api_error_text(exc)}"
        )
    if isinstance(exc, openai.APIConnectionError):
        return LLMConfidenceError(
            f"could not reach {where} ({exc.__cause__ or exc}); is the server running, and is "
            f"{setting} right?"
        )
    return exc


@functools.cache
def _plain_clients() -> tuple[type[Any], ...]:
    import openai

    return (openai.OpenAI, openai.AsyncOpenAI)


def _chat_path(client: Any) -> str:
    """The URL path of ``client``'s chat completions (what a cassette matches on, with the body)."""
    return f"{getattr(getattr(client, 'base_url', None), 'path', '/v1/').rstrip('/')}/chat/completions"


def _cost_of(prices: Any, completion: Any, params: Mapping[str, Any]) -> float | None:
    """What a live completion cost by its usage (None when it reports none that parses)."""
    from .._scoring.completion import usage_of

    data = completion if isinstance(completion, Mapping) else getattr(completion, "model_dump", dict)()
    usage = usage_of(data.get("usage"))
    if usage is None:
        return None
    cost: float | None = prices.cost(str(data.get("model") or params.get("model")), usage.model_dump())
    return cost


class Transport:
    """How the judge's requests leave: ``client`` (and its async twin), through the test's cassette.

    ``cassette`` is the test's active cassette (the plugin's), or None to talk to the endpoint
    directly. ``async_client`` makes the ``openai.AsyncOpenAI`` client of ``asend`` on first use.
    ``watch(model, where)``, when given, is a context manager around each request that goes to the
    endpoint (never one a cassette replays): the plugin's prints a line in ``-v`` when it is slow.
    """

    def __init__(
        self,
        client: Any,
        *,
        async_client: Callable[[], Any] | None = None,
        cassette: Any = None,
        watch: Callable[[str, str], contextlib.AbstractContextManager[Any]] | None = None,
        budget: Any = None,
        batch: Any = None,
    ) -> None:
        self.client = client
        self.budget = budget
        self.batch = batch
        """The test's ``TestBatch`` in record mode batch: a request with no recording is queued for it."""
        self.cassette = cassette
        self.watch = watch
        _secrets.add(  # the client's own key and organisation, wherever they came from: secrets of the run
            value
            for value in (getattr(client, "api_key", None), getattr(client, "organization", None))
            if isinstance(value, str)
        )
        self._make_async_client = async_client
        self._async_client: Any = None

    def async_client(self) -> Any:
        """The async client of ``asend``, made on first use (from ``client``'s base URL by default)."""
        if self._async_client is None:
            make = self._make_async_client
            if make is None:
                url = getattr(self.client, "base_url", None)
                self._async_client = build_async_client(str(url) if url is not None else None)
            else:
                self._async_client = make()
        return self._async_client

    def send(self, params: dict[str, Any], options: Mapping[str, Any] | None = None) -> Completion:
        """One chat completion: ``(completion JSON, replayed)``; ``options`` are the SDK's request options."""
        __tracebackhide__ = True
        recorded = self._recorded(self.client, params, options)
        if recorded is not None:
            return recorded, True
        post, kwargs = post_args(self._prepare(self.client, params), params, options)
        ticket = self._reserve(self.client, params)
        request = JudgeRequest()
        marker = _JUDGE_REQUEST.set(request)
        try:
            with self._watching(self.client, params):
                raw = post(**kwargs)
        except ReplayMiss as miss:
            raise miss.error.with_traceback(None) from None
        except Exception as exc:
            if ticket is not None:
                ticket.release()
            error = _explained(exc, self.client, params["model"])
            if error is exc:
                raise
            raise error from None
        finally:
            _JUDGE_REQUEST.reset(marker)
        return self._answered(raw, self.client, params, ticket, request.replayed)

    async def asend(self, params: dict[str, Any], options: Mapping[str, Any] | None = None) -> Completion:
        """``send`` through the async client, without blocking the event loop.

        When ``client`` is a user's (an overridden ``judge_client``) and the async client is the plugin's
        own, the request goes through ``client`` in a worker thread instead: the async judge then uses
        exactly the settings of ``judge_client`` (its key, base URL, Azure deployment, headers, proxy).
        """
        __tracebackhide__ = True
        client = self.async_client()
        if is_own(client) and not is_own(self.client):
            import asyncio

            return await asyncio.to_thread(self.send, params, options)
        recorded = self._recorded(client, params, options)
        if recorded is not None:
            return recorded, True
        post, kwargs = post_args(self._prepare(client, params), params, options)
        ticket = self._reserve(client, params)
        request = JudgeRequest()
        marker = _JUDGE_REQUEST.set(request)
        try:
            with self._watching(client, params):
                raw = await post(**kwargs)
        except ReplayMiss as miss:
            raise miss.error.with_traceback(None) from None
        except Exception as exc:
            if ticket is not None:
                ticket.release()
            error = _explained(exc, client, params["model"])
            if error is exc:
                raise
            raise error from None
        finally:
            _JUDGE_REQUEST.reset(marker)
        return self._answered(raw, client, params, ticket, request.replayed)

    def _recorded(self, client: Any, params: dict[str, Any], options: Mapping[str, Any] | None) -> Any:
        """The completion the cassette recorded for this request, played without an HTTP round trip, or
        None to send it through the client (where the cassette answers it as any HTTP request).

        Only where nothing of the client shapes what a replay returns: a plain ``OpenAI`` or
        ``AsyncOpenAI`` client (not Azure's, whose URL names the deployment), no request options, and a
        recorded success whose body is a JSON object (a recorded error still raises the client's error).
        """
        cassette = self.cassette
        if cassette is None or options or type(client) not in _plain_clients():
            return None
        return cassette.recorded_answer("POST", _chat_path(client), params)

    def _goes_out(self, client: Any, params: dict[str, Any]) -> bool:
        """Whether the request will be sent to the endpoint (no cassette replays it)."""
        cassette = self.cassette
        if cassette is None:
            return True
        return not cassette.replay_only and not cassette.can_replay("POST", _chat_path(client), params)

    def _reserve(self, client: Any, params: dict[str, Any]) -> Any:
        """The budget's reservation for a request that goes out (``BudgetExceededError`` past the limit)."""
        __tracebackhide__ = True
        if (self.budget is None and self.batch is None) or not self._goes_out(client, params):
            return None
        if self.batch is not None and self.cassette is not None and self.cassette.record_mode == "batch":
            self.batch.request(self.cassette.key_of("POST", _chat_path(client), params), params)
        if self.budget is None:
            return None
        return self.budget.reserve(params)

    def _answered(
        self, raw: Any, client: Any, params: dict[str, Any], ticket: Any, replayed: bool
    ) -> Completion:
        """The completion and whether it was replayed; a live call's cost settled with the budget."""
        __tracebackhide__ = True
        try:
            completion = completion_of(raw, base_url_of(client))
        except Exception:
            if ticket is not None:
                ticket.settle(None)
            raise
        if ticket is not None:
            if replayed:
                ticket.release()
            else:
                ticket.settle(_cost_of(self.budget.prices, completion, params))
        return completion, replayed

    def _watching(self, client: Any, params: dict[str, Any]) -> contextlib.AbstractContextManager[Any]:
        """``watch`` around a request that goes to the endpoint; nothing around one a cassette replays."""
        cassette = self.cassette
        if self.watch is None or (cassette is not None and cassette.replay_only):
            return contextlib.nullcontext()
        new_episodes = cassette is not None and cassette.record_mode == "new_episodes"
        if new_episodes and cassette.can_replay("POST", _chat_path(client), params):
            return contextlib.nullcontext()
        return self.watch(str(params.get("model")), base_url_of(client))

    def _prepare(self, client: Any, params: dict[str, Any]) -> Any:
        """The client variant to send with; with no key for OpenAI's API and nothing to replay, an error."""
        __tracebackhide__ = True
        cassette = self.cassette
        if cassette is None:
            if needs_key(client):
                raise LLMConfidenceError(
                    no_key_message(
                        "OpenAI's API would refuse the judge",
                        f"Set it, or point {endpoint_setting(client)[0]} at an endpoint that needs none,",
                    )
                )
            return client
        unrecorded = needs_key(client) and cassette.record_mode != "none"
        if unrecorded and not cassette.can_replay("POST", _chat_path(client), params):
            from .._text import display_path

            raise LLMConfidenceError(
                no_key_message(
                    f"the judge's request has no recording in {display_path(cassette.path)}",
                    f"Set it to record the test: {cassette.record_command('once')}",
                )
            )
        return judge_client_for(client, retries=not cassette.replay_only)
