"""The text of a cassette file: vcrpy's cassette data written as JSON, which is YAML too. Standard library
only (YAML is read through the serializer it is given).

A cassette keeps its ``.yaml`` name and vcrpy's data (``interactions`` of ``request`` and ``response``,
``version``), so any YAML reader loads it: vcrpy's default serializer, pytest-recording, ``yaml.safe_load``.
Written as JSON text it parses more than ten times faster than as YAML (``json.loads`` against libyaml's
loader), which is what lets a cassette of 20,000 interactions start in under two seconds.

JSON is YAML only when it is written with care; ``dumps`` writes it so that ``json.loads`` and a YAML
reader give the same data:

- Characters YAML refuses in a file (DEL, the C1 controls ``\\x80``-``\\x9f``, U+FFFE, U+FFFF) and those
  it reads as line breaks or a byte-order mark (U+0085, U+2028, U+2029, U+FEFF) are written as ``\\uXXXX``,
  which both read as the same character. Control characters below ``\\x20`` are escaped by JSON itself.
- Every other character is written as itself, UTF-8 encoded: a character beyond U+FFFF (an emoji)
  would be a surrogate pair in JSON's escapes, which YAML reads as two characters.
- Data JSON cannot hold, or that YAML would read differently, is written as vcrpy's YAML, as before:
  bytes (a body that is not UTF-8 text), surrogates, floats (YAML 1.1 reads ``1e-05`` as text), tuples,
  keys that are not text, and other Python objects.

``loads`` reads JSON first and falls back to YAML for cassettes written before, or by hand.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["JsonFirst", "dumps", "loads"]

_ESCAPED = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
"""What YAML refuses, or reads as a line break or a byte-order mark, inside a double-quoted scalar."""
_SURROGATE = re.compile("[\ud800-\udfff]")
"""Halves of a pair: JSON joins an escaped pair into one character, YAML keeps two."""
_MAX_KEY = 128
"""YAML reads a key of a flow mapping as a simple key, at most 1,024 characters as written (an escaped
character takes six): header names and vcrpy's field names are far shorter."""


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def _plain(value: Any) -> bool:
    """Whether ``value`` is made of what JSON and YAML read alike: text-keyed mappings, lists, text,
    integers, booleans and None."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is dict:
        return all(type(k) is str and len(k) < _MAX_KEY and _plain(v) for k, v in value.items())
    if kind is list:
        return all(_plain(item) for item in value)
    return False


def dumps(data: Any) -> str | None:
    """``data`` as indented JSON text (keys sorted, one per line, a final newline) that a YAML reader
    reads as the same data, or None when it holds what only YAML can write (bytes, floats…)."""
    if not _plain(data):
        return None
    text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
    if _SURROGATE.search(text):
        return None
    return _ESCAPED.sub(_escape, text) + "\n"


def loads(text: str, serializer: Any) -> Any:
    """The data of a cassette's text: JSON when it is, else what ``serializer`` (YAML) reads.

    A text that looks like JSON and that neither reads raises JSON's error, which names the line.
    """
    if not text.lstrip().startswith("{"):
        return serializer.deserialize(text)
    try:
        return json.loads(text)
    except ValueError as json_error:
        try:
            return serializer.deserialize(text)
        except Exception:  # a JSON cassette edited into broken JSON: JSON's error says where
            raise json_error from None


class JsonFirst:
    """A vcrpy serializer that writes JSON where it can (``dumps``) and ``fallback``'s YAML elsewhere."""

    def __init__(self, fallback: Any) -> None:
        self.fallback = fallback

    def serialize(self, data: Any) -> str:
        text = dumps(data)
        if text is None:
            written: str = self.fallback.serialize(data)
            return written
        return text

    def deserialize(self, text: str) -> Any:
        return loads(text, self.fallback)
