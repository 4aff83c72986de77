"""The default verdict labels (a leaf module: the plugin's configuration needs them at load)."""

from __future__ import annotations

DEFAULT_TRUE_LABELS: tuple[str, ...] = ("true", "yes")
DEFAULT_FALSE_LABELS: tuple[str, ...] = ("false", "no")
