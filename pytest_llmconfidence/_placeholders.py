"""Placeholder API keys, so that clients built at import time construct while a run replays.

Loaded when a run starts with no key, so it holds nothing but these few lines (no regular expression).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, MutableMapping

__all__ = [
    "CLIENT_KEY_VARIABLES",
    "PLACEHOLDER_KEY",
    "PLACEHOLDER_KEYS",
    "clear_placeholders",
    "set_placeholders",
]

PLACEHOLDER_KEY = "sk-llmconfidence-placeholder-not-a-real-key"
PLACEHOLDER_KEYS = frozenset({PLACEHOLDER_KEY})
CLIENT_KEY_VARIABLES = ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY")
"""The credentials the openai clients read from the environment when none is given."""


def set_placeholders(environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Put the placeholder key in each client key variable that is unset; the names it set.

    With them, ``openai.OpenAI()`` and ``openai.AzureOpenAI(...)`` built at import time construct
    while the run replays; a real key is never touched.
    """
    env = os.environ if environ is None else environ
    names = [name for name in CLIENT_KEY_VARIABLES if not env.get(name)]
    for name in names:
        env[name] = PLACEHOLDER_KEY
    return names


def clear_placeholders(names: Iterable[str], environ: MutableMapping[str, str] | None = None) -> None:
    """Remove the placeholders ``set_placeholders`` put (those still holding the placeholder)."""
    env = os.environ if environ is None else environ
    for name in names:
        if env.get(name) in PLACEHOLDER_KEYS:
            del env[name]
