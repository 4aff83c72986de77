"""The default judge prompt (the plugin's own implementation of pytest_llmconfidence_build_messages)."""

from __future__ import annotations

__all__ = [
    "REASON_MAX_TOKENS",
    "REASON_PROMPT",
    "SYSTEM_PROMPT",
    "VERDICT_MARKER",
    "default_messages",
    "question_parts",
]

SYSTEM_PROMPT = (
    "You are a strict evaluator. You are given a question, and often a response to evaluate. "
    "Decide whether the answer to the question is true or false. "
    "Reply with exactly one word, true or false, in lower case, and nothing else."
)


VERDICT_MARKER = "Verdict:"
REASON_MAX_TOKENS = 400
"""The completion budget of a reasoning judge when ``max_tokens`` is not given."""
REASON_PROMPT = (
    "You are a strict evaluator. You are given a question, and often a response to evaluate. "
    "Decide whether the answer to the question is true or false. "
    "First reason briefly, in at most three sentences. "
    "Then end with one last line, exactly `Verdict: true` or `Verdict: false`, and nothing after it."
)


def question_parts(question: str, response: str | None, context: str | None) -> list[str]:
    """The user message's parts every judge prompt shares: the context, the response, the question."""
    parts = []
    if context is not None:
        parts.append(f"Context:\n{context}")
    if response is not None:
        parts.append(f"Response to evaluate:\n{response}")
    parts.append(f"Question: {question}")
    return parts


def default_messages(
    question: str, response: str | None, context: str | None, *, reason: bool = False
) -> list[dict[str, str]]:
    """System prompt, then one user message with the context, the response and the question.

    With ``reason`` the model is asked to reason briefly, then end with a line ``Verdict: true|false``.
    """
    parts = question_parts(question, response, context)
    if reason:
        parts.append("Reason briefly, then end with the line `Verdict: true` or `Verdict: false`.")
    else:
        parts.append("Answer with one word: true or false.")
    return [
        {"role": "system", "content": REASON_PROMPT if reason else SYSTEM_PROMPT},
        {"role": "user", "content": "\n\n".join(parts)},
    ]
