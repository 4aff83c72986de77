"""The judge: prompt -> one chat completion with logprobs -> Verdict. Knows nothing of pytest.

``Judge`` takes its configuration, a ``Transport`` (how requests are sent: ``transport.py``) and a
``JudgeHooks`` object (the prompt, and what to do with each verdict; the plugin's asks pytest's hooks).
Its public methods are thin: each builds a ``Call`` (``request.py``: the inputs checked, the body built
in one place) whose ``finish`` reads the answer (``_scoring``); ``_run``, ``_arun`` and ``run_many``
(``batch.py``) only differ in how they send it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .._scoring.completion import verdict_from_completion
from .._scoring.prompts import REASON_MAX_TOKENS, default_messages
from .._scoring.results import Verdict
from .._settings import CALL_FIELDS, DEFAULT_MAX_TOKENS, ConfigValueError, JudgeConfig, apply_overrides
from .._text import shorten
from .batch import BATCH_KEYS, run_many
from .request import Call, chat_request, check_inputs, option_names, scale_items
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
        reasoning = config.reason and config.max_tokens == DEFAULT_MAX_TOKENS
        max_tokens = REASON_MAX_TOKENS if reasoning else config.max_tokens
        return chat_request(config.model, messages, top_logprobs=config.top_logprobs, max_tokens=max_tokens)

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

        def call(question: str, response: str | None, context: str | None, expected: Any) -> Call[Verdict]:
            return self._verdict_call(question, response, context, expected, overrides)

        return run_many(self._send, items, concurrency, "judge.many()", BATCH_KEYS, call)

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
        return self._run(
            self._score_call(question, response, context, expected, scale_items(scale), overrides)
        )

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
        call = self._score_call(question, response, context, expected, scale_items(scale), overrides)
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
        items_of = scale_items(scale)

        def call(question: str, response: str | None, context: str | None, expected: Any) -> Call[Score]:
            return self._score_call(question, response, context, expected, items_of, overrides)

        return run_many(self._send, items, concurrency, "judge.score_many()", BATCH_KEYS, call)

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
        return self._run(self._choice_call(question, response, context, option_names(options), overrides))

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
        return await self._arun(
            self._choice_call(question, response, context, option_names(options), overrides)
        )

    def choose_many(
        self, items: Iterable[Any], *, options: Sequence[str], concurrency: int = 8, **overrides: Any
    ) -> list[Choice]:
        """Pick one of the same ``options`` for many items at once; the choices come in input order.

        An item is a question, a ``(question, response[, context])`` tuple, or a dict of ``judge.choose()``
        keyword arguments (``question``, ``response``, ``context``).
        """
        __tracebackhide__ = True
        names = option_names(options)

        def call(question: str, response: str | None, context: str | None) -> Call[Choice]:
            return self._choice_call(question, response, context, names, overrides)

        return run_many(self._send, items, concurrency, "judge.choose_many()", BATCH_KEYS[:3], call)

    def _verdict_call(
        self,
        question: str,
        response: str | None,
        context: str | None,
        expected: bool | None,
        overrides: Mapping[str, Any],
    ) -> Call[Verdict]:
        """A verdict's request, checked and built, and how its completion becomes the Verdict."""
        __tracebackhide__ = True
        config, params = self._prepare(question, response, context, expected, overrides)

        def finish(completion: Any, replayed: bool, latency: float) -> Verdict:
            __tracebackhide__ = True
            return self._finish(completion, replayed, latency, question, response, context, expected, config)

        return Call(params, finish)

    def _score_call(
        self,
        question: str,
        response: str | None,
        context: str | None,
        expected: Any,
        items_of: Mapping[str, int | str],
        overrides: Mapping[str, Any],
    ) -> Call[Score]:
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
    ) -> Call[Choice]:
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
    ) -> Call[_T]:
        """A score's or a choice's request, and how its completion becomes the result (``make``)."""
        __tracebackhide__ = True
        check_inputs(question, response, context)
        config = self.config_for(overrides)
        messages = self.hooks.build_graded_messages(
            kind, question, response, context, labels, options, config
        )
        params = chat_request(
            config.model, messages, top_logprobs=config.top_logprobs, max_tokens=max(config.max_tokens, 2)
        )

        from .._scoring.graded import graded_facts

        def finish(completion: Any, replayed: bool, latency: float) -> _T:
            __tracebackhide__ = True
            facts = graded_facts(
                completion, replayed, latency, config, labels, base_url_of(self.transport.client)
            )
            facts.update(question=question, response=response, context=context)
            return self._keep(make(facts))

        return Call(params, finish)

    def _send(self, params: dict[str, Any]) -> tuple[Any, bool, float]:
        """Send one request: its completion, whether it was replayed, and how long it took."""
        start = time.perf_counter()
        completion, replayed = self.transport.send(params)
        return completion, replayed, time.perf_counter() - start

    def _run(self, call: Call[_T]) -> _T:
        """One request, sent on this thread: ``judge()``, ``judge.score()``, ``judge.choose()``."""
        __tracebackhide__ = True
        return call.finish(*self._send(call.params))

    async def _arun(self, call: Call[_T]) -> _T:
        """One request, awaited: ``acheck``, ``ascore``, ``achoose``."""
        __tracebackhide__ = True
        start = time.perf_counter()
        completion, replayed = await self.transport.asend(call.params)
        return call.finish(completion, replayed, time.perf_counter() - start)

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
        request = chat_request(
            model or self.config.model,
            messages,
            top_logprobs=self.config.top_logprobs if top_logprobs is None else top_logprobs,
            **params,
        )
        completion, _ = self.transport.send(request, options)
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
        check_inputs(question, response, context)
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
