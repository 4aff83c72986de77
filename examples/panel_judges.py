"""The panel examples' second judge: the same local model under another name, with a harsher prompt.

The local server answers every model name with its one model, so a panel of ``MODEL`` and ``HARSH_JUDGE``
is that model asked twice: once with the plugin's default prompt, once with ``harsh_messages`` (given by
conftest.py's ``pytest_llmconfidence_build_messages``).
"""

from __future__ import annotations

HARSH_JUDGE = "smollm2-135m-instruct-harsh"


def harsh_messages(question: str, response: str | None) -> list[dict[str, str]]:
    return [
        {
            "role": "system",
            "content": "You are a harsh critic of customer support. Most replies fail. "
            "Answer the question about the reply with one word, true or false.",
        },
        {"role": "user", "content": f"Response to evaluate:\n{response}\n\nQuestion: {question}"},
    ]
