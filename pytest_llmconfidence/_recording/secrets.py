"""What counts as a secret, and how it is kept out of cassettes, messages and reports. Standard library only.

The known secrets are the API keys of the environment (``OPENAI_API_KEY``, ``AZURE_OPENAI_API_KEY`` and
any variable whose name says key, token, secret or password), the organisation id (``OPENAI_ORG_ID``), the
variables named by ``llm_secret_env``, the judge client's key, plus every credential the cassettes saw in a
request's headers, query string or URL. A secret is found in every form it takes on the way out: as is,
percent-encoded (``%2F``, either case, ``+`` for a space), JSON-escaped (``\\/``, ``\\u002f``), as an HTML
character reference, and base64 (standard or URL-safe, at any alignment inside a longer base64 text).
``redact`` replaces every form with ``***`` and removes user-info and secret query values from URLs; the
errors of the plugin, its reports and every excerpt cut for display pass through it first.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import functools
import os
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from .._startup import CLIENT_KEY_VARIABLES, PLACEHOLDER_KEY, PLACEHOLDER_KEYS

ORGANIZATION_VARIABLES = ("OPENAI_ORG_ID", "OPENAI_ORGANIZATION")

__all__ = [
    "PLACEHOLDER_KEY",
    "PLACEHOLDER_KEYS",
    "QUERY_PLACEHOLDER",
    "Redacting",
    "add",
    "contains",
    "found_in_bytes",
    "is_secret",
    "is_secret_name",
    "known",
    "redact",
    "redact_report",
    "scrub_url",
    "secret_env",
]

QUERY_PLACEHOLDER = "REDACTED"
MASK = "***"


_SECRET_ENV = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
_SECRET_PARAM_WORDS = ("key", "token", "secret", "password", "passwd", "signature", "credential", "auth")
_SECRET_PARAMS = frozenset({"sig", "code", "pwd", "pass", "session", "sid"})
_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)[^/\s?#@]*@")
_QUERY_PAIR = re.compile(r"(?P<lead>[?&;])(?P<name>[^=&#\s;]+)=(?P<value>[^&#\s;'\"<>]*)")
MIN_SECRET_LENGTH = 8

_seen: set[str] = set()
_env_names: set[str] = set()
_env_cache: dict[Any, frozenset[str]] = {}
_lock = threading.Lock()


def is_secret(value: str) -> bool:
    """Whether ``value`` is worth hiding: long enough to be a credential, and not our placeholder."""
    return len(value) >= MIN_SECRET_LENGTH and value not in PLACEHOLDER_KEYS


def is_secret_name(name: str) -> bool:
    """Whether a query parameter (or form field) named ``name`` carries a credential."""
    lowered = unquote(name).strip().lower()
    return lowered in _SECRET_PARAMS or any(word in lowered for word in _SECRET_PARAM_WORDS)


def add(values: Iterable[str]) -> None:
    """Remember credentials seen at run time (request headers, query strings, URL passwords)."""
    found = {value for value in values if is_secret(value)}
    if found:
        with _lock:
            _seen.update(found)


def secret_env(names: Iterable[str]) -> None:
    """Treat the values of these environment variables as secrets too (``llm_secret_env``, one run's)."""
    with _lock:
        _env_names.clear()
        _env_names.update(names)


def known() -> set[str]:
    """Every secret known now: the environment's keys and those seen at run time."""
    with _lock:
        extra = frozenset(_env_names)
        found = set(_seen)
    raw = getattr(os.environ, "_data", None)  # the environment as the OS holds it: a cheap cache key
    key = (tuple(raw.items()), extra) if isinstance(raw, dict) else None
    cached = _env_cache.get(key) if key is not None else None
    if cached is None:
        cached = frozenset(
            value
            for name, value in os.environ.items()
            if (
                name in CLIENT_KEY_VARIABLES
                or name in ORGANIZATION_VARIABLES
                or name in extra
                or _SECRET_ENV.search(name)
            )
            and is_secret(value)
        )
        if key is not None:
            _env_cache.clear()  # one environment at a time: the one the run has now
            _env_cache[key] = cached
    found.update(cached)
    return found


# --- every form of a secret -------------------------------------------------------------------


def _hex_pattern(byte: int) -> str:
    """Two hex digits of ``byte``, either case (``%2f`` and ``%2F`` alike)."""
    return "".join(f"[{d.lower()}{d.upper()}]" if d.isalpha() else d for d in f"{byte:02x}")


def _char_pattern(char: str) -> str:
    """Every spelling of one character on its way out: itself, percent-encoded, JSON-escaped, as an HTML
    character reference, ``+`` for a space and ``\\/`` for a slash."""
    forms = [re.escape(char), "".join(f"%{_hex_pattern(b)}" for b in char.encode("utf-8"))]
    code = ord(char)
    if code <= 0xFFFF:
        forms.append(r"\\u" + "".join(_hex_pattern(b) for b in code.to_bytes(2, "big")))
    forms.append(f"&#0*{code};")
    forms.append(f"&#[xX]0*{_hex_pattern(code) if code < 256 else f'{code:x}'};")
    forms.extend({" ": ["[+]"], "/": [r"\\/"], "&": ["&amp;"], "<": ["&lt;"], ">": ["&gt;"]}.get(char, []))
    forms.extend({'"': ["&quot;", r'\\"'], "'": ["&#39;"], "\\": [r"\\\\"]}.get(char, []))
    return "(?:" + "|".join(forms) + ")"


def _base64_forms(secret: str) -> set[str]:
    """The base64 text that stands for ``secret`` wherever it starts in a longer base64 text: for each of
    the three alignments, the characters that encode the secret's bits only (standard and URL-safe)."""
    raw = secret.encode("utf-8")
    found = set()
    for offset in range(3):
        encoded = base64.b64encode(bytes(offset) + raw).decode("ascii")
        start = -(-8 * offset // 6)
        core = encoded[start : 8 * (offset + len(raw)) // 6]
        if len(core) >= MIN_SECRET_LENGTH:
            found.update({core, core.replace("+", "-").replace("/", "_")})
    return found


@functools.lru_cache(maxsize=32)
def _patterns(secrets: frozenset[str]) -> tuple[re.Pattern[str], re.Pattern[bytes]] | None:
    """One pattern (for text, and for bytes) matching every form of every secret, longest first."""
    if not secrets:
        return None
    parts = []
    for secret in sorted(secrets, key=len, reverse=True):
        parts.append("".join(_char_pattern(char) for char in secret))
        parts.extend(re.escape(form) for form in sorted(_base64_forms(secret), key=len, reverse=True))
    source = "|".join(parts)
    return re.compile(source), re.compile(source.encode("utf-8"))


def contains(text: str, secrets: Iterable[str] | None = None) -> bool:
    """Whether ``text`` holds a secret (every known one, or those of ``secrets``) in any of its forms."""
    patterns = _patterns(
        frozenset(value for value in (known() if secrets is None else secrets) if is_secret(value))
    )
    return patterns is not None and patterns[0].search(text) is not None


def found_in_bytes(data: bytes, secrets: Iterable[str]) -> bool:
    """Whether ``data`` (a body, binary or not) holds one of ``secrets`` in any of its forms."""
    patterns = _patterns(frozenset(value for value in secrets if is_secret(value)))
    return patterns is not None and patterns[1].search(data) is not None


def scrub_url(url: str, secrets: set[str] | None = None) -> str:
    """``url`` without user-info, with the values of secret-looking query parameters replaced.

    Credentials found on the way are remembered (``add``), so they are hidden everywhere else too.
    """
    text = str(url)
    found: list[str] = []

    def userinfo(match: re.Match[str]) -> str:
        info = match.group(0)[len(match.group("scheme")) : -1]
        found.extend(unquote(part) for part in info.split(":", 1))
        return match.group("scheme")

    def pair(match: re.Match[str]) -> str:
        if not is_secret_name(match.group("name")) or match.group("value") in ("", QUERY_PLACEHOLDER):
            return match.group(0)
        found.append(unquote(match.group("value")))
        return f"{match.group('lead')}{match.group('name')}={QUERY_PLACEHOLDER}"

    text = _QUERY_PAIR.sub(pair, _URL_USERINFO.sub(userinfo, text))
    add(found)
    if secrets is not None:
        secrets.update(value for value in found if is_secret(value))
    return text


def redact(text: str, secrets: set[str] | None = None) -> str:
    """``text`` with every known secret (or every one of ``secrets``) shown as ``***``, and its URLs
    scrubbed (``scrub_url``)."""
    values = known() if secrets is None else set(secrets)
    if "://" in text or "=" in text:
        text = scrub_url(text, values)
    patterns = _patterns(frozenset(value for value in values if is_secret(value)))
    return text if patterns is None else patterns[0].sub(MASK, text)


def redact_report(report: Any) -> None:
    """A test report with every known secret shown as ``***``: its failure (the assertion line, the
    traceback's source and locals, the crash message) and its captured output, in place.

    pytest's failure representation is a tree of dataclasses holding text; each text is redacted where it
    is, so the terminal, the short summary, JUnit XML and xdist all get the same redacted failure.
    """
    secrets = {value for value in known() if is_secret(value)}
    if not secrets:
        return
    if report.longrepr is not None:
        report.longrepr = _redacted(report.longrepr, secrets, 0)
    if report.sections:
        report.sections = _redacted(report.sections, secrets, 0)


def _redacted(value: Any, secrets: set[str], depth: int) -> Any:
    """``value`` with its texts redacted: strings, lists and tuples of them, dataclasses holding them."""
    if isinstance(value, str):
        return _without_pieces(redact(value, secrets) if contains(value, secrets) else value, secrets)
    if depth > 8:
        return value
    if isinstance(value, list):
        return [_redacted(item, secrets, depth + 1) for item in value]
    if isinstance(value, tuple):
        return tuple(_redacted(item, secrets, depth + 1) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            current = getattr(value, field.name, None)
            new = _redacted(current, secrets, depth + 1)
            if new is not current and new != current:
                with contextlib.suppress(AttributeError, TypeError, dataclasses.FrozenInstanceError):
                    object.__setattr__(value, field.name, new)
    return value


PIECE_LENGTH = 10
"""A run of this many characters of a secret is hidden in a failure, wherever pytest cut the rest of it."""


def _without_pieces(text: str, secrets: set[str]) -> str:
    """``text`` with every run of ``PIECE_LENGTH`` or more characters of a secret shown as ``***``.

    pytest cuts long values in the middle when it shows locals and arguments (``'abc...xyz'``), after
    anything of ours could redact them: what is left of a key there is a piece of it.
    """
    for secret in secrets:
        windows = [secret[i : i + PIECE_LENGTH] for i in range(len(secret) - PIECE_LENGTH + 1)]
        while True:
            hits = [(text.find(window), offset) for offset, window in enumerate(windows)]
            found = [(at, offset) for at, offset in hits if at >= 0]
            if not found:
                break
            begin, offset = min(found)
            end, at = begin + PIECE_LENGTH, offset + PIECE_LENGTH
            while end < len(text) and at < len(secret) and text[end] == secret[at]:
                end, at = end + 1, at + 1
            text = text[:begin] + MASK + text[end:]
    return text


class Redacting:
    """A terminal reporter whose every write goes through ``redact`` (the secrets known when made)."""

    def __init__(self, terminal: Any) -> None:
        self._terminal = terminal
        self._secrets = known()

    def _clean(self, text: object) -> str:
        return redact(str(text), self._secrets)

    def write(self, text: object, **markup: bool) -> None:
        self._terminal.write(self._clean(text), **markup)

    def line(self, text: object = "", **markup: bool) -> None:
        self._terminal.line(self._clean(text), **markup)

    def write_line(self, text: object, **markup: bool) -> None:
        self._terminal.write_line(self._clean(text), **markup)

    def write_sep(self, sep: str, title: object = None, **markup: bool) -> None:
        self._terminal.write_sep(sep, None if title is None else self._clean(title), **markup)
