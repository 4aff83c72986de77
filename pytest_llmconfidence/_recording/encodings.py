"""Compressed HTTP bodies, decoded so that the secret scan reads what they hold. Standard library only.

gzip and deflate are decoded with ``zlib``; ``br`` with the ``brotli`` (or ``brotlicffi``) module and ``zstd``
with ``compression.zstd`` (Python 3.14) or ``zstandard``, when one of them is importable. A body that
cannot be decoded (no module for its encoding, an encoding nobody knows, or bytes that are not what the
header says) raises ``UndecodableBody`` naming the encoding: it is never written unscanned.
"""

from __future__ import annotations

import importlib
import zlib
from typing import Any

__all__ = ["IDENTITY", "UndecodableBody", "decode"]

IDENTITY = frozenset({"", "identity"})


class UndecodableBody(Exception):
    """A body whose ``Content-Encoding`` cannot be decoded here; the message names the encoding."""


def decode(body: bytes, encoding: str) -> bytes:
    """``body`` decoded as its ``Content-Encoding`` header says (``gzip``, ``deflate``, ``br``, ``zstd``, or
    several: ``gzip, br`` was gzipped first, so is decoded last)."""
    for coding in reversed([part.strip().lower() for part in encoding.split(",")]):
        body = _decode_one(body, coding)
    return body


def _decode_one(body: bytes, coding: str) -> bytes:
    if coding in IDENTITY:
        return body
    if coding in ("gzip", "x-gzip", "deflate"):
        try:
            return zlib.decompress(body, 47)  # 47: gzip or zlib, told apart by the header
        except zlib.error:
            pass
        try:
            return zlib.decompress(body, -15)  # raw deflate, as some clients send it
        except zlib.error as exc:
            raise UndecodableBody(f"{coding} (the bytes are not {coding} data: {exc})") from None
    if coding == "br":
        module = _module("brotli", "brotlicffi")
        if module is None:
            raise UndecodableBody("br (brotli), and no module to decode it is installed: pip install brotli")
        return _run(coding, module.decompress, body)
    if coding == "zstd":
        module = _module("compression.zstd")
        if module is not None:
            return _run(coding, module.decompress, body)
        module = _module("zstandard")
        if module is None:
            raise UndecodableBody("zstd, and no module to decode it is installed: pip install zstandard")
        return _run(coding, lambda data: module.ZstdDecompressor().decompressobj().decompress(data), body)
    raise UndecodableBody(f"{coding!r}, an encoding the plugin cannot decode")


def _module(*names: str) -> Any:
    """The first of these modules that imports, or None."""
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def _run(coding: str, decompress: Any, body: bytes) -> bytes:
    try:
        result = decompress(body)
    except Exception as exc:  # each module has errors of its own
        raise UndecodableBody(f"{coding} (the bytes are not {coding} data: {exc})") from None
    return bytes(result)
