"""The errors users meet. Plain Python: importing this module costs nothing."""

from __future__ import annotations

__all__ = [
    "BudgetExceededError",
    "CassetteCorruptError",
    "CassetteMissError",
    "CassetteSecretError",
    "JudgeResponseError",
    "LLMConfidenceError",
    "NoLogprobsError",
]


class LLMConfidenceError(Exception):
    """Base class of every error raised by pytest-llmconfidence.

    Its message never shows a secret: known keys read ``***``, URLs lose their user-info and the
    values of secret-looking query parameters.
    """

    def __init__(self, *args: object) -> None:
        if len(args) == 1 and isinstance(args[0], str):
            from ._recording.secrets import redact

            args = (redact(args[0]),)
        super().__init__(*args)


class NoLogprobsError(LLMConfidenceError):
    """The endpoint returned no logprobs, or refused the ``logprobs`` parameter."""


class JudgeResponseError(LLMConfidenceError):
    """The endpoint answered, but not with a verdict: no choices, a refusal, a content filter."""


class CassetteMissError(LLMConfidenceError):
    """A request has no recording in the test's cassette and the record mode forbids recording it."""


class CassetteCorruptError(LLMConfidenceError):
    """A cassette file exists but cannot be parsed."""


class CassetteSecretError(LLMConfidenceError):
    """A cassette about to be written still contains the API key in use: it is not written."""


class BudgetExceededError(LLMConfidenceError):
    """A live judge call was not sent: the run's live spending would pass ``llm_max_cost``."""


# Tracebacks show the name users import (pytest_llmconfidence.CassetteMissError), not this module's.
for _error in (
    LLMConfidenceError,
    NoLogprobsError,
    JudgeResponseError,
    CassetteMissError,
    CassetteCorruptError,
    CassetteSecretError,
    BudgetExceededError,
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


class ReportFileError(LLMConfidenceError):
    """A file given as a JSON report (a baseline, a shard to merge) is missing, unreadable or not a report."""


ReportFileError.__module__ = "pytest_llmconfidence"
