"""What pytest needs of the package in every run, judged or not: the option table as plain data, the
record mode's default and the placeholder keys. Pure Python, no pytest.

pytest loads this module with the plugin in every run of every project that has the plugin installed,
so it holds data and a few small functions: the validators, defaults and ``JudgeConfig`` are
``_settings``, loaded only when an option is set or a test is judged.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, MutableMapping

__all__ = [
    "CLIENT_KEY_VARIABLES",
    "OPTION_ROWS",
    "PLACEHOLDER_KEY",
    "PLACEHOLDER_KEYS",
    "clear_placeholders",
    "default_record_mode",
    "flag_of",
    "set_placeholders",
]

_TABLE = """
model             flag    LLM_JUDGE_MODEL  string
    model the judge asks (default: gpt-4.1-mini).
base_url          flag    OPENAI_BASE_URL  string
    base URL of an OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1 (default: the client's).
threshold         flag    -                string
    default confidence a confident_true/confident_false check needs, 0..1 (default: 0.9).
top_logprobs      flag    -                string
    alternatives requested at each token, 0..20 (default: 20).
record_mode       flag    LLM_RECORD_MODE  string
    cassette record mode: none, once, new_episodes, all, or batch (record through the Batch API at half
    price) (default: none when CI is set, else once).
cassette_dir      flag    -                string
    directory of the cassettes, relative to rootdir (default: cassettes).
record_scope      ini     -                string
    what a test's cassette holds: test (every HTTP call of the test) or judge (only the judge's).
record_tests      ini     -                string
    which tests get a cassette: marked (tests using judge, llm_responses or the llm marker, and the
    fixtures they set up) or all (every test) (default: marked).
report            flag    -                string
    write the JSON confidence report to this path.
summary           flag    -                string
    terminal confidence summary: off, short, full (default: short).
html              flag    -                string
    write the HTML confidence report to this path.
borderline        ini     -                string
    a checked verdict this close to its threshold is flagged borderline (default: 0.05).
true_labels       ini     -                args
    tokens that mean true (default: true yes).
false_labels      ini     -                args
    tokens that mean false (default: false no).
calibration_file  flag    -                string
    calibration map (JSON) that gives each verdict a calibrated confidence.
calibration       switch  -                string
    report calibration (accuracy, ECE, Brier, AUROC) of verdicts given an expected label.
baseline          flag    -                string
    compare this run with the JSON report of an earlier run (flips, confidence moves, new failures).
baseline_margin   flag    -                string
    how far a confidence must move to be listed by --llm-baseline, 0..1 (default: 0.1).
fail_on_drop      switch  -                string
    fail the run when a verdict flipped or a confidence fell past the margin since --llm-baseline.
allow_hosts       flag    -                args
    addresses a test may still connect to in record mode none, e.g. 127.0.0.1 for a server the test
    starts itself (IPs, networks, localhost; default: none).
secret_env        ini     -                args
    names of environment variables whose values are secrets too: never written to a cassette, a report
    or the terminal, in any form (default: none; *_API_KEY and names with KEY, TOKEN, SECRET, PASSWORD
    always are).
watch             switch  -                string
    score every chat completion and Responses API result the code under test receives (live or replayed)
    that carries logprobs; the llm_responses fixture lists them (needs llm_record_scope=test).
watch_by          flag    -                string
    the confidence of a watched response: geometric_mean, mean, min (default: geometric_mean).
watch_min         flag    -                string
    a watched response less confident than this is unsure, 0..1 (default: 0.5).
watch_strict      switch  -                string
    fail a test whose code received an unsure response (below llm_watch_min) while watching.
certified         ini     -                string
    the certified accuracy (e.g. 0.9) every check without a threshold asks for, from the certificates in
    llm_calibration_file (default: off).
cascade           ini     -                args
    models the judge escalates through, cheapest first: the next is asked while a verdict is below its
    model's certified threshold (needs llm_calibration_file; default: none).
cascade_accuracy  ini     -                string
    the certified accuracy a cascade's verdict must reach (default: 0.9).
progress_delay    ini     -                string
    in -v, seconds a live judge call waits before a line says what it waits for, or off (default: 2.0).
panel             ini     -                args
    models that judge every judge(...) as a panel, pooled (e.g. gpt-4.1-mini gpt-4.1); default: none.
prices            ini     -                linelist
    model prices over the shipped table, one model a line: MODEL INPUT CACHED_INPUT OUTPUT in dollars
    per million tokens (e.g. gpt-4.1-mini 0.40 0.10 1.60).
prices_file       flag    -                string
    a TOML or JSON file of model prices over the shipped table, relative to rootdir.
max_cost          flag    -                string
    stop live judge calls once the run's live spending would pass this many dollars (default: no limit);
    replayed calls are free and never stopped.
"""
"""Every option: its JudgeConfig field, kind, environment variable ("-": none) and ini type on one line,
its help on the indented lines below. The ini key is ``llm_<field>``; kind "flag" and "switch" (a flag
that takes no value) also have the flag ``--llm-<field, dashed>``; kind "ini" has no flag. Text, not
Python literals: pytest reads a plugin's bytecode one object at a time, so one string loads faster than
a table of them. ``_settings.OPTIONS`` adds each option's default and validator."""


def _rows(table: str) -> tuple[tuple[str, str, str, str, str], ...]:
    rows: list[list[str]] = []
    for line in table.strip().splitlines():
        if line.startswith(" "):
            rows[-1][4] = f"{rows[-1][4]} {line.strip()}".lstrip()
        else:
            field, kind, env, ini_type = line.split()
            rows.append([field, kind, "" if env == "-" else env, ini_type, ""])
    return tuple((field, kind, env, ini_type, help) for field, kind, env, ini_type, help in rows)


OPTION_ROWS = _rows(_TABLE)
"""(field, kind, environment variable or "", ini type, help) of every option, in the table's order."""


def flag_of(field: str) -> str:
    """The command-line flag of an option with one (kind "flag" or "switch"): ``--llm-max-cost``."""
    return "--llm-" + field.replace("_", "-")


def default_record_mode() -> str:
    """``none`` (replay only) when the CI variable is set to anything but 0/false/no, else ``once``."""
    ci = os.environ.get("CI", "").strip().lower()
    return "once" if ci in ("", "0", "false", "no") else "none"


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
