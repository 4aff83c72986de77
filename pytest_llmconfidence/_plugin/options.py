"""The options as pytest sees them: flags and ini keys registered, and their values read as given.

Command line beats environment beats ini beats default. Registering and reading the options needs only
the table of ``_startup``; ``configuration`` validates what is given and resolves it into a JudgeConfig.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from .._startup import OPTION_ROWS, default_record_mode, flag_of

__all__ = ["RawOptions", "add_options", "early_record_mode", "raw_options"]

RawOptions = list[tuple[str, Any, str]]
"""Each option's (field, raw value or None, where it came from) as the run started."""

_NATIVE_TYPES = {
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


def _ini_type(field: str, ini_type: str) -> Any:
    """The option's ini type; ``str | float`` (or int, bool) where pytest (9.2+) takes typed TOML values."""
    native = _NATIVE_TYPES.get(field)
    if native is None or pytest.version_tuple < (9, 2):
        return ini_type
    return str | native


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("llmconfidence", "confident LLM judges (pytest-llmconfidence)")
    for field, kind, env, ini_type, help_text in OPTION_ROWS:
        with_env = f"{help_text} Env: {env}." if env else help_text
        dest = "llmconfidence_" + field
        if kind == "switch":
            group.addoption(flag_of(field), dest=dest, action="store_true", default=None, help=with_env)
        elif kind == "flag":
            group.addoption(flag_of(field), dest=dest, default=None, metavar=field.upper(), help=with_env)
        ini_help = with_env if kind == "ini" else help_text  # the flag's help names the variable
        parser.addini("llm_" + field, ini_help, type=_ini_type(field, ini_type), default=None)


def _raw_value(config: pytest.Config, field: str, kind: str, env: str) -> tuple[Any, str]:
    if kind != "ini":
        value = config.getoption("llmconfidence_" + field, None)
        if value is not None:
            return value, "command line"
    if env:
        value = os.environ.get(env)
        if value:
            return value, "environment"
    value = config.getini("llm_" + field)
    if value not in (None, "", []):
        return value, "ini"
    return None, "default"


def raw_options(config: pytest.Config) -> RawOptions:
    """Every option as given now (command line, environment, ini), unvalidated: None where not given, but
    for the record mode, whose default is read now too (it depends on the CI variable)."""
    raw: RawOptions = []
    for field, kind, env, _, _ in OPTION_ROWS:
        value, source = _raw_value(config, field, kind, env)
        if value is None and field == "record_mode":
            value = default_record_mode()
        raw.append((field, value, source))
    return raw


def early_record_mode(config: pytest.Config) -> str:
    """The record mode as known before the configuration is complete (before conftest files load)."""
    raw = getattr(getattr(config, "known_args_namespace", None), "llmconfidence_record_mode", None)
    if raw is None:
        env = next(env for field, _, env, _, _ in OPTION_ROWS if field == "record_mode")
        raw = os.environ.get(env) or None
    if raw is None:
        try:
            raw = config.getini("llm_record_mode") or None
        except (ValueError, KeyError):
            raw = None
    return str(raw).strip() if raw is not None else default_record_mode()
