"""What counts as a secret, and how it is kept out of cassettes, messages and reports. Standard library only.

The known secrets are the API keys of the environment (``OPENAI_API_KEY``, ``AZURE_OPENAI_API_KEY`` and
any variable whose name says key, token, secret or password), plus every credential the cassettes saw
in a request's headers, query string or URL. ``redact`` replaces them with ``***`` and removes
user-info and secret query values from URLs; the errors of the plugin and its report files pass
through it.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, unquote

from .._settings import CLIENT_KEY_VARIABLES, PLACEHOLDER_KEY, PLACEHOLDER_KEYS

__all__ = [
    "PLACEHOLDER_KEY",
    "PLACEHOLDER_KEYS",
    "QUERY_PLACEHOLDER",
    "Redacting",
    "add",
    "is_secret",
    "is_secret_name",
    "known",
    "redact",
    "scrub_url",
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


def known() -> set[str]:
    """Every secret known now: the environment's keys and those seen at run time."""
    found = {
        value
        for name, value in os.environ.items()
        if (name in CLIENT_KEY_VARIABLES or _SECRET_ENV.search(name)) and is_secret(value)
    }
    with _lock:
        found.update(_seen)
    return found


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
    for value in sorted(values, key=len, reverse=True):
        if value in text:
            text = text.replace(value, MASK)
        quoted = quote(value, safe="")
        if quoted != value and quoted in text:
            text = text.replace(quoted, MASK)
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
