"""The errors users meet. Plain Python: importing this module costs nothing.

    LLMConfidenceError             every error of the plugin; its message never shows a secret
     ├── NoLogprobsError           the endpoint sent no logprobs, or refused them      .model .base_url
     ├── JudgeResponseError        an answer that is not a verdict (refusal, filter…)  .model
     ├── CassetteMissError         no recording for a request in replay-only mode      .path .nodeid
     ├── CassetteCorruptError      a cassette that does not parse                      .path
     ├── CassetteSecretError       a cassette that would hold a secret: not written    .path
     ├── ReportFileError           a JSON report that is missing or not a report       .path
     ├── BudgetExceededError       a live call not sent: it would pass llm_max_cost    .limit .spent
     └── BatchQueuedError          a request queued for the Batch API (test skipped)

    UnassertedCheckWarning         (a UserWarning) a failed check that nothing asserted

Each carries the data it names (``None`` where the situation has none) as keyword arguments, keeps it
through ``pickle`` (pytest-xdist sends errors between processes), and prints as
``pytest_llmconfidence.<Name>``, the name users import.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BatchQueuedError",
    "BudgetExceededError",
    "CassetteCorruptError",
    "CassetteMissError",
    "CassetteSecretError",
    "JudgeResponseError",
    "LLMConfidenceError",
    "NoLogprobsError",
    "ReportFileError",
    "UnassertedCheckWarning",
    "as_miss",
]


class LLMConfidenceError(Exception):
    """Base class of every error raised by pytest-llmconfidence.

    Its message never shows a secret: known keys read ``***``, URLs lose their user-info and the
    values of secret-looking query parameters. Keyword arguments are the data the error names
    (``path=``, ``nodeid=``, ``model=``…), kept as attributes.
    """

    def __init__(self, *args: object, **data: Any) -> None:
        if len(args) == 1 and isinstance(args[0], str):
            from ._recording.secrets import redact

            args = (redact(args[0]),)
        super().__init__(*args)
        for name, value in data.items():
            setattr(self, name, value)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its message and its data (xdist workers send errors to the controller)."""
        return (_rebuild, (type(self), self.args, dict(vars(self))))


def _rebuild(cls: type[LLMConfidenceError], args: tuple[Any, ...], data: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    vars(error).update(data)
    return error


class NoLogprobsError(LLMConfidenceError):
    """The endpoint returned no logprobs, or refused the ``logprobs`` parameter."""

    model: str | None = None
    base_url: str | None = None


class JudgeResponseError(LLMConfidenceError):
    """The endpoint answered, but not with a verdict: no choices, a refusal, a content filter."""

    model: str | None = None


class CassetteMissError(LLMConfidenceError):
    """A request has no recording in the test's cassette and the record mode forbids recording it."""

    path: Any = None
    """The cassette file (a ``pathlib.Path``), or ``None`` when no cassette is involved."""
    nodeid: str | None = None
    """The test whose request it was."""


class ReplayMiss(BaseException):
    """A request a replay-only cassette cannot answer, on its way out of the app's HTTP client.

    Not an ``Exception``: a client's retry loop (``except Exception``) does not retry it, wrap it in
    "Connection error." or wait between tries. The plugin turns it back into its ``error`` (a
    ``CassetteMissError``) where the test, the fixture or the judge fails.
    """

    def __init__(self, error: CassetteMissError) -> None:
        super().__init__(str(error))
        self.error = error


class CassetteCorruptError(LLMConfidenceError):
    """A cassette file exists but cannot be parsed."""

    path: Any = None


class CassetteSecretError(LLMConfidenceError):
    """A cassette about to be written still contains the API key in use: it is not written."""

    path: Any = None


class ReportFileError(LLMConfidenceError):
    """A file given as a JSON report (a baseline, a shard to merge) is missing, unreadable or not a report."""

    path: Any = None


class BatchQueuedError(LLMConfidenceError):
    """A judge request was queued for the Batch API (``--llm-record-mode=batch``); its test is skipped."""


class BudgetExceededError(LLMConfidenceError):
    """A live judge call was not sent: the run's live spending would pass ``llm_max_cost``."""

    limit: float | None = None
    """The budget, in dollars."""
    spent: float | None = None
    """What the run had spent on live judge calls when this one was refused, in dollars."""


class UnassertedCheckWarning(UserWarning):
    """A check (``confident_true(...)``, ``at_least(...)``…) failed and nothing asserted it: the test passed
    in silence. Warned at the end of the test; ``-W error`` makes it fail the test."""


# Tracebacks show the name users import (pytest_llmconfidence.CassetteMissError), not this module's.
for _error in (
    LLMConfidenceError,
    NoLogprobsError,
    JudgeResponseError,
    CassetteMissError,
    CassetteCorruptError,
    CassetteSecretError,
    ReportFileError,
    BudgetExceededError,
    BatchQueuedError,
    UnassertedCheckWarning,
):
    _error.__module__ = "pytest_llmconfidence"
del _error


LOGPROB_PROVIDERS = (
    "Logprobs are returned by OpenAI's GPT-4o/GPT-4.1 families (not by its reasoning models o1/o3/o4/gpt-5), "
    "Azure OpenAI deployments of those models, vLLM, llama.cpp's server (llama-server) and Ollama from "
    "0.12.11 on; LM Studio's chat completions return none (see docs/local-models.md)."
)


def no_logprobs_message(model: str, base_url: str, detail: str | None = None) -> str:
    lines = [
        f"the endpoint {base_url} returned no logprobs for model {model!r}.",
        "pytest-llmconfidence needs the logprobs of the verdict token to compute its confidence: "
        "judge with a model and endpoint that return `logprobs` and `top_logprobs`.",
        LOGPROB_PROVIDERS,
        "Choose another model with --llm-model / llm_model / LLM_JUDGE_MODEL, or another endpoint with "
        "--llm-base-url / llm_base_url / OPENAI_BASE_URL.",
    ]
    if detail:
        lines.insert(1, f"The server said: {detail}")
    return "\n".join(lines)


def as_miss(exc: BaseException) -> BaseException:
    """The ``CassetteMissError`` a replay miss carries, with the traceback of where it happened.

    A miss travels as ``ReplayMiss`` (not an ``Exception``), so the app's client neither retries it nor
    buries it under "Connection error."; here it becomes the error the test fails with.
    """
    if isinstance(exc, ReplayMiss):
        return exc.error.with_traceback(exc.__traceback__)
    seen: BaseException | None = exc
    for _ in range(8):  # a client that wrapped the miss anyway: the miss is the headline
        if seen is None or isinstance(seen, CassetteMissError):
            return seen if seen is not None else exc
        if isinstance(seen, ReplayMiss):
            return seen.error.with_traceback(seen.__traceback__)
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)
    return exc
