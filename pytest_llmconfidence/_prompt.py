"""The default judge prompt (the plugin's own implementation of pytest_llmconfidence_build_messages)."""

from __future__ import annotations

__all__ = ["SYSTEM_PROMPT", "default_messages"]

SYSTEM_PROMPT = (
    "You are a strict evaluator. You are given a question, and often a response to evaluate. "
    "Decide whether the answer to the question is true or false. "
    "Reply with exactly one word, true or false, in lower case, and nothing else."
)


def default_messages(question: str, response: str | None, context: str | None) -> list[dict[str, str]]:
    """System prompt, then one user message with the context, the response and the question."""
    parts = []
    if context is not None:
        parts.append(f"Context:\n{context}")
    if response is not None:
        parts.append(f"Response to evaluate:\n{response}")
    parts.append(f"Question: {question}")
    parts.append("Answer with one word: true or false.")
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": "\n\n".join(parts)},
    ]
