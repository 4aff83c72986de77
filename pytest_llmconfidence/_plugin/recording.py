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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._settings import JudgeConfig

__all__ = [
    "TestRecording",
    "fixture_cassette",
    "fixture_cassette_path",
    "fixture_setup",
    "fixture_torn_down",
    "item_config",
    "refusal",
    "start",
    "stop",
]

HTTP_MODULES = ("http.client", "httpx", "httpx2", "requests", "urllib3", "aiohttp", "httplib2", "tornado")
"""The HTTP libraries a test's LLM calls can go through (what vcrpy patches)."""
_NOT_RECORDED = ("_pytest.", "pytest_llmconfidence.", "xdist.", "pytest_asyncio.")
"""Modules whose fixtures make no LLM calls: they get no cassette of their own."""


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


# --- when a test's recording starts ----------------------------------------------------------------


def start(item: Any, *, force: bool = False) -> Any:
    """The test's recording (its cassette, or the refusal of its LLM calls), started once."""
    __tracebackhide__ = True
    from .item import RECORDING
    from .run import run_state

    found = item.stash.get(RECORDING, None)
    if found is not None and (found.cassette is not None or not force):
        return found
    c = item_config(item)
    if force or run_state(item.config).recorded(item):
        if found is not None:  # the refusal of a test that asked for the judge while it ran
            found.stop(False)
        from .._recording.cassette import cassette_path

        watcher = _watcher(item, c) if c.watch else None
        path = cassette_path(c.cassette_dir, item.config.rootpath, item.path, item.nodeid)
        found = TestRecording(path, config=c, nodeid=item.nodeid, watcher=watcher)
    elif c.record_mode == "none" and c.record_scope == "test":
        found = refusal(item.nodeid)
    if found is not None:
        item.stash[RECORDING] = found
    return found


def stop(item: Any) -> None:
    """The test's cassette written (not when the test errored), after its last fixture is torn down."""
    from .item import RECORDING

    recording = item.stash.get(RECORDING, None)
    if recording is not None:
        del item.stash[RECORDING]
        recording.stop(errored(item))


def errored(item: Any) -> bool:
    """Whether the test stopped on an error (a server error, a bug, a skip, Ctrl-C), not a failed check.

    A failed assertion (or ``pytest.fail``) ends a complete recording, whose replay fails the same way;
    any other exception may have cut the recording short, and writing it would truncate the cassette.
    """
    import pytest

    from .item import TEST_ERROR

    error = item.stash.get(TEST_ERROR, None)
    return error is not None and not isinstance(error, (AssertionError, pytest.fail.Exception))


def item_config(item: Any) -> JudgeConfig:
    """The test's ``JudgeConfig``: the run's, then its ``llm`` markers."""
    __tracebackhide__ = True
    from .configuration import test_config
    from .run import run_state

    return test_config(item, run_state(item.config).config)


def _watcher(item: Any, c: Any) -> Any:
    """The test's watcher of the app's calls (``--llm-watch``), kept on the item; None in judge scope."""
    from .configuration import WATCH_NEEDS_TEST_SCOPE
    from .item import WATCHER, records_of
    from .run import run_state

    if c.record_scope != "test":
        if not run_state(item.config).config.watch:  # the run warned already when watching is global
            import warnings

            import pytest

            warnings.warn(pytest.PytestWarning(WATCH_NEEDS_TEST_SCOPE), stacklevel=2)
        return None
    from .._watch import Watcher

    watcher = item.stash[WATCHER] = Watcher(
        records_of(item), by=c.watch_by, minimum=c.watch_min, strict=c.watch_strict
    )
    return watcher


def fixture_setup(fixturedef: Any, request: Any) -> Generator[None, Any, Any]:
    """A fixture of a wider scope than the test records into a cassette of its own, beside the tests'
    (``<cassette_dir>/<module or conftest folder>/<name>.<scope>.yaml``), whichever test sets it up."""
    from .run import run_state

    state = run_state(request.config)
    item = state.item
    if item is None:  # set up outside a test: RunState.records_fixture said no already
        return (yield)
    c = item_config(item)
    if c.record_scope != "test":
        return (yield)
    path = fixture_cassette_path(c.cassette_dir, request.config.rootpath, fixturedef, request)
    if path is None:
        return (yield)
    cassette = fixture_cassette(
        path, config=c, nodeid=item.nodeid, fixture=fixturedef.argname, scope=fixturedef.scope
    )
    result = yield from around_setup(cassette)
    state.fixture_cassettes[fixturedef] = cassette
    fixturedef.addfinalizer(cassette.activate)  # finalizers run last-in first: before its own tear-down
    return result


def fixture_torn_down(state: Any, fixturedef: Any) -> None:
    """A wider fixture's cassette, active again while the fixture was torn down, is written."""
    cassette = state.fixture_cassettes.pop(fixturedef, None)
    if cassette is not None:
        cassette.deactivate()
        cassette.save()
