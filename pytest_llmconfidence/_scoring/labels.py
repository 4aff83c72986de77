"""The default verdict labels: a module of its own, so the configuration (loaded with the plugin in
every pytest run) takes them without importing the confidence maths."""

from __future__ import annotations

DEFAULT_TRUE_LABELS: tuple[str, ...] = ("true", "yes")
DEFAULT_FALSE_LABELS: tuple[str, ...] = ("false", "no")
