"""What the plugin's fixtures build: the judge of a test, its clients, the app's watched responses.

Loaded on a fixture's first use: a run that never judges does not load it.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import pytest

from .item import BATCH, WATCHER, records_of
from .recording import start
from .run import run_state

if TYPE_CHECKING:
    from .._judge.judge import Judge
    from .._settings import JudgeConfig

__all__ = ["app_responses", "make_async_client", "make_client", "make_judge", "test_cassette"]

PROGRESS = pytest.StashKey[Any]()


def make_client(config: pytest.Config) -> Any:
    """The run's ``openai.OpenAI`` client."""
    from .._judge.transport import build_client

    return build_client(run_state(config).config.base_url)


def make_async_client(config: pytest.Config) -> Any:
    """The run's ``openai.AsyncOpenAI`` client."""
    from .._judge.transport import build_async_client

    return build_async_client(run_state(config).config.base_url)


def test_cassette(item: pytest.Item) -> Any:
    """The test's cassette, active from before its first fixture to after its last (``_recording``)."""
    __tracebackhide__ = True
    return start(item, force=True).cassette


def app_responses(item: pytest.Item) -> Any:
    """The app's scored responses in the test so far, while they are watched."""
    __tracebackhide__ = True
    watcher = item.stash.get(WATCHER, None)
    if watcher is None:
        raise pytest.UsageError(
            "the llm_responses fixture lists the app's responses only while they are watched: run with "
            "--llm-watch (ini llm_watch = true, or @pytest.mark.llm(watch=True)) "
            'and llm_record_scope = "test"'
        )
    from .._watch import AppResponses

    return AppResponses(watcher)


def make_judge(
    request: pytest.FixtureRequest, judge_config: JudgeConfig, judge_client: Any, cassette: Any
) -> Judge:
    """The test's judge: its configuration, the client, its cassette, the run's budget and hooks."""
    from .._judge.judge import Judge
    from .._judge.transport import Transport
    from .adapters import PluginHooks

    item, state = request.node, run_state(request.config)
    transport = Transport(
        judge_client,
        async_client=lambda: request.getfixturevalue("judge_async_client"),
        cassette=cassette,
        watch=_progress(request.config, item.nodeid),
        budget=state.budget(),
        batch=_test_batch(request, judge_config, cassette),
    )
    hooks = PluginHooks(item.ihook, item, records_of(item), state.calibrate, state.certified)
    return Judge(judge_config, transport, hooks=hooks)


def _test_batch(request: pytest.FixtureRequest, judge_config: JudgeConfig, cassette: Any) -> Any:
    """In record mode batch, the test's part in the batch (kept on the item for its report); else None."""
    if judge_config.record_mode != "batch":
        return None
    from .._recording.batch_api import TestBatch

    state = run_state(request.config)
    try:
        relative = str(cassette.path.relative_to(state.config.cassette_dir))
    except ValueError:
        relative = str(cassette.path)
    found = request.node.stash[BATCH] = TestBatch(state.batch_book(), request.node.nodeid, relative)
    return found


def _progress(config: pytest.Config, nodeid: str) -> Any:
    """In ``-v``, outside xdist workers (no terminal): a line while a live call waits (llm_progress_delay)."""
    state = run_state(config)
    delay = state.config.progress_delay
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if delay is None or config.get_verbosity() < 1 or state.worker or reporter is None:
        return None
    if PROGRESS not in config.stash:
        from .progress import Progress, terminal_writer

        capture = config.pluginmanager.get_plugin("capturemanager")
        config.stash[PROGRESS] = Progress(terminal_writer(reporter, capture), delay)
    return functools.partial(config.stash[PROGRESS].waiting, nodeid=nodeid)
