"""The shop's chat assistant: a real language model behind the official OpenAI client.

The client is built when the module is imported, as most apps do; its key and base URL come from the
environment (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``). In the example suite every call replays from the
test's cassette, so neither is needed.
"""

from __future__ import annotations

import openai

MODEL = "smollm2-135m-instruct"

client = openai.OpenAI()


def chat(system: str, user: str, *, logprobs: bool = True) -> str:
    """The assistant's answer to ``user`` under the system prompt ``system``.

    With ``logprobs`` the request asks for the probability of every generated token (and the five most
    probable alternatives), which is what lets a test see how sure the model was of its answer.
    """
    extra = {"logprobs": True, "top_logprobs": 5} if logprobs else {}
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
        temperature=0,
        max_tokens=40,
        **extra,
    )
    return completion.choices[0].message.content or ""
