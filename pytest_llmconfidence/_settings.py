"""The options' defaults and validators, and the frozen JudgeConfig: pure Python, no pytest.

The options themselves (names, flags, help) are plain data in ``_startup.py``, which pytest loads in
every run; this module is loaded only when a run sets an option or a test is judged. The plugin reads
the options from pytest (command line > environment > ini > default) in ``_plugin/options.py``; this
module only describes and validates them. Plain classes carry the options and the configuration, and
nothing here imports pydantic or openai.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn

from ._scoring.labels import DEFAULT_FALSE_LABELS, DEFAULT_TRUE_LABELS, normalize_token
from ._startup import OPTION_ROWS, default_record_mode, flag_of

__all__ = [
    "CALL_FIELDS",
    "OPTIONS",
    "RECORD_MODES",
    "ConfigValueError",
    "JudgeConfig",
    "apply_overrides",
    "check_labels",
    "default_record_mode",
]

RECORD_MODES = ("none", "once", "new_episodes", "all", "batch")
RECORD_SCOPES = ("test", "judge")
RECORD_TESTS = ("marked", "all")
SUMMARY_MODES = ("off", "short", "full")
WATCH_AGGREGATES = ("geometric_mean", "mean", "min")
DEFAULT_MODEL = "gpt-4.1-mini"
DEFAULT_MAX_TOKENS = 1


class JudgeConfig:
    """The resolved configuration of the judge for one test (the ``llm`` marker applied); frozen.

    Built from keyword arguments (any field left out keeps its default); equal to another with the same
    values; ``replace(**changes)`` makes a changed copy.
    """

    model: str = DEFAULT_MODEL
    base_url: str | None = None
    threshold: float = 0.9
    top_logprobs: int = 20
    max_tokens: int = DEFAULT_MAX_TOKENS
    record_mode: str = "once"
    cassette_dir: Path = Path("cassettes")
    record_scope: str = "test"
    record_tests: str = "marked"
    """Which tests get a cassette (``llm_record_tests``): ``marked`` (judged or marked) or ``all``."""
    report: Path | None = None
    html: Path | None = None
    summary: str = "short"
    borderline: float = 0.05
    true_labels: tuple[str, ...] = DEFAULT_TRUE_LABELS
    false_labels: tuple[str, ...] = DEFAULT_FALSE_LABELS
    calibration_file: Path | None = None
    calibration: bool = False
    allow_hosts: tuple[Any, ...] = ()
    """The networks a replay-only test may still connect to (``llm_allow_hosts``)."""
    reason: bool = False
    """Whether the judge reasons before its verdict (``judge(..., reason=True)``, the ``llm`` marker)."""
    baseline: Path | None = None
    """The JSON report of an earlier run to compare this run with (``--llm-baseline``)."""
    baseline_margin: float = 0.1
    fail_on_drop: bool = False
    watch: bool = False
    """Whether the app's own chat completions and Responses API results are scored (``--llm-watch``)."""
    watch_by: str = "geometric_mean"
    watch_min: float = 0.5
    """An app response whose ``watch_by`` confidence is below this is unsure (``llm_watch_min``)."""
    watch_strict: bool = False
    progress_delay: float | None = 2.0
    """Seconds a live judge call waits before ``-v`` prints a line about it; None: never (``off``)."""
    certified: float | None = None
    """The certified accuracy every check without a threshold asks for (``llm_certified``); None: off."""
    cascade: tuple[str, ...] = ()
    """The models a verdict escalates through (``llm_cascade``); empty: one model."""
    cascade_accuracy: float = 0.9
    """The certified accuracy a cascade's verdict must reach to stop escalating (``llm_cascade_accuracy``)."""
    panel: tuple[str, ...] = ()
    """The models every ``judge(...)`` asks as a panel (``llm_panel``, the marker's ``panel=``)."""
    secret_env: tuple[str, ...] = ()
    """Environment variables whose values are secrets too (``llm_secret_env``)."""
    prices: tuple[tuple[str, Any], ...] = ()
    """The ``llm_prices`` lines: (model, ``Price``) pairs over the shipped price table."""
    prices_file: Path | None = None
    """A TOML or JSON file of model prices (``llm_prices_file``), read over the shipped table."""
    max_cost: float | None = None
    """The most the run may spend on live judge calls, in dollars (``--llm-max-cost``); None: no limit."""

    def __init__(self, **values: Any) -> None:
        unknown = sorted(set(values) - set(_JUDGE_FIELDS))
        if unknown:
            raise TypeError(
                f"JudgeConfig has no field {', '.join(map(repr, unknown))}; "
                f"its fields are {', '.join(_JUDGE_FIELDS)}"
            )
        self.__dict__.update(values)

    def replace(self, **changes: Any) -> JudgeConfig:
        """A copy with ``changes`` applied."""
        return JudgeConfig(**{**self.__dict__, **changes})

    # The named-tuple spellings, kept for fixtures written when JudgeConfig was one.
    _replace = replace

    def _asdict(self) -> dict[str, Any]:
        """Every field and its value, in field order."""
        return {name: getattr(self, name) for name in _JUDGE_FIELDS}

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _JUDGE_FIELDS)

    def __eq__(self, other: object) -> bool:
        return type(other) is JudgeConfig and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        return f"JudgeConfig({', '.join(f'{name}={getattr(self, name)!r}' for name in _JUDGE_FIELDS)})"

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError(f"JudgeConfig is frozen: use config.replace({name}=...) for a changed copy")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("JudgeConfig is frozen: use config.replace(...) for a changed copy")


_JUDGE_FIELDS = tuple(JudgeConfig.__annotations__)
JudgeConfig._fields = _JUDGE_FIELDS  # type: ignore[attr-defined]


# --- validation -------------------------------------------------------------------------------


class ConfigValueError(ValueError):
    """A bad option value; the plugin turns it into ``pytest.UsageError``."""


def _choice(name: str, choices: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        text = str(value).strip()
        if text not in choices:
            raise ConfigValueError(f"{name}: {value!r} is not valid; valid values are {', '.join(choices)}")
        return text

    return check


def _probability(name: str, *, upper_open: bool = False) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool):  # True is 1.0 to float(), never a threshold anyone meant
            raise ConfigValueError(
                f"{name}: {value!r} is not valid; give a number from 0 to 1, not a boolean"
            )
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = float("nan")
        ok = 0.0 <= number < 1.0 if upper_open else 0.0 <= number <= 1.0
        if not ok:
            bound = "0 <= value < 1" if upper_open else "0 <= value <= 1"
            raise ConfigValueError(f"{name}: {value!r} is not valid; valid values are numbers with {bound}")
        return number

    return check


def _int_range(name: str, low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        try:
            number = int(str(value).strip()) if not isinstance(value, int) else value
        except ValueError:
            number = low - 1
        if isinstance(value, bool) or not low <= number <= high:
            raise ConfigValueError(
                f"{name}: {value!r} is not valid; valid values are whole numbers from {low} to {high}"
            )
        return number

    return check


def _text(name: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise ConfigValueError(f"{name}: {value!r} is not valid; give a non-empty string")
        text = value.strip()
        if not text:
            raise ConfigValueError(f"{name}: an empty value is not valid; give a non-empty string")
        return text

    return check


def _boolean(name: str) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ConfigValueError(f"{name}: {value!r} is not valid; valid values are true, false")

    return check


def _seconds_or_off(name: str) -> Callable[[Any], float | None]:
    def check(value: Any) -> float | None:
        text = str(value).strip().lower()
        if text == "off":
            return None
        try:
            number = float(text)
        except ValueError:
            number = float("nan")
        if not 0.0 <= number < float("inf"):
            raise ConfigValueError(
                f"{name}: {value!r} is not valid; valid values are a number of seconds >= 0 (e.g. 2.0), off"
            )
        return number

    return check


def _accuracy_or_off(name: str) -> Callable[[Any], float | None]:
    def check(value: Any) -> float | None:
        text = str(value).strip().lower()
        if text in ("", "off", "none"):
            return None
        return _accuracy(name)(value)

    return check


def _accuracy(name: str) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        try:
            number = float(str(value).strip()) if not isinstance(value, bool) else float("nan")
        except ValueError:
            number = float("nan")
        if not 0.0 < number < 1.0:
            raise ConfigValueError(
                f"{name}: {value!r} is not valid; valid values are accuracies between 0 and 1, such as 0.9"
            )
        return number

    return check


def _url(name: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        from urllib.parse import urlsplit

        text = _text(name)(value)
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 (a port that is not a number raises here)
        except ValueError as exc:
            raise ConfigValueError(f"{name}: {text!r} is not a valid URL ({exc})") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigValueError(
                f"{name}: {text!r} is not a valid URL; give an http or https URL with a host, "
                "e.g. http://127.0.0.1:8080/v1"
            )
        return text

    return check


def _env_names(name: str) -> Callable[[Any], tuple[str, ...]]:
    def check(value: Any) -> tuple[str, ...]:
        items = value.split() if isinstance(value, str) else list(value)
        if not all(isinstance(item, str) and item.strip() for item in items):
            raise ConfigValueError(f"{name}: {value!r} is not valid; give names of environment variables")
        return tuple(item.strip() for item in items)

    return check


def check_labels(config: JudgeConfig, where: str) -> JudgeConfig:
    """``config``, unless a label counts as both true and false (the verdict would be both)."""
    falses = {normalize_token(label) for label in config.false_labels}
    shared = sorted({label for label in config.true_labels if normalize_token(label) in falses})  # as given
    if shared:
        raise ConfigValueError(
            f"{where}: {', '.join(map(repr, shared))} is both a true and a false label "
            f"(true labels {config.true_labels!r}, false labels {config.false_labels!r}); give them apart"
        )
    return config


def _prices(name: str) -> Callable[[Any], tuple[tuple[str, Any], ...]]:
    def check(value: Any) -> tuple[tuple[str, Any], ...]:
        from ._report.cost import parse_price_lines

        try:
            return tuple(parse_price_lines(value).items())
        except ValueError as exc:
            raise ConfigValueError(f"{name}: {exc}") from None

    return check


def _dollars(name: str) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        try:
            number = float(str(value).strip().lstrip("$"))
        except ValueError:
            number = float("nan")
        if isinstance(value, bool) or not 0.0 <= number < float("inf"):
            raise ConfigValueError(
                f"{name}: {value!r} is not valid; valid values are an amount of dollars >= 0, e.g. 5.00"
            )
        return number

    return check


def _hosts(name: str) -> Callable[[Any], tuple[Any, ...]]:
    def check(value: Any) -> tuple[Any, ...]:
        from ._recording.hosts import parse_hosts

        try:
            return parse_hosts([value] if isinstance(value, str) else list(value))
        except ValueError as exc:
            raise ConfigValueError(f"{name}: {exc}") from None

    return check


def _labels(name: str) -> Callable[[Any], tuple[str, ...]]:
    def check(value: Any) -> tuple[str, ...]:
        items = value.split() if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) or not all(isinstance(item, str) for item in items):
            raise ConfigValueError(
                f"{name}: {value!r} is not valid; give labels as a list of strings or a space-separated "
                "string, e.g. 'true yes'"
            )
        labels = tuple(item for item in items if item.strip())
        if not labels:
            raise ConfigValueError(f"{name}: give at least one label, e.g. 'true yes'")
        return labels

    return check


def _models(name: str, what: str = "panel") -> Callable[[Any], tuple[str, ...]]:
    """A panel's (or a cascade's) models: none, or at least two distinct model names."""

    def check(value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        items = value.split() if isinstance(value, str) else list(value)
        models = tuple(str(item).strip() for item in items)
        if not models:
            return ()
        if len(models) < 2 or len(set(models)) != len(models) or not all(models):
            raise ConfigValueError(
                f"{name}: {value!r} is not valid; give at least two distinct model names, "
                f"e.g. 'gpt-4.1-mini gpt-4.1', or none for no {what}"
            )
        return models

    return check


# --- the option table -------------------------------------------------------------------------


class Option:
    """One option: its JudgeConfig field, ini key and help; maybe a flag, an env var, a converter."""

    __slots__ = (
        "convert",
        "default",
        "env",
        "field",
        "flag",
        "help",
        "ini",
        "ini_type",
        "is_switch",
        "path_from_cwd",
        "path_from_rootdir",
    )

    def __init__(
        self,
        field: str,
        ini: str,
        help: str,
        *,
        flag: str | None = None,
        env: str | None = None,
        default: Any = None,
        convert: Callable[[Any], Any] | None = None,
        ini_type: str = "string",
        path_from_rootdir: bool = False,
        path_from_cwd: bool = False,
        is_switch: bool = False,
    ) -> None:
        self.field, self.ini, self.help, self.flag, self.env = field, ini, help, flag, env
        self.default, self.convert, self.ini_type = default, convert, ini_type
        self.path_from_rootdir, self.path_from_cwd, self.is_switch = (
            path_from_rootdir,
            path_from_cwd,
            is_switch,
        )


_BEHAVIOUR: Mapping[str, tuple[Any, Callable[[Any], Any] | None, str]] = {
    # field: (default, validator, "rootdir" or "cwd" for a path relative to it)
    "model": (DEFAULT_MODEL, _text("llm_model"), ""),
    "base_url": (None, _url("llm_base_url"), ""),
    "threshold": (0.9, _probability("llm_threshold"), ""),
    "top_logprobs": (20, _int_range("llm_top_logprobs", 0, 20), ""),
    "record_mode": (None, _choice("llm_record_mode", RECORD_MODES), ""),  # None: default_record_mode()
    "cassette_dir": ("cassettes", None, "rootdir"),
    "record_scope": ("test", _choice("llm_record_scope", RECORD_SCOPES), ""),
    "record_tests": ("marked", _choice("llm_record_tests", RECORD_TESTS), ""),
    "report": (None, None, "cwd"),
    "summary": ("short", _choice("llm_summary", SUMMARY_MODES), ""),
    "html": (None, None, "cwd"),
    "borderline": (0.05, _probability("llm_borderline", upper_open=True), ""),
    "true_labels": (DEFAULT_TRUE_LABELS, _labels("llm_true_labels"), ""),
    "false_labels": (DEFAULT_FALSE_LABELS, _labels("llm_false_labels"), ""),
    "calibration_file": (None, None, "rootdir"),
    "calibration": (False, _boolean("llm_calibration"), ""),
    "baseline": (None, None, "cwd"),
    "baseline_margin": (0.1, _probability("llm_baseline_margin"), ""),
    "fail_on_drop": (False, _boolean("llm_fail_on_drop"), ""),
    "allow_hosts": ((), _hosts("llm_allow_hosts"), ""),
    "secret_env": ((), _env_names("llm_secret_env"), ""),
    "watch": (False, _boolean("llm_watch"), ""),
    "watch_by": ("geometric_mean", _choice("llm_watch_by", WATCH_AGGREGATES), ""),
    "watch_min": (0.5, _probability("llm_watch_min"), ""),
    "watch_strict": (False, _boolean("llm_watch_strict"), ""),
    "certified": (None, _accuracy_or_off("llm_certified"), ""),
    "cascade": ((), _models("llm_cascade", "cascade"), ""),
    "cascade_accuracy": (0.9, _accuracy("llm_cascade_accuracy"), ""),
    "progress_delay": (2.0, _seconds_or_off("llm_progress_delay"), ""),
    "panel": ((), _models("llm_panel"), ""),
    "prices": ((), _prices("llm_prices"), ""),
    "prices_file": (None, None, "rootdir"),
    "max_cost": (None, _dollars("llm_max_cost"), ""),
}

OPTIONS: tuple[Option, ...] = tuple(
    Option(
        field,
        "llm_" + field,
        help,
        flag=flag_of(field) if kind != "ini" else None,
        env=env or None,
        default=_BEHAVIOUR[field][0],
        convert=_BEHAVIOUR[field][1],
        ini_type=ini_type,
        path_from_rootdir=_BEHAVIOUR[field][2] == "rootdir",
        path_from_cwd=_BEHAVIOUR[field][2] == "cwd",
        is_switch=kind == "switch",
    )
    for field, kind, env, ini_type, help in OPTION_ROWS
)
"""Every option: its row of ``_startup.OPTION_ROWS`` with its default, validator and path base."""


# --- per-test overrides (the llm marker, judge(**overrides)) ---------------------------------

MARKER_FIELDS: Mapping[str, Callable[[Any], Any]] = {
    "model": _text("model"),
    "threshold": _probability("threshold"),
    "top_logprobs": _int_range("top_logprobs", 0, 20),
    "max_tokens": _int_range("max_tokens", 1, 4096),
    "record_mode": _choice("record_mode", RECORD_MODES),
    "true_labels": _labels("true_labels"),
    "false_labels": _labels("false_labels"),
    "reason": _boolean("reason"),
    "watch": _boolean("watch"),
    "watch_by": _choice("watch_by", WATCH_AGGREGATES),
    "watch_min": _probability("watch_min"),
    "watch_strict": _boolean("watch_strict"),
    "panel": _models("panel"),
}
CALL_FIELDS = ("model", "threshold", "top_logprobs", "max_tokens", "true_labels", "false_labels", "reason")


def apply_overrides(
    base: JudgeConfig,
    overrides: Mapping[str, Any],
    *,
    where: str,
    allowed: tuple[str, ...] = tuple(MARKER_FIELDS),
) -> JudgeConfig:
    """``base`` with validated overrides; an unknown name or bad value raises ConfigValueError."""
    changes: dict[str, Any] = {}
    for name, value in overrides.items():
        if name not in allowed:
            raise ConfigValueError(
                f"{where}: unknown argument {name!r}; valid arguments are {', '.join(allowed)}"
            )
        try:
            changes[name] = MARKER_FIELDS[name](value)
        except ConfigValueError as exc:
            raise ConfigValueError(f"{where}: {exc}") from None
    if not changes:
        return base
    config = base.replace(**changes)
    return check_labels(config, where) if "true_labels" in changes or "false_labels" in changes else config
