"""The options as pytest sees them: flags, ini keys, and their resolution into one JudgeConfig.

Command line beats environment beats ini beats default; a bad value is a ``pytest.UsageError``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from .._settings import (
    OPTIONS,
    ConfigValueError,
    JudgeConfig,
    Option,
    _text,
    check_labels,
    default_record_mode,
)

__all__ = ["add_options", "early_record_mode", "resolve_config"]

_NATIVE_TYPES: Mapping[str, Any] = {
    "threshold": float,
    "top_logprobs": int,
    "borderline": float,
    "calibration": bool,
    "baseline_margin": float,
    "fail_on_drop": bool,
    "watch": bool,
    "watch_min": float,
    "watch_strict": bool,
    "progress_delay": float,
    "max_cost": float,
}
"""Options whose value may be a TOML number or boolean in pytest 9's ``[tool.pytest]`` table."""


def _ini_type(option: Option) -> Any:
    """The option's ini type; ``str | float`` (or int, bool) where pytest (9.2+) takes typed TOML values."""
    native = _NATIVE_TYPES.get(option.field)
    if native is None or pytest.version_tuple < (9, 2):
        return option.ini_type
    return str | native


def _dest(option: Option) -> str:
    return "llmconfidence_" + option.field


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("llmconfidence", "confident LLM judges (pytest-llmconfidence)")
    for option in OPTIONS:
        help_text = option.help
        if option.env:
            help_text += f" Env: {option.env}."
        if option.flag and option.is_switch:
            group.addoption(
                option.flag, dest=_dest(option), action="store_true", default=None, help=help_text
            )
        elif option.flag:
            metavar = option.flag.removeprefix("--llm-").replace("-", "_").upper()
            group.addoption(option.flag, dest=_dest(option), default=None, metavar=metavar, help=help_text)
        ini_help = option.help if option.flag else help_text
        parser.addini(option.ini, ini_help, type=_ini_type(option), default=None)


def _raw_value(config: pytest.Config, option: Option) -> tuple[Any, str]:
    if option.flag:
        value = config.getoption(_dest(option), None)
        if value is not None:
            return value, "command line"
    if option.env:
        value = os.environ.get(option.env)
        if value:
            return value, "environment"
    value = config.getini(option.ini)
    if value not in (None, "", []):
        return value, "ini"
    return None, "default"


def early_record_mode(config: pytest.Config) -> str:
    """The record mode as known before the configuration is complete (before conftest files load)."""
    option = next(option for option in OPTIONS if option.field == "record_mode")
    raw = getattr(getattr(config, "known_args_namespace", None), _dest(option), None)
    if raw is None:
        raw = os.environ.get(option.env or "") or None
    if raw is None:
        try:
            raw = config.getini(option.ini) or None
        except (ValueError, KeyError):
            raw = None
    return str(raw).strip() if raw is not None else default_record_mode()


def resolve_config(config: pytest.Config) -> JudgeConfig:
    """One frozen JudgeConfig from the command line, environment, ini file and defaults."""
    values: dict[str, Any] = {}
    for option in OPTIONS:
        raw, source = _raw_value(config, option)
        if raw is None:
            value = option.default
            if option.field == "record_mode":
                value = default_record_mode()
        else:
            try:
                is_path = option.path_from_rootdir or option.path_from_cwd
                convert = option.convert or (_text(option.ini) if is_path else None)  # "" is no path
                value = convert(raw) if convert else raw
            except ConfigValueError as exc:
                raise pytest.UsageError(f"pytest-llmconfidence: {exc} (from the {source})") from None
        if value is not None and (option.path_from_rootdir or option.path_from_cwd):
            path = Path(str(value)).expanduser()
            if not path.is_absolute():
                base = Path(config.rootpath) if option.path_from_rootdir else Path.cwd()
                if option.path_from_cwd and source == "ini":
                    base = Path(config.rootpath)
                path = base / path
            value = path
        values[option.field] = value
    try:
        return check_labels(JudgeConfig(**values), "llm_true_labels and llm_false_labels")
    except ConfigValueError as exc:
        raise pytest.UsageError(f"pytest-llmconfidence: {exc}") from None
