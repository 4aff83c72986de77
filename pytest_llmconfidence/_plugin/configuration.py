"""The run's configuration and each test's: the options given resolved into a ``JudgeConfig`` (a bad value
is a ``pytest.UsageError``), what they ask of the run as it starts, and a test's configuration with its
``llm`` markers applied.

Loaded when a run sets an option, or when a test first needs its configuration: a run that sets none and
judges nothing never loads it, nor the validators of ``_settings``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .. import _settings
from .._settings import OPTIONS, ConfigValueError, JudgeConfig

if TYPE_CHECKING:
    from .options import RawOptions

__all__ = ["WATCH_NEEDS_TEST_SCOPE", "resolve_config", "start", "test_config"]

WATCH_NEEDS_TEST_SCOPE = (
    "pytest-llmconfidence: --llm-watch (llm_watch) scores the app's calls through the test's cassette, "
    'which holds them only with llm_record_scope = "test"; with "judge" nothing is watched.'
)
CONFIG = pytest.StashKey[JudgeConfig]()
"""A test's configuration, made once."""


def resolve_config(config: pytest.Config, raw: RawOptions) -> JudgeConfig:
    """One frozen JudgeConfig from the options as given (``options.raw_options``) and the defaults."""
    values: dict[str, Any] = {}
    for option, (field, value, source) in zip(OPTIONS, raw, strict=True):
        if value is None:
            value = option.default
        else:
            try:
                is_path = option.path_from_rootdir or option.path_from_cwd  # "" is no path:
                convert = option.convert or (_settings._text(option.ini) if is_path else None)
                value = convert(value) if convert else value
            except ConfigValueError as exc:
                raise _usage_error(f"{exc} (from the {source})") from None
        if value is not None and (option.path_from_rootdir or option.path_from_cwd):
            path = Path(str(value)).expanduser()
            if not path.is_absolute():
                base = Path(config.rootpath) if option.path_from_rootdir else Path.cwd()
                if option.path_from_cwd and source == "ini":
                    base = Path(config.rootpath)
                path = base / path
            value = path
        values[field] = value
    try:
        return _settings.check_labels(JudgeConfig(**values), "llm_true_labels and llm_false_labels")
    except ConfigValueError as exc:
        raise _usage_error(str(exc)) from None


def test_config(item: pytest.Item, run_config: JudgeConfig) -> JudgeConfig:
    """The judge's configuration for ``item``: the run's, then its ``llm`` markers (made once)."""
    __tracebackhide__ = True
    found = item.stash.get(CONFIG, None)
    if found is not None:
        return found
    config = run_config
    for marker in reversed(list(item.iter_markers("llm"))):
        if marker.args:
            raise _usage_error(
                f"@pytest.mark.llm takes keyword arguments only, got {marker.args!r}", prefix=""
            )
        try:
            config = _settings.apply_overrides(config, marker.kwargs, where="@pytest.mark.llm")
        except ConfigValueError as exc:
            raise _usage_error(str(exc), prefix="") from None
    item.stash[CONFIG] = config
    return config


def _usage_error(message: str, *, prefix: str = "pytest-llmconfidence: ") -> pytest.UsageError:
    """A ``pytest.UsageError`` saying ``message``, every secret in it hidden: a bad value may be a key
    given in the wrong place, or a URL with credentials."""
    from .._recording.secrets import redact

    return pytest.UsageError(redact(prefix + message))


def start(config: pytest.Config, state: Any) -> bool:
    """What the options given ask of the run (``state``, a ``run.RunState``) as it starts: its calibration,
    baseline and price files read (a bad one is a usage error), its secrets named, the budget's ledger
    shared with xdist's workers. Whether the controller's hooks are needed whatever the tests report."""
    c = state.config
    if c.calibration_file is not None or c.certified or c.cascade:
        from .._calibration.fit import run_calibrator

        try:
            state.calibrate, state.certified = run_calibrator(c)
        except ValueError as exc:
            raise _usage_error(str(exc)) from None
    if c.baseline is not None and c.baseline.exists():
        from .._errors import ReportFileError
        from .._report.baseline import load_report

        try:
            state.baseline = load_report(c.baseline, what="baseline (llm_baseline)")
        except ReportFileError as exc:
            raise _usage_error(str(exc)) from None
    if c.prices_file is not None:
        try:
            state.prices()
        except ValueError as exc:
            raise _usage_error(f"llm_prices_file: {exc}") from None
    if c.secret_env or "pytest_llmconfidence._recording.secrets" in sys.modules:
        from .._recording.secrets import secret_env

        secret_env(c.secret_env)  # this run's names, not an earlier run's in this process
    if c.max_cost is not None:
        _share_ledger(config, state)
    if not state.worker and c.watch and c.record_scope != "test":
        config.issue_config_time_warning(pytest.PytestConfigWarning(WATCH_NEEDS_TEST_SCOPE), stacklevel=4)
    return bool(
        c.report or c.html or c.record_mode == "batch" or c.max_cost is not None or c.baseline is not None
    )


class _LedgerForWorkers:
    """Hands each xdist worker the budget's ledger file (a hook only xdist's controller calls)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["llmconfidence_ledger"] = self.path


def _share_ledger(config: pytest.Config, state: Any) -> None:
    """With --llm-max-cost: a worker takes the controller's ledger file; the controller under xdist makes one
    in a temporary folder of the run (removed at the end) and hands it to the workers."""
    if state.worker:
        state.ledger = config.workerinput.get("llmconfidence_ledger")  # type: ignore[attr-defined]
    elif config.pluginmanager.hasplugin("xdist") and getattr(config.option, "numprocesses", None):
        import functools
        import tempfile

        folder = tempfile.mkdtemp(prefix="llmconfidence-ledger-")
        state.ledger = os.path.join(folder, "ledger.json")
        config.pluginmanager.register(_LedgerForWorkers(state.ledger), "llmconfidence-ledger")
        config.add_cleanup(functools.partial(_remove_folder, folder))


def _remove_folder(folder: str) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
