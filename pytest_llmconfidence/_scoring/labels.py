"""The default verdict labels and how a token is read as one: a module of its own, so the configuration
(loaded with the plugin in every pytest run) takes them without importing the confidence maths."""

from __future__ import annotations

DEFAULT_TRUE_LABELS: tuple[str, ...] = ("true", "yes")
DEFAULT_FALSE_LABELS: tuple[str, ...] = ("false", "no")

_QUOTES = "\"'`\u201c\u201d\u2018\u2019"


def normalize_token(token: str) -> str:
    """Token text as a label: whitespace and quotes stripped, case-folded (``' "True'`` -> ``'true'``)."""
    previous = None
    text = token
    while previous != text:
        previous = text
        text = text.strip().strip(_QUOTES)
    return text.casefold()
