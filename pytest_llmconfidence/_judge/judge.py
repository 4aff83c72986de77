"""The judge: prompt -> one chat completion with logprobs -> Verdict. Knows nothing of pytest.

``Judge`` takes its configuration, a ``Transport`` (how requests are sent: ``transport.py``) and a
``JudgeHooks`` object (the prompt, and what to do with each verdict; the plugin's asks pytest's hooks).
Its public methods are thin: each builds a ``Call`` (``request.py``: the inputs checked, the body built
in one place) whose ``finish`` reads the answer (``_scoring``); ``_run``, ``_arun`` and ``run_many``
(``batch.py``) only differ in how they send it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .._scoring.completion import verdict_from_completion
from .._scoring.prompts import REASON_MAX_TOKENS, default_messages
from .._scoring.results import Check, Checks, Verdict
from .._settings import CALL_FIELDS, DEFAULT_MAX_TOKENS, ConfigValueError, JudgeConfig, apply_overrides
from .._text import shorten
from .batch import BATCH_KEYS, check_concurrency, check_items, run_many, send_calls
from .request import Call, chat_request, check_inputs, option_names, panel_models, scale_items
from .transport import OPTION_NAMES, Transport, base_url_of

if TYPE_CHECKING:
    from .._scoring.graded import Choice, Score
    from .._scoring.pairwise import PairOrder, Preference
    from .._scoring.panel import PanelVerdict
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
        """The prompt of a verdict: the question, the response and the context; answer true or false."""
        return self._prompt(
            "pytest_llmconfidence_build_messages",
            lambda: default_messages(question, response, context, reason=config.reason),
            question=question,
            response=response,
            context=context,
            config=config,
        )

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

        return self._prompt(
            "pytest_llmconfidence_build_graded_messages",
            lambda: graded_messages(question, response, context, labels, options),
            kind=kind,
            question=question,
            response=response,
            context=context,
            labels=tuple(labels),
            options=tuple(options),
            config=config,
        )

    def build_pairwise_messages(
        self, question: str, response_a: str, response_b: str, context: str | None, config: JudgeConfig
    ) -> Messages:
        """The prompt of one order of a comparison: ``response_a`` shown first, answer ``A`` or ``B``."""
        from .._scoring.pairwise import pairwise_messages

        return self._prompt(
            "pytest_llmconfidence_build_pairwise_messages",
            lambda: pairwise_messages(question, response_a, response_b, context),
            question=question,
            response_a=response_a,
            response_b=response_b,
            context=context,
            config=config,
        )

    def _prompt(self, hook: str, default: Callable[[], Messages], **arguments: Any) -> Messages:
        """The messages of one request: ``default()``, the plain prompt (the plugin's subclass asks the
        pytest hook named ``hook`` with ``arguments`` instead, its own implementation of it running last)."""
        return default()

    def finish(self, verdict: Verdict) -> Verdict:
        """Called with every verdict before the judge returns it; returns the verdict to return."""
        return verdict

    def keep(self, result: Any) -> None:
        """Called with every score, choice, preference and panel verdict before the judge returns it."""

    def certified_threshold(self, model: str, accuracy: float) -> float | None:
        """The model's certified threshold for ``accuracy`` (a cascade escalates below it); None: none."""
        return None


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
    ) -> Verdict | PanelVerdict:
        """Judge ``response`` against ``question``: one chat completion, one Verdict.

        With a panel configured (``llm_panel``, the marker's ``panel=``), every model of it is asked and
        their pooled ``PanelVerdict`` is returned (``judge.panel``), unless the call names its ``model=``.
        With ``llm_cascade``, one model after another is asked until a verdict reaches its model's certified
        threshold.
        """
        __tracebackhide__ = True
        if self.config.panel and "model" not in overrides:
            return self.panel(
                question, response, models=self.config.panel, context=context, expected=expected, **overrides
            )
        if self._cascades(overrides):
            steps = self._cascade(question, response, context, expected, overrides)
            call = next(steps)
            while True:
                try:
                    call = steps.send(self._run(call))
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
        return self._run(self._verdict_call(question, response, context, expected, overrides))

    async def acheck(
        self,
        question: str,
        response: str | None = None,
        *,
        context: str | None = None,
        expected: bool | None = None,
        **overrides: Any,
    ) -> Verdict | PanelVerdict:
        """``await judge.acheck(question, response)``: ``judge(...)`` without blocking the event loop."""
        __tracebackhide__ = True
        if self.config.panel and "model" not in overrides:
            return await self.apanel(
                question, response, models=self.config.panel, context=context, expected=expected, **overrides
            )
        if self._cascades(overrides):
            steps = self._cascade(question, response, context, expected, overrides)
            call = next(steps)
            while True:
                try:
                    call = steps.send(await self._arun(call))
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
        return await self._arun(self._verdict_call(question, response, context, expected, overrides))

    def _cascades(self, overrides: Mapping[str, Any]) -> bool:
        """Whether a verdict goes through the cascade: ``llm_cascade`` is set and no model was named."""
        return bool(self.config.cascade) and "model" not in overrides

    def _cascade(
        self,
        question: str,
        response: str | None,
        context: str | None,
        expected: bool | None,
        overrides: Mapping[str, Any],
    ) -> Generator[Call[Verdict], Verdict, Verdict]:
        """The cascade, one request at a time: yields each model's call and receives its verdict; returns
        the first verdict at or above its model's certified threshold, else the last with
        ``certified=False``. Only the returned verdict is recorded; it lists every step."""
        __tracebackhide__ = True
        from .._scoring.results import CascadeStep

        accuracy = self.config.cascade_accuracy
        steps: list[CascadeStep] = []
        verdict: Verdict | None = None
        certified = False
        for model in self.config.cascade:
            asked = {**overrides, "model": model}
            verdict = yield self._verdict_call(question, response, context, expected, asked, notify=False)
            threshold = self.hooks.certified_threshold(verdict.model, accuracy)
            if threshold is None:
                threshold = self.hooks.certified_threshold(model, accuracy)
            steps.append(
                CascadeStep(
                    model=model,
                    value=verdict.value,
                    confidence=verdict.confidence,
                    threshold=threshold,
                    usage=verdict.usage,
                    replayed=verdict.replayed,
                )
            )
            if threshold is not None and verdict.value is not None and verdict.confidence >= threshold:
                certified = True
                break
        assert verdict is not None
        decided = {
            "decided_by": model if certified else None,
            "cascade": tuple(steps),
            "certified": certified,
        }
        return self.hooks.finish(verdict.model_copy(update=decided))

    def all(self, checks: Iterable[Check]) -> Checks:
        """Many checks as one: ``assert judge.all(v.confident_true(0.9) for v in verdicts)``.

        Truthy when every check holds; when one fails, the assertion lists each failed check (its position
        and what it says), where ``assert all(...)`` shows a bare ``assert False``. No request is sent.
        """
        return Checks(checks)

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
        expected: str | None = None,
        **overrides: Any,
    ) -> Choice:
        """Pick one of ``options``: one chat completion, one ``Choice``.

        Options that are not single short words are asked for by letters (A, B, C…) and mapped back.
        ``expected`` is the option the test expects (for calibration and certificates).
        """
        __tracebackhide__ = True
        names = option_names(options)
        return self._run(self._choice_call(question, response, context, names, overrides, expected))

    async def achoose(
        self,
        question: str,
        response: str | None = None,
        *,
        options: Sequence[str],
        context: str | None = None,
        expected: str | None = None,
        **overrides: Any,
    ) -> Choice:
        """``await judge.achoose(question, response, options=[...])``: ``judge.choose(...)``, awaited."""
        __tracebackhide__ = True
        names = option_names(options)
        return await self._arun(self._choice_call(question, response, context, names, overrides, expected))

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

    def compare(
        self, question: str, a: str, b: str, *, context: str | None = None, **overrides: Any
    ) -> Preference:
        """Which of ``a`` and ``b`` answers ``question`` better, asked in both orders: a ``Preference``.

        Two requests: ``a`` shown first as "Response A" and ``b`` second as "Response B", then swapped;
        the model answers ``A`` or ``B``. ``preference.prefers("a", 0.9)`` is the check.
        """
        __tracebackhide__ = True
        return self._run_group(*self._compare_calls(question, a, b, context, overrides))

    async def acompare(
        self, question: str, a: str, b: str, *, context: str | None = None, **overrides: Any
    ) -> Preference:
        """``await judge.acompare(question, a, b)``: ``judge.compare(...)``, both orders awaited at once."""
        __tracebackhide__ = True
        return await self._arun_group(*self._compare_calls(question, a, b, context, overrides))

    def compare_many(
        self, triples: Iterable[Any], *, concurrency: int = 8, **overrides: Any
    ) -> list[Preference]:
        """Compare many ``(question, a, b[, context])`` at once (or dicts of ``compare()`` arguments);
        the preferences come in input order, each asked in both orders, as ``many``'s verdicts."""
        __tracebackhide__ = True
        check_items(triples, "judge.compare_many()")
        check_concurrency(concurrency)
        plans = [self._compare_calls(*_triple(item), overrides) for item in triples]
        orders = send_calls(self._send, [call for calls, _ in plans for call in calls], concurrency)
        return [make(orders[2 * i : 2 * i + 2]) for i, (_, make) in enumerate(plans)]

    def panel(
        self,
        question: str,
        response: str | None = None,
        *,
        models: Sequence[str],
        context: str | None = None,
        expected: bool | None = None,
        **overrides: Any,
    ) -> PanelVerdict:
        """Ask each of ``models`` the verdict question at once and pool them: a ``PanelVerdict``.

        Each member's ``Verdict`` is recorded as any verdict; the panel's pooled ``p_true`` is the mean of
        the members' normalized p_true, its ``agreement`` the share of members that agree with it.
        """
        __tracebackhide__ = True
        return self._run_group(*self._panel_calls(question, response, context, expected, models, overrides))

    async def apanel(
        self,
        question: str,
        response: str | None = None,
        *,
        models: Sequence[str],
        context: str | None = None,
        expected: bool | None = None,
        **overrides: Any,
    ) -> PanelVerdict:
        """``await judge.apanel(question, response, models=[...])``: ``judge.panel(...)``, awaited."""
        __tracebackhide__ = True
        call = self._panel_calls(question, response, context, expected, models, overrides)
        return await self._arun_group(*call)

    def _compare_calls(
        self, question: str, a: str, b: str, context: str | None, overrides: Mapping[str, Any]
    ) -> tuple[list[Call[PairOrder]], Callable[[list[PairOrder]], Preference]]:
        """Both orders' requests, checked and built, and how their two answers become the Preference."""
        __tracebackhide__ = True
        from .._scoring.pairwise import pair_order_from_completion, preference

        check_inputs(question, None, context)
        for name, value in (("a", a), ("b", b)):
            if not isinstance(value, str):
                raise TypeError(f"judge.compare() needs {name} as a string, got {type(value).__name__}")
        config = self.config_for(overrides)
        calls: list[Call[PairOrder]] = []
        for first, shown in (("a", (a, b)), ("b", (b, a))):
            messages = self.hooks.build_pairwise_messages(question, shown[0], shown[1], context, config)
            params = chat_request(
                config.model, messages, top_logprobs=config.top_logprobs, max_tokens=max(config.max_tokens, 2)
            )

            def finish(completion: Any, replayed: bool, latency: float, first: Any = first) -> PairOrder:
                __tracebackhide__ = True
                return pair_order_from_completion(
                    completion,
                    first,
                    config=config,
                    base_url=base_url_of(self.transport.client),
                    replayed=replayed,
                    latency_s=latency,
                )

            calls.append(Call(params, finish))

        def make(orders: list[PairOrder]) -> Preference:
            found = preference(
                (orders[0], orders[1]),
                question=question,
                response_a=a,
                response_b=b,
                context=context,
                threshold=config.threshold,
            )
            return self._keep(found)

        return calls, make

    def _panel_calls(
        self,
        question: str,
        response: str | None,
        context: str | None,
        expected: bool | None,
        models: Sequence[str],
        overrides: Mapping[str, Any],
    ) -> tuple[list[Call[Verdict]], Callable[[list[Verdict]], PanelVerdict]]:
        """Each member's verdict request, and how their verdicts become the panel's."""
        __tracebackhide__ = True
        from .._scoring.panel import pool

        if "model" in overrides:
            raise TypeError("judge.panel() takes its models as models=[...], not model=")
        names = panel_models(models)
        config = self.config_for(overrides)
        calls = [
            self._verdict_call(question, response, context, expected, {**overrides, "model": name})
            for name in names
        ]

        def make(verdicts: list[Verdict]) -> PanelVerdict:
            found = pool(
                verdicts,
                question=question,
                response=response,
                context=context,
                threshold=config.threshold,
                models=names,
            )
            return self._keep(found)

        return calls, make

    def _verdict_call(
        self,
        question: str,
        response: str | None,
        context: str | None,
        expected: bool | None,
        overrides: Mapping[str, Any],
        *,
        notify: bool = True,
    ) -> Call[Verdict]:
        """A verdict's request, checked and built, and how its completion becomes the Verdict (handed to
        ``hooks.finish`` unless ``notify`` is False: a cascade's steps before the last)."""
        __tracebackhide__ = True
        config, params = self._prepare(question, response, context, expected, overrides)

        def finish(completion: Any, replayed: bool, latency: float) -> Verdict:
            __tracebackhide__ = True
            verdict = self._finish(
                completion, replayed, latency, question, response, context, expected, config
            )
            return self.hooks.finish(verdict) if notify else verdict

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
        expected: str | None = None,
    ) -> Call[Choice]:
        __tracebackhide__ = True
        from .._scoring.graded import Choice, choice_labels

        labels = choice_labels(names)
        by_label = dict(zip(labels, names, strict=True))
        if expected is not None and expected not in names:
            raise ValueError(f"judge.choose(expected={expected!r}): not one of the options {list(names)}")

        def choice(facts: dict[str, Any]) -> Choice:
            facts["distribution"] = {by_label[label]: p for label, p in facts["distribution"].items()}
            facts["value"] = None if facts["value"] is None else by_label[facts["value"]]
            return Choice(**facts, options=names, labels=labels, expected_option=expected)

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
        from .._scoring.graded import answer_tokens, graded_facts

        params = chat_request(
            config.model,
            messages,
            top_logprobs=config.top_logprobs,
            max_tokens=max(config.max_tokens, answer_tokens(labels)),
        )

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
        __tracebackhide__ = True  # its locals hold the question
        start = time.perf_counter()
        completion, replayed = self.transport.send(params)
        return completion, replayed, time.perf_counter() - start

    def _run(self, call: Call[_T]) -> _T:
        """One request, sent on this thread: ``judge()``, ``judge.score()``, ``judge.choose()``."""
        __tracebackhide__ = True
        return call.finish(*self._send(call.params))

    def _run_group(self, calls: list[Call[Any]], make: Callable[[list[Any]], _T]) -> _T:
        """Several requests at once, one result made of their answers: ``compare``, ``panel``."""
        __tracebackhide__ = True
        return make(send_calls(self._send, calls, len(calls)))

    async def _arun_group(self, calls: list[Call[Any]], make: Callable[[list[Any]], _T]) -> _T:
        """Several requests awaited at once, one result made of their answers: ``acompare``, ``apanel``."""
        __tracebackhide__ = True
        sent = await asyncio.gather(*(self._asend(call.params) for call in calls))
        return make([call.finish(*found) for call, found in zip(calls, sent, strict=True)])

    async def _asend(self, params: dict[str, Any]) -> tuple[Any, bool, float]:
        """Send one request, awaited: its completion, whether it was replayed, and how long it took."""
        start = time.perf_counter()
        completion, replayed = await self.transport.asend(params)
        return completion, replayed, time.perf_counter() - start

    async def _arun(self, call: Call[_T]) -> _T:
        """One request, awaited: ``acheck``, ``ascore``, ``achoose``, each order of ``acompare``."""
        __tracebackhide__ = True
        return call.finish(*await self._asend(call.params))

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

        messages = _prompt_messages(prompt)
        if model is not None and (not isinstance(model, str) or not model.strip()):
            raise TypeError(f"judge.ask() needs model as a non-empty string or None, got {model!r}")
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
        return verdict_from_completion(
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


def _prompt_messages(prompt: Any) -> list[Any]:
    """``ask()``'s prompt as chat messages: a non-empty string, or a non-empty list of message dicts."""
    __tracebackhide__ = True
    if isinstance(prompt, str) and prompt.strip():
        return [{"role": "user", "content": prompt}]
    if (
        isinstance(prompt, (list, tuple))
        and prompt
        and all(isinstance(message, Mapping) and "role" in message for message in prompt)
    ):
        return [dict(message) for message in prompt]
    raise TypeError(
        "judge.ask() needs the prompt as a non-empty string or a list of chat messages "
        f"({{'role': ..., 'content': ...}}), got {type(prompt).__name__} {prompt!r:.80}"
    )


def _triple(item: Any) -> tuple[str, str, str, str | None]:
    """One item of ``compare_many``: ``(question, a, b[, context])`` or a dict of ``compare()`` arguments."""
    keys = ("question", "a", "b", "context")
    if isinstance(item, Mapping):
        unknown = sorted(set(item) - set(keys))
        if unknown or not {"question", "a", "b"} <= set(item):
            raise TypeError(
                f"judge.compare_many() items as dicts need 'question', 'a' and 'b' and may have 'context'; "
                f"got {sorted(item)}"
            )
        return item["question"], item["a"], item["b"], item.get("context")
    if isinstance(item, (tuple, list)) and len(item) in (3, 4):
        question, a, b, *rest = item
        return question, a, b, rest[0] if rest else None
    raise TypeError(
        f"judge.compare_many() takes (question, a, b[, context]) tuples or dicts of compare() arguments; "
        f"got {item!r}"
    )
