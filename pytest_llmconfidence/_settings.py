"""The option table, its validators and the frozen JudgeConfig: pure Python, no pytest.

The plugin reads the options from pytest (command line > environment > ini > default) in
``_plugin/options.py``; this module only describes and validates them.

Loaded with the plugin in every pytest run, so it stays small: plain classes carry the options and
the configuration (a dataclass or a typed named tuple costs more to define than the rest of the module
to run, as each compiles code for its fields); nothing here imports pydantic or openai.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from pathlib import Path
from typing import Any, NoReturn

from ._scoring.labels import DEFAULT_FALSE_LABELS, DEFAULT_TRUE_LABELS, normalize_token

__all__ = [
    "CALL_FIELDS",
    "CLIENT_KEY_VARIABLES",
    "OPTIONS",
    "PLACEHOLDER_KEY",
    "PLACEHOLDER_KEYS",
    "RECORD_MODES",
    "ConfigValueError",
    "JudgeConfig",
    "apply_overrides",
    "check_labels",
    "clear_placeholders",
    "set_placeholders",
]

RECORD_MODES = ("none", "once", "new_episodes", "all", "batch")
RECORD_SCOPES = ("test", "judge")
RECORD_TESTS = ("marked", "all")
SUMMARY_MODES = ("off", "short", "full")
WATCH_AGGREGATES = ("geometric_mean", "mean", "min")
DEFAULT_MODEL = "gpt-4.1-mini"
DEFAULT_MAX_TOKENS = 1


def _ci_is_set() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def default_record_mode() -> str:
    return "none" if _ci_is_set() else "once"


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


# --- placeholder keys: clients built at import time construct while a run replays ---------

PLACEHOLDER_KEY = "sk-llmconfidence-placeholder-not-a-real-key"
PLACEHOLDER_KEYS = frozenset({PLACEHOLDER_KEY})
CLIENT_KEY_VARIABLES = ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY")
"""The credentials the openai clients read from the environment when none is given."""


def set_placeholders(environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Put the placeholder key in each client key variable that is unset; the names it set.

    With them, ``openai.OpenAI()`` and ``openai.AzureOpenAI(...)`` built at import time construct
    while the run replays; a real key is never touched.
    """
    env = os.environ if environ is None else environ
    names = [name for name in CLIENT_KEY_VARIABLES if not env.get(name)]
    for name in names:
        env[name] = PLACEHOLDER_KEY
    return names


def clear_placeholders(names: Iterable[str], environ: MutableMapping[str, str] | None = None) -> None:
    """Remove the placeholders ``set_placeholders`` put (those still holding the placeholder)."""
    env = os.environ if environ is None else environ
    for name in names:
        if env.get(name) in PLACEHOLDER_KEYS:
            del env[name]


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
    trues = {normalize_token(label) for label in config.true_labels}
    shared = sorted(trues & {normalize_token(label) for label in config.false_labels})
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


OPTIONS: tuple[Option, ...] = (
    Option(
        "model",
        "llm_model",
        "model the judge asks (default: gpt-4.1-mini).",
        flag="--llm-model",
        env="LLM_JUDGE_MODEL",
        default=DEFAULT_MODEL,
        convert=_text("llm_model"),
    ),
    Option(
        "base_url",
        "llm_base_url",
        "base URL of an OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1 (default: the client's).",
        flag="--llm-base-url",
        env="OPENAI_BASE_URL",
        default=None,
        convert=_url("llm_base_url"),
    ),
    Option(
        "threshold",
        "llm_threshold",
        "default confidence a confident_true/confident_false check needs, 0..1 (default: 0.9).",
        flag="--llm-threshold",
        default=0.9,
        convert=_probability("llm_threshold"),
    ),
    Option(
        "top_logprobs",
        "llm_top_logprobs",
        "alternatives requested at each token, 0..20 (default: 20).",
        flag="--llm-top-logprobs",
        default=20,
        convert=_int_range("llm_top_logprobs", 0, 20),
    ),
    Option(
        "record_mode",
        "llm_record_mode",
        "cassette record mode: none, once, new_episodes, all, or batch (record through the Batch API at half "
        "price) (default: none when CI is set, else once).",
        flag="--llm-record-mode",
        env="LLM_RECORD_MODE",
        default=None,
        convert=_choice("llm_record_mode", RECORD_MODES),
    ),
    Option(
        "cassette_dir",
        "llm_cassette_dir",
        "directory of the cassettes, relative to rootdir (default: cassettes).",
        flag="--llm-cassette-dir",
        default="cassettes",
        path_from_rootdir=True,
    ),
    Option(
        "record_scope",
        "llm_record_scope",
        "what a test's cassette holds: test (every HTTP call of the test) or judge (only the judge's).",
        default="test",
        convert=_choice("llm_record_scope", RECORD_SCOPES),
    ),
    Option(
        "record_tests",
        "llm_record_tests",
        "which tests get a cassette: marked (tests using judge, llm_responses or the llm marker, and the "
        "fixtures they set up) or all (every test) (default: marked).",
        default="marked",
        convert=_choice("llm_record_tests", RECORD_TESTS),
    ),
    Option(
        "report",
        "llm_report",
        "write the JSON confidence report to this path.",
        flag="--llm-report",
        default=None,
        path_from_cwd=True,
    ),
    Option(
        "summary",
        "llm_summary",
        "terminal confidence summary: off, short, full (default: short).",
        flag="--llm-summary",
        default="short",
        convert=_choice("llm_summary", SUMMARY_MODES),
    ),
    Option(
        "html",
        "llm_html",
        "write the HTML confidence report to this path.",
        flag="--llm-html",
        default=None,
        path_from_cwd=True,
    ),
    Option(
        "borderline",
        "llm_borderline",
        "a checked verdict this close to its threshold is flagged borderline (default: 0.05).",
        default=0.05,
        convert=_probability("llm_borderline", upper_open=True),
    ),
    Option(
        "true_labels",
        "llm_true_labels",
        "tokens that mean true (default: true yes).",
        default=DEFAULT_TRUE_LABELS,
        convert=_labels("llm_true_labels"),
        ini_type="args",
    ),
    Option(
        "false_labels",
        "llm_false_labels",
        "tokens that mean false (default: false no).",
        default=DEFAULT_FALSE_LABELS,
        convert=_labels("llm_false_labels"),
        ini_type="args",
    ),
    Option(
        "calibration_file",
        "llm_calibration_file",
        "calibration map (JSON) that gives each verdict a calibrated confidence.",
        flag="--llm-calibration-file",
        default=None,
        path_from_rootdir=True,
    ),
    Option(
        "calibration",
        "llm_calibration",
        "report calibration (accuracy, ECE, Brier, AUROC) of verdicts given an expected label.",
        flag="--llm-calibration",
        default=False,
        convert=_boolean("llm_calibration"),
        is_switch=True,
    ),
    Option(
        "baseline",
        "llm_baseline",
        "compare this run with the JSON report of an earlier run (flips, confidence moves, new failures).",
        flag="--llm-baseline",
        default=None,
        path_from_cwd=True,
    ),
    Option(
        "baseline_margin",
        "llm_baseline_margin",
        "how far a confidence must move to be listed by --llm-baseline, 0..1 (default: 0.1).",
        flag="--llm-baseline-margin",
        default=0.1,
        convert=_probability("llm_baseline_margin"),
    ),
    Option(
        "fail_on_drop",
        "llm_fail_on_drop",
        "fail the run when a verdict flipped or a confidence fell past the margin since --llm-baseline.",
        flag="--llm-fail-on-drop",
        default=False,
        convert=_boolean("llm_fail_on_drop"),
        is_switch=True,
    ),
    Option(
        "allow_hosts",
        "llm_allow_hosts",
        "addresses a test may still connect to in record mode none, e.g. 127.0.0.1 for a server the "
        "test starts itself (IPs, networks, localhost; default: none).",
        flag="--llm-allow-hosts",
        default=(),
        convert=_hosts("llm_allow_hosts"),
        ini_type="args",
    ),
    Option(
        "secret_env",
        "llm_secret_env",
        "names of environment variables whose values are secrets too: never written to a cassette, a "
        "report or the terminal, in any form (default: none; *_API_KEY and names with KEY, TOKEN, SECRET, "
        "PASSWORD always are).",
        default=(),
        convert=_env_names("llm_secret_env"),
        ini_type="args",
    ),
    Option(
        "watch",
        "llm_watch",
        "score every chat completion and Responses API result the code under test receives (live or "
        "replayed) that carries logprobs; the llm_responses fixture lists them "
        "(needs llm_record_scope=test).",
        flag="--llm-watch",
        default=False,
        convert=_boolean("llm_watch"),
        is_switch=True,
    ),
    Option(
        "watch_by",
        "llm_watch_by",
        "the confidence of a watched response: geometric_mean, mean, min (default: geometric_mean).",
        flag="--llm-watch-by",
        default="geometric_mean",
        convert=_choice("llm_watch_by", WATCH_AGGREGATES),
    ),
    Option(
        "watch_min",
        "llm_watch_min",
        "a watched response less confident than this is unsure, 0..1 (default: 0.5).",
        flag="--llm-watch-min",
        default=0.5,
        convert=_probability("llm_watch_min"),
    ),
    Option(
        "watch_strict",
        "llm_watch_strict",
        "fail a test whose code received an unsure response (below llm_watch_min) while watching.",
        flag="--llm-watch-strict",
        default=False,
        convert=_boolean("llm_watch_strict"),
        is_switch=True,
    ),
    Option(
        "certified",
        "llm_certified",
        "the certified accuracy (e.g. 0.9) every check without a threshold asks for, from the certificates "
        "in llm_calibration_file (default: off).",
        default=None,
        convert=_accuracy_or_off("llm_certified"),
    ),
    Option(
        "cascade",
        "llm_cascade",
        "models the judge escalates through, cheapest first: the next is asked while a verdict is below "
        "its model's certified threshold (needs llm_calibration_file; default: none).",
        default=(),
        convert=_models("llm_cascade", "cascade"),
        ini_type="args",
    ),
    Option(
        "cascade_accuracy",
        "llm_cascade_accuracy",
        "the certified accuracy a cascade's verdict must reach (default: 0.9).",
        default=0.9,
        convert=_accuracy("llm_cascade_accuracy"),
    ),
    Option(
        "progress_delay",
        "llm_progress_delay",
        "in -v, seconds a live judge call waits before a line says what it waits for, or off (default: 2.0).",
        default=2.0,
        convert=_seconds_or_off("llm_progress_delay"),
    ),
    Option(
        "panel",
        "llm_panel",
        "models that judge every judge(...) as a panel, pooled (e.g. gpt-4.1-mini gpt-4.1); default: none.",
        default=(),
        convert=_models("llm_panel"),
        ini_type="args",
    ),
    Option(
        "prices",
        "llm_prices",
        "model prices over the shipped table, one model a line: MODEL INPUT CACHED_INPUT OUTPUT in dollars "
        "per million tokens (e.g. gpt-4.1-mini 0.40 0.10 1.60).",
        default=(),
        convert=_prices("llm_prices"),
        ini_type="linelist",
    ),
    Option(
        "prices_file",
        "llm_prices_file",
        "a TOML or JSON file of model prices over the shipped table, relative to rootdir.",
        flag="--llm-prices-file",
        default=None,
        path_from_rootdir=True,
    ),
    Option(
        "max_cost",
        "llm_max_cost",
        "stop live judge calls once the run's live spending would pass this many dollars (default: no "
        "limit); replayed calls are free and never stopped.",
        flag="--llm-max-cost",
        default=None,
        convert=_dollars("llm_max_cost"),
    ),
)


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
