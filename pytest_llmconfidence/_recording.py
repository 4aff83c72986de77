"""Cassettes: one vcrpy cassette per test, matched on method, path and the canonical JSON body.

Knows nothing of pytest. vcrpy is imported on first use only (``activate``), never at import.

The seam the judge uses (and anything else that sends requests through a test's cassette):

- ``send_chat(client, params, *, retries=True) -> (completion, replayed)`` performs one chat completion
  with ``with_raw_response`` and tells whether it was played from a cassette;
- ``asend_chat(client, params, *, retries=True)`` is the same for an ``AsyncOpenAI`` client;
- ``was_replayed(response) -> bool`` tells it for any HTTP response (httpx/httpx2 ``Response``, or
  openai's raw response wrapper): a response played from a cassette carries ``REPLAY_HEADER``. The
  mark travels on the response object itself, so it stays exact across threads and tasks.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import json
import os
import re
import shlex
import sys
import tempfile
import threading
import weakref
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn

from ._errors import CassetteCorruptError, CassetteMissError, CassetteSecretError, LLMConfidenceError

__all__ = [
    "IGNORED_BODY_FIELDS",
    "JUDGE_HEADER",
    "REPLAY_HEADER",
    "ActiveCassette",
    "CassetteSecretError",
    "activate",
    "asend_chat",
    "cassette_path",
    "send_chat",
    "was_replayed",
]

REPLAY_HEADER = "x-llmconfidence-replayed"
JUDGE_HEADER = "x-llmconfidence-judge"
IGNORED_BODY_FIELDS = frozenset(
    {"user", "metadata", "store", "stream_options", "prompt_cache_key", "safety_identifier"}
)
REQUEST_HEADERS_KEPT = frozenset({"content-type"})
RESPONSE_HEADERS_DROPPED = frozenset(
    {
        "set-cookie",
        "openai-organization",
        "openai-project",
        "x-request-id",
        REPLAY_HEADER,
        "authorization",
        "proxy-authorization",
        "api-key",
        "x-api-key",
    }
)
_SECRET_WORDS = ("key", "secret", "token", "auth", "cookie", "session", "password")
_UNSAFE = re.compile(r"[^\w.\-\[\]=,+@]")
_MAX_NAME = 200
_PLACEHOLDER_KEYS = frozenset({"sk-llmconfidence-placeholder-not-a-real-key"})


# --- the path of a test's cassette ------------------------------------------------------------


def _safe(part: str) -> str:
    text = _UNSAFE.sub("_", part) or "_"
    if text in (".", ".."):
        text = text.replace(".", "_")
    if len(text) > _MAX_NAME:
        digest = hashlib.sha1(text.encode()).hexdigest()[:10]
        text = f"{text[: _MAX_NAME - 11]}-{digest}"
    return text


def cassette_path(cassette_dir: Path, rootpath: Path, module_path: Path, nodeid: str) -> Path:
    """``<cassette_dir>/<module path from rootdir, no .py>/<Class.>test_name[<param id>].yaml``."""
    try:
        relative = module_path.relative_to(rootpath)
    except ValueError:
        try:
            relative = module_path.resolve().relative_to(rootpath.resolve())
        except ValueError:
            relative = Path(*(p for p in Path(nodeid.split("::", 1)[0]).parts if p not in ("..", "/", "\\")))
    module_parts = list(relative.with_suffix("").parts)
    names = nodeid.split("::")[1:] or [module_path.stem]
    directory = cassette_dir.joinpath(*(_safe(part) for part in module_parts))
    return directory / (_safe(".".join(names)) + ".yaml")


# --- matching ---------------------------------------------------------------------------------


def _canonical_body(body: Any) -> Any:
    """The body as JSON with the ignored fields removed, or the raw bytes when it is not JSON."""
    if body is None or body == b"" or body == "":
        return None
    raw = body if isinstance(body, (bytes, str)) else bytes(body)
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return raw
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k not in IGNORED_BODY_FIELDS}
    return data


def _key(request: Any) -> tuple[str, str, str]:
    """(method, path, hash of the canonical body), cached on the request object."""
    cached: tuple[str, str, str] | None = request.__dict__.get("_llm_key")
    if cached is not None:
        return cached
    body = _canonical_body(request.body_bytes if hasattr(request, "body_bytes") else request.body)
    if isinstance(body, (bytes, str)):
        text = body.encode() if isinstance(body, str) else body
    else:
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    key = (str(request.method).upper(), request.path, hashlib.sha1(text).hexdigest())
    request.__dict__["_llm_key"] = key
    return key


def llm_request(r1: Any, r2: Any) -> bool:
    """vcrpy matcher: method, URL path and canonical JSON body (never headers, never the host)."""
    return _key(r1) == _key(r2)


# --- what is stored ---------------------------------------------------------------------------


def _secret_values(headers: Mapping[str, Any]) -> list[str]:
    found = []
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in ("authorization", "proxy-authorization") or any(w in lowered for w in _SECRET_WORDS):
            for item in value if isinstance(value, list) else [value]:
                text = str(item)
                for prefix in ("Bearer ", "bearer ", "Basic "):
                    text = text.removeprefix(prefix)
                found.append(text.strip())
    return found


def _is_secret(value: str) -> bool:
    return len(value) >= 8 and value not in _PLACEHOLDER_KEYS


def _clean_response(response: dict[str, Any], secrets: set[str]) -> dict[str, Any] | None:
    status = int(response.get("status", {}).get("code", 0) or 0)
    if status == 429 or status >= 500:
        return None  # the client retried it; replay must never replay a failure
    from vcr.filters import decode_response

    response = decode_response(response)
    headers = {}
    for name, value in (response.get("headers") or {}).items():
        lowered = name.lower()
        if lowered in RESPONSE_HEADERS_DROPPED or any(word in lowered for word in _SECRET_WORDS):
            continue
        values = value if isinstance(value, list) else [value]
        if any(secret in str(item) for item in values for secret in secrets):
            continue
        headers[name] = value
    response["headers"] = headers
    return response


# --- the cassette -----------------------------------------------------------------------------


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _record_command(nodeid: str, mode: str) -> str:
    return f"OPENAI_API_KEY=… pytest {shlex.quote(nodeid)} --llm-record-mode={mode}"


def _excerpt(value: Any, width: int = 90) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _describe_difference(now: Any, recorded: Any) -> str:
    """Which field of the JSON body changed, and how (only on the miss path: never on replay)."""
    if not isinstance(now, dict) or not isinstance(recorded, dict):
        return f"the body changed: now {_excerpt(now)}, recorded {_excerpt(recorded)}"
    fields = sorted(k for k in set(now) | set(recorded) if now.get(k) != recorded.get(k))
    lines = [f"the request changed since it was recorded: {', '.join(fields)} differ"]
    for name in fields:
        new, old = now.get(name), recorded.get(name)
        if name == "messages" and isinstance(new, list) and isinstance(old, list):
            for index in range(max(len(new), len(old))):
                a = new[index] if index < len(new) else None
                b = old[index] if index < len(old) else None
                if a != b:
                    a_text = a.get("content") if isinstance(a, dict) else a
                    b_text = b.get("content") if isinstance(b, dict) else b
                    lines.append(f"  messages[{index}] (the question, response or prompt):")
                    lines.append(f"    now:      {_excerpt(a_text)}")
                    lines.append(f"    recorded: {_excerpt(b_text)}")
                    break
        else:
            lines.append(f"  {name}: now {_excerpt(new)}, recorded {_excerpt(old)}")
    return "\n".join(lines)


@functools.cache
def _cassette_class() -> type[Any]:
    from vcr.cassette import Cassette

    class LLMCassette(Cassette):  # type: ignore[misc]
        """A vcrpy cassette that replays in order under a lock, and raises our errors on a miss."""

        nodeid = ""
        file_existed = False

        def _load(self) -> None:
            # vcrpy's _load runs every recording through append (two deep copies and the record
            # filters): recordings read from the file are stored as they are, which halves the cost.
            from vcr.persisters.filesystem import CassetteNotFoundError

            try:
                requests, responses, *metadata = self._persister.load_cassette(
                    self._path, serializer=self._serializer
                )
            except CassetteNotFoundError:
                return
            for request, response in zip(requests, responses, strict=False):
                self.data.append((request, response))
                self._old_interactions.append((request, response))
            self._loaded_count = len(self.data)
            self.dirty = False
            self.rewound = True
            self._metadata = metadata[0] if metadata else {}

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._lock = threading.RLock()
            self._reserved: dict[int, tuple[Any, int]] = {}
            self.secrets: set[str] = set()

        def _responses(self, request: Any) -> Iterator[tuple[int, Any]]:
            request = self._before_record_request(request)
            if not request:
                return
            key = _key(request)
            for index, (stored, response) in enumerate(self.data):
                if _key(stored) == key:
                    yield index, response

        def can_play_response_for(self, request: Any) -> bool:
            # Choosing the interaction and marking it played is one step, so two threads making the
            # same call each get their own recording, in order.
            from vcr.record_mode import RecordMode

            if self.record_mode == RecordMode.ALL:
                return False
            with self._lock:
                if id(request) in self._reserved:
                    return True
                for index, _ in self._responses(request):
                    # Only recordings loaded from the file replay: while recording, a repeated call
                    # goes to the server and is recorded again, so replay later serves each in turn.
                    if index < self._loaded_count and self.play_counts[index] == 0:
                        self.play_counts[index] += 1
                        self._played_interactions.append(self.data[index])
                        self._reserved[id(request)] = (request, index)
                        return True
            return False

        def play_response(self, request: Any) -> Any:
            with self._lock:
                reserved = self._reserved.pop(id(request), None)
            if reserved is None:
                if not self.can_play_response_for(request):
                    raise self.miss(request)
                with self._lock:
                    reserved = self._reserved.pop(id(request))
            response = self.data[reserved[1]][1]
            headers = dict(response.get("headers") or {})
            headers[REPLAY_HEADER] = ["1"]
            return {**response, "headers": headers}

        def append(self, request: Any, response: Any) -> None:
            with self._lock:
                super().append(request, response)

        def filter_request(self, request: Any) -> Any:
            # vcrpy calls this only for a request it cannot play while the cassette is write
            # protected: that is a miss, reported as ours (a request the scope ignores passes).
            filtered = self._before_record_request(request)
            if filtered and self.write_protected:
                raise self.miss(filtered)
            return filtered

        def miss(self, request: Any) -> CassetteMissError:
            path = _display(Path(self._path))
            if not self.file_existed:
                return CassetteMissError(
                    f"no cassette for this test: {path} does not exist (record mode "
                    f"{self.record_mode.value!r}, {request.method} {request.path}).\n"
                    f"Record it with a key: {_record_command(self.nodeid, 'once')}"
                )
            key = _key(request)
            same_route = [stored for stored, _ in self.data if _key(stored)[:2] == key[:2]]
            if any(_key(stored) == key for stored in same_route):
                count = sum(1 for stored in same_route if _key(stored) == key)
                reason = f"this request was recorded {count} time(s) and the test now makes it once more"
            elif same_route:
                now = _canonical_body(request.body_bytes)
                reason = min(
                    (_describe_difference(now, _canonical_body(stored.body_bytes)) for stored in same_route),
                    key=lambda text: text.count(","),
                )
            else:
                recorded = sorted({f"{stored.method} {stored.path}" for stored, _ in self.data}) or [
                    "nothing"
                ]
                reason = (
                    f"no recording of {request.method} {request.path}; the cassette holds "
                    f"{', '.join(recorded)}"
                )
            return CassetteMissError(
                f"no recording for this request in {path} (record mode {self.record_mode.value!r}): "
                f"{reason}\n"
                f"Add it with a key: {_record_command(self.nodeid, 'new_episodes')}\n"
                f"or re-record the test: {_record_command(self.nodeid, 'all')}"
            )

        def _save(self, force: bool = False) -> None:
            with self._lock:
                super()._save(force=force)

    return LLMCassette


class AtomicPersister:
    """Loads a cassette (a parse error is ``CassetteCorruptError``) and writes it atomically."""

    def __init__(self, secrets: set[str]) -> None:
        self.secrets = secrets

    def load_cassette(self, cassette_path: Any, serializer: Any) -> Any:
        from vcr.persisters.filesystem import CassetteNotFoundError
        from vcr.serialize import deserialize

        path = Path(cassette_path)
        try:
            data = path.read_text(encoding="utf-8")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise CassetteNotFoundError() from None
        except (OSError, UnicodeDecodeError) as exc:
            raise CassetteCorruptError(self._corrupt(path, exc)) from None
        if not data.strip():
            raise CassetteNotFoundError()
        try:
            result = deserialize(data, serializer)
        except Exception as exc:  # any parse error: yaml, a missing key, a wrong shape
            raise CassetteCorruptError(self._corrupt(path, exc)) from None
        return result

    @staticmethod
    def _corrupt(path: Path, exc: BaseException) -> str:
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        return (
            f"the cassette {_display(path)} cannot be read ({type(exc).__name__}: {detail}). "
            "It was left untouched: fix it, or delete it and record again with "
            "--llm-record-mode=once and OPENAI_API_KEY set."
        )

    def save_cassette(self, cassette_path: Any, cassette_dict: Any, serializer: Any) -> None:
        from vcr.serialize import serialize

        path = Path(cassette_path)
        data = serialize(cassette_dict, serializer)
        leaked = [secret for secret in self.secrets if _is_secret(secret) and secret in data]
        if leaked:
            raise CassetteSecretError(
                f"not writing the cassette {_display(path)}: it contains the API key in use "
                f"({leaked[0][:3]}…). Report this as a bug; the previous file, if any, is intact."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise


# --- which HTTP libraries a cassette patches --------------------------------------------------

_PATCHER_MODULES = {
    "httplib": "http.client",
    "requests": "requests",
    "boto3": "botocore",
    "urllib3": "urllib3",
    "httplib2": "httplib2",
    "tornado": "tornado",
    "aiohttp": "aiohttp",
    "httpx": "httpx",
    "httpx2": "httpx2",
}
_loaded_before_vcr: frozenset[str] | None = None


def _skip_patchers(scope: str) -> tuple[str, ...]:
    """The judge needs httpx2 only; a whole-test cassette also patches what the test code loaded.

    A library counts as loaded when it was imported before vcrpy (which imports every library it
    knows): the test modules import what the code under test uses at collection time.
    """
    if scope == "judge":
        return tuple(name for name in _PATCHER_MODULES if name != "httpx2")
    loaded = _loaded_before_vcr or frozenset()
    keep = {"httpx2", "httplib"} | {name for name, module in _PATCHER_MODULES.items() if module in loaded}
    return tuple(name for name in _PATCHER_MODULES if name not in keep)


def _import_vcr() -> None:
    global _loaded_before_vcr
    if _loaded_before_vcr is None:
        _loaded_before_vcr = frozenset(m for m in _PATCHER_MODULES.values() if m in sys.modules)
    import vcr.patch  # noqa: F401


# --- activating a test's cassette ------------------------------------------------------------


class ActiveCassette:
    """A test's cassette, active between ``__enter__`` and ``__exit__``; ``send`` is the judge's seam."""

    def __init__(self, path: Path, *, record_mode: str, scope: str, nodeid: str) -> None:
        self.path = path
        self.record_mode = record_mode
        self.scope = scope
        self.nodeid = nodeid
        self.cassette: Any = None
        self._stack: contextlib.ExitStack | None = None
        self._saved_key: str | None = None

    @property
    def replay_only(self) -> bool:
        """Whether every request must come from the cassette (so the client must not retry)."""
        return self.record_mode == "none" or (self.record_mode == "once" and bool(self.cassette.file_existed))

    def __enter__(self) -> ActiveCassette:
        __tracebackhide__ = True
        _import_vcr()
        from vcr.patch import CassettePatcherBuilder

        secrets: set[str] = set()
        key = os.environ.get("OPENAI_API_KEY")
        if key:
            secrets.add(key)
        scope = self.scope

        def before_record_request(request: Any) -> Any:
            # Called several times per request: the outcome is kept on the request. The request
            # itself is never changed (some stubs send it on), a copy without headers is stored.
            if request is None:
                return None
            state = request.__dict__
            if "_llm_filtered" in state:
                return state["_llm_filtered"]
            headers = request.headers
            if scope == "judge" and JUDGE_HEADER not in headers:  # vcrpy's headers ignore case
                state["_llm_filtered"] = None
                return None
            secrets.update(s for s in _secret_values(headers) if _is_secret(s))
            _key(request)
            stored = copy.copy(request)
            stored.headers = {k: v for k, v in headers.items() if k.lower() in REQUEST_HEADERS_KEPT}
            stored.__dict__["_llm_filtered"] = stored
            state["_llm_filtered"] = stored
            return stored

        def before_record_response(response: Any) -> Any:
            return _clean_response(response, secrets)

        from vcr.record_mode import RecordMode

        cls = _cassette_class()
        cassette = cls(
            path=str(self.path),
            persister=AtomicPersister(secrets),
            record_mode=RecordMode(self.record_mode),
            match_on=(llm_request,),
            before_record_request=before_record_request,
            before_record_response=before_record_response,
            skip_patchers=_skip_patchers(scope),
        )
        cassette.nodeid = self.nodeid
        cassette.secrets = secrets
        try:
            cassette._load()
        except LLMConfidenceError as exc:
            raise exc.with_traceback(None) from None
        cassette.file_existed = bool(cassette.rewound)
        self.cassette = cassette
        stack = contextlib.ExitStack()
        try:
            for patcher in CassettePatcherBuilder(cassette).build():
                stack.enter_context(patcher)
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        if not os.environ.get("OPENAI_API_KEY"):
            self._saved_key = ""
            os.environ["OPENAI_API_KEY"] = next(iter(_PLACEHOLDER_KEYS))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        __tracebackhide__ = True
        if self._saved_key is not None:
            os.environ.pop("OPENAI_API_KEY", None)
            self._saved_key = None
        if self._stack is not None:
            self._stack.close()
            self._stack = None
        try:
            self.cassette._save()
        except LLMConfidenceError as error:
            raise error.with_traceback(None) from None

    def send(self, client: Any, params: dict[str, Any]) -> tuple[Any, bool]:
        """The judge's ``send``: one chat completion through this cassette, and whether it replayed."""
        __tracebackhide__ = True
        self._refuse_keyless_recording(client, params)
        return send_chat(client, params, retries=not self.replay_only)

    def _refuse_keyless_recording(self, client: Any, params: dict[str, Any]) -> None:
        """No key, OpenAI's own endpoint, and no recording to replay: say so instead of calling out."""
        __tracebackhide__ = True
        if not needs_key(client) or self.record_mode == "none":
            return
        path = f"{getattr(client.base_url, 'path', '/v1/').rstrip('/')}/chat/completions"
        body = json.dumps(_canonical_body(json.dumps(params)), sort_keys=True, separators=(",", ":"))
        key = ("POST", path, hashlib.sha1(body.encode()).hexdigest())
        cassette = self.cassette
        replayable = self.record_mode != "all"  # "all" records every request afresh
        with cassette._lock:
            for index, (stored, _) in enumerate(cassette.data[: cassette._loaded_count]):
                if replayable and cassette.play_counts[index] == 0 and _key(stored) == key:
                    return
        raise LLMConfidenceError(
            f"no API key: the judge's request has no recording in {_display(self.path)} and "
            "OPENAI_API_KEY is not set.\n"
            f"Set it to record the test: {_record_command(self.nodeid, 'once')}\n"
            "or commit the test's cassette so it replays offline."
        )

    async def asend(self, client: Any, params: dict[str, Any]) -> tuple[Any, bool]:
        """``send`` for an ``AsyncOpenAI`` client (``Judge.acheck``)."""
        __tracebackhide__ = True
        self._refuse_keyless_recording(client, params)
        return await asend_chat(client, params, retries=not self.replay_only)


def activate(path: Path, *, record_mode: str, scope: str, nodeid: str) -> ActiveCassette:
    """The cassette of one test, to use as a context manager."""
    return ActiveCassette(path, record_mode=record_mode, scope=scope, nodeid=nodeid)


# --- sending, and telling whether a response was replayed --------------------------------------

_variants: weakref.WeakKeyDictionary[Any, dict[bool, Any]] = weakref.WeakKeyDictionary()
_variants_lock = threading.Lock()


def judge_client_for(client: Any, *, retries: bool = True) -> Any:
    """``client`` marking its requests as the judge's, without retries when replaying; made once per client.

    The variants live as long as their client does (a weak mapping: nothing outlives the session's client).
    """
    try:
        known = _variants.get(client)
    except TypeError:  # a client that cannot be weakly referenced: no cache
        known = None
    if known is not None and retries in known:
        return known[retries]
    options: dict[str, Any] = {"default_headers": {JUDGE_HEADER: "1"}}
    if not retries:
        options["max_retries"] = 0
    with_options = getattr(client, "with_options", None)
    variant = with_options(**options) if with_options is not None else client
    with _variants_lock, contextlib.suppress(TypeError):
        _variants.setdefault(client, {})[retries] = variant
    return variant


OPENAI_HOST = "api.openai.com"


def needs_key(client: Any) -> bool:
    """Whether ``client`` would call OpenAI's own API with the placeholder key (a certain 401)."""
    url = getattr(client, "base_url", None)
    host = getattr(url, "host", None)
    return getattr(client, "api_key", None) in _PLACEHOLDER_KEYS and host == OPENAI_HOST


@functools.cache
def _response_class() -> type[Any]:
    """The HTTP response class of the installed openai client (httpx2's for openai 3, httpx's before)."""
    import importlib

    import openai

    base = next(cls for cls in openai.DefaultHttpxClient.__mro__[1:] if cls.__name__ == "Client")
    response: type[Any] = importlib.import_module(base.__module__.split(".")[0]).Response
    return response


def post_chat(client: Any, params: dict[str, Any]) -> Any:
    """POST the chat completion and return the raw HTTP response.

    The body is already plain JSON, so the client's request transform and response models (more than
    half the cost of a call) are skipped; its URL building (Azure deployments too), retries and error
    mapping stay. Clients without ``post`` go through ``chat.completions.create`` as usual.
    """
    if not hasattr(client, "post"):
        return client.chat.completions.with_raw_response.create(**params)
    return client.post("/chat/completions", body=params, cast_to=_response_class())


async def apost_chat(client: Any, params: dict[str, Any]) -> Any:
    """``post_chat`` for an ``AsyncOpenAI`` client."""
    if not hasattr(client, "post"):
        return await client.chat.completions.with_raw_response.create(**params)
    return await client.post("/chat/completions", body=params, cast_to=_response_class())


def completion_of(raw: Any) -> Any:
    """The completion of a raw response: its JSON (or what openai's raw response parses to)."""
    parse = getattr(raw, "parse", None)
    if parse is not None:
        return parse()
    return raw.json()


def was_replayed(response: Any) -> bool:
    """Whether an HTTP response (httpx/httpx2, or openai's raw response) was played from a cassette."""
    http = getattr(response, "http_response", response)
    headers = getattr(http, "headers", None)
    return bool(headers is not None and headers.get(REPLAY_HEADER) == "1")


def _ours(exc: BaseException) -> LLMConfidenceError | None:
    seen = exc
    for _ in range(5):
        if isinstance(seen, LLMConfidenceError):
            return seen
        if seen.__cause__ is None:
            return None
        seen = seen.__cause__
    return None


def _surface(exc: Exception) -> NoReturn:
    """Re-raise ``exc``; one of ours (raised inside vcrpy, or wrapped by openai) as it is, traceback cut."""
    __tracebackhide__ = True
    ours = _ours(exc)
    if ours is not None:
        raise ours.with_traceback(None) from None
    raise exc


def send_chat(client: Any, params: dict[str, Any], *, retries: bool = True) -> tuple[Any, bool]:
    """One chat completion; returns ``(completion, replayed)``. Our errors surface without wrapping."""
    __tracebackhide__ = True
    try:
        raw = post_chat(judge_client_for(client, retries=retries), params)
    except Exception as exc:
        _surface(exc)
    return completion_of(raw), was_replayed(raw)


async def asend_chat(client: Any, params: dict[str, Any], *, retries: bool = True) -> tuple[Any, bool]:
    """``send_chat`` for an ``AsyncOpenAI`` client."""
    __tracebackhide__ = True
    try:
        raw = await apost_chat(judge_client_for(client, retries=retries), params)
    except Exception as exc:
        _surface(exc)
    return completion_of(raw), was_replayed(raw)
