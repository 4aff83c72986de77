"""Text helpers every output shares: one-line excerpts, probabilities, plurals, paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["display_path", "fmt", "fmt_probability", "plural", "shorten", "value_text", "visible"]


_CONTROL = {code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))}


_CONTROL_LINES = {code: text for code, text in _CONTROL.items() if code != 0x0A}


def visible(text: str, *, lines: bool = False) -> str:
    """``text`` with control characters (ANSI escapes among them) written out (``\\x1b``), never interpreted;
    with ``lines``, line breaks are kept."""
    return text.translate(_CONTROL_LINES if lines else _CONTROL)


def shorten(text: Any, limit: int = 80, *, marker: str = "…", secrets: set[str] | None = None) -> str:
    """``text`` on one line (runs of whitespace as one space, control characters escaped), cut to ``limit``
    characters with ``marker``. Secrets (every known one, or those of ``secrets``: a caller cutting many
    texts reads the environment's once) are redacted first, so no piece of one survives the cut."""
    from ._recording.secrets import redact

    flat = visible(" ".join(redact(str("" if text is None else text), secrets).split()))
    if len(flat) <= limit:
        return flat
    return flat[: max(0, limit - len(marker))].rstrip() + marker


def fmt_probability(value: float, other: float | None = None) -> str:
    """Two decimals, more when two decimals would make ``value`` and ``other`` look equal."""
    text = f"{value:.2f}"
    if other is not None and value != other:
        digits = 2
        while digits < 6 and f"{value:.{digits}f}" == f"{other:.{digits}f}":
            digits += 1
        text = f"{value:.{digits}f}"
    return text


def fmt(value: float | None) -> str:
    """Two decimals, or ``-`` for a missing number."""
    return "-" if value is None else f"{value:.2f}"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def value_text(value: Any) -> str:
    """A verdict's value as users read it: ``true``, ``false`` or ``undecided``."""
    return "undecided" if value is None else str(value).lower()


def display_path(path: Path) -> str:
    """``path`` relative to the current directory when it lies below it (as pytest shows paths)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def md_cell(value: Any) -> str:
    """``value`` as one cell of a Markdown table: one line of at most 100 characters, markup escaped."""
    text = shorten(value, 100, marker="...")
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "&#124;"), ("`", "&#96;")):
        text = text.replace(char, entity)
    return text
