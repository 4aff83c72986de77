"""When each cassette is active: a test's, from before its first fixture to after its last; a wider
fixture's, while it is set up and while it is torn down; and, for a test with no cassette replaying
only, what refuses its LLM calls.

The plugin's hooks call these; importing this module imports no vcrpy (a cassette does, when opened).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

from .._errors import CassetteMissError, ReplayMiss

__all__ = ["TestRecording", "as_miss", "fixture_cassette", "fixture_cassette_path", "refusal"]

HTTP_MODULES = ("http.client", "httpx", "httpx2", "requests", "urllib3", "aiohttp", "httplib2", "tornado")
"""The HTTP libraries a test's LLM calls can go through (what vcrpy patches)."""
_NOT_RECORDED = ("_pytest.", "pytest_llmconfidence.", "xdist.", "pytest_asyncio.")
"""Modules whose fixtures make no LLM calls: they get no cassette of their own."""


def as_miss(exc: BaseException) -> BaseException:
    """The ``CassetteMissError`` a replay miss carries, with the traceback of where it happened.

    A miss travels as ``ReplayMiss`` (not an ``Exception``), so the app's client neither retries it nor
    buries it under "Connection error."; here it becomes the error the test fails with.
    """
    if isinstance(exc, ReplayMiss):
        return exc.error.with_traceback(exc.__traceback__)
    seen: BaseException | None = exc
    for _ in range(8):  # a client that wrapped the miss anyway: the miss is the headline
        if seen is None or isinstance(seen, CassetteMissError):
            return seen if seen is not None else exc
        if isinstance(seen, ReplayMiss):
            return seen.error.with_traceback(seen.__traceback__)
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)
    return exc


class TestRecording:
    """The cassette of one test: opened and active until ``stop``."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, path: Path, *, config: Any, nodeid: str, watcher: Any) -> None:
        from .._recording.cassette import ActiveCassette

        self.cassette = ActiveCassette(
            path,
            record_mode=config.record_mode,
            scope=config.record_scope,
            nodeid=nodeid,
            allow_hosts=config.allow_hosts,
            watcher=watcher,
        )
        self.cassette.__enter__()

    def stop(self, errored: bool) -> None:
        __tracebackhide__ = True
        self.cassette.errored = errored
        self.cassette.__exit__(None, None, None)


class _Refusal:
    """What refuses the LLM calls of a test outside the recorded set (record mode none)."""

    def __init__(self, nodeid: str) -> None:
        from .._recording.cassette import refusing_llm_calls

        self.cassette = None
        self._context = refusing_llm_calls(nodeid)
        self._context.__enter__()

    def stop(self, errored: bool) -> None:
        self._context.__exit__(None, None, None)


def refusal(nodeid: str) -> _Refusal | None:
    """A refusal of the test's LLM calls, when an HTTP library that could make them is loaded."""
    if not any(name in sys.modules for name in HTTP_MODULES):
        return None
    return _Refusal(nodeid)


# --- the cassettes of wider fixtures ------------------------------------------------------------


def _source_file(func: Any) -> Path | None:
    try:
        source = inspect.getsourcefile(inspect.unwrap(func))
    except (TypeError, ValueError):
        return None
    return Path(source) if source else None


def _param_id(fixturedef: Any, request: Any) -> str | None:
    """The id of the fixture's parameter (``[...]`` in its cassette's name), None when not parametrized."""
    if getattr(fixturedef, "params", None) is None or not hasattr(request, "param"):
        return None
    index = getattr(request, "param_index", 0)
    ids = getattr(fixturedef, "ids", None)
    if isinstance(ids, (list, tuple)) and index < len(ids) and ids[index] is not None:
        return str(ids[index])
    if callable(ids):
        made = ids(request.param)
        if made is not None:
            return str(made)
    param = request.param
    if isinstance(param, (str, int, float, bool)) or param is None:
        return str(param)
    return f"{request.fixturename}{index}"


def fixture_cassette_path(cassette_dir: Path, rootpath: Path, fixturedef: Any, request: Any) -> Path | None:
    """``<cassette_dir>/<module or conftest folder>/<Class.>name[<param>].<scope>.yaml``, or None for
    the fixtures of pytest and of the plugins that make no LLM calls."""
    from .._recording.cassette import fixture_path

    func = getattr(fixturedef, "func", None)
    module = str(getattr(inspect.unwrap(func), "__module__", "") or "") if func is not None else ""
    if module.startswith(_NOT_RECORDED) or module in ("_pytest", "pytest_llmconfidence"):
        return None
    source = _source_file(func)
    if source is None:
        return None
    holders = [part for part in str(getattr(fixturedef, "baseid", "")).split("::")[1:] if part]
    return fixture_path(
        cassette_dir,
        rootpath,
        source,
        module=module,
        holders=holders,
        name=f"{fixturedef.argname}",
        param=_param_id(fixturedef, request),
        scope=str(fixturedef.scope),
    )


def fixture_cassette(path: Path, *, config: Any, nodeid: str, fixture: str, scope: str) -> Any:
    """The opened (not yet active) cassette of a wider fixture."""
    from .._recording.cassette import ActiveCassette

    return ActiveCassette(
        path,
        record_mode=config.record_mode,
        scope=config.record_scope,
        nodeid=nodeid,
        allow_hosts=config.allow_hosts,
        subject=f"the {scope} fixture {fixture!r}",
        guarded=False,
    ).open()


def around_setup(cassette: Any) -> Generator[None, Any, Any]:
    """Active while the fixture is set up, written after (nothing written when its set-up errored)."""
    __tracebackhide__ = True
    cassette.activate()
    try:
        return (yield)
    except BaseException as exc:
        cassette.errored = not isinstance(exc, AssertionError)
        raise
    finally:
        cassette.deactivate()
        cassette.save()
