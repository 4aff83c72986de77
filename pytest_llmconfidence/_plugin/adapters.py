"""Adapters between pytest's objects and the core: hook relays, report outcomes.

The core takes plain objects (``JudgeHooks``, a ``Watcher``); these classes and functions translate
pytest's items and reports for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .._judge.judge import JudgeHooks, Messages, checked_messages
from .._watch import Watcher, strict_failure

if TYPE_CHECKING:
    from .._scoring.results import Verdict

__all__ = ["PluginHooks", "apply_strict", "name_batch", "warn_unasserted"]


class PluginHooks(JudgeHooks):
    """The plugin's hooks for one test: pytest's hook relay, the test's records and its calibration."""

    def __init__(
        self,
        hook: Any,
        item: Any,
        records: Any,
        calibrate: Callable[[Verdict], Verdict] | None = None,
        certified: Any = None,
    ) -> None:
        self.hook = hook
        self.item = item
        self.records = records
        self.calibrate = calibrate
        self.certified = certified
        """The run's certificates (a ``Certified``), for the cascade."""

    def _prompt(self, hook: str, default: Callable[[], Messages], **arguments: Any) -> Messages:
        """The messages pytest's hook ``hook`` returns for ``arguments`` (the plugin implements it last)."""
        return checked_messages(getattr(self.hook, hook)(**arguments), hook)

    def finish(self, verdict: Verdict) -> Verdict:
        if self.calibrate is not None:
            verdict = self.calibrate(verdict)
        self.records.add(verdict)
        self.hook.pytest_llmconfidence_verdict(item=self.item, verdict=verdict)
        return verdict

    def certified_threshold(self, model: str, accuracy: float) -> float | None:
        if self.certified is None:
            return None
        try:
            return float(self.certified.find(model, "verdicts", accuracy, "llm_cascade").threshold)
        except ValueError:
            return None

    def keep(self, result: Any) -> None:
        if self.calibrate is not None:
            self.calibrate(result)
        self.records.add(result)


_XPASS_STRICT = "[XPASS(strict)] "


def apply_strict(report: Any, watcher: Watcher, xfail_raises: Any = None) -> None:
    """Under ``llm_watch_strict``, fail the call phase of a test that passed but received an unsure answer.

    A test marked ``xfail`` expects to fail, and this is a failure: it is reported xfailed (pytest had
    counted it as passing unexpectedly, XPASS), unless the marker's ``raises=`` expects another error.
    """
    xpassed = report.passed and hasattr(report, "wasxfail")
    xpassed_strict = report.failed and str(report.longrepr).startswith(_XPASS_STRICT)
    if not (report.passed or xpassed_strict):
        return
    failure = strict_failure(watcher)
    if failure is None:
        return
    if (xpassed or xpassed_strict) and xfail_raises is None:
        reason = report.wasxfail if xpassed else str(report.longrepr).removeprefix(_XPASS_STRICT)
        report.outcome, report.wasxfail, report.longrepr = "skipped", reason, failure
        return
    if hasattr(report, "wasxfail"):
        del report.wasxfail
    report.outcome, report.longrepr = "failed", failure


def name_batch(config: Any, batch_id: str) -> None:
    """The skipped tests whose requests were queued read ``queued in batch <id>`` in the terminal's short
    summary: the batch is created at the end of the run, after they were skipped."""
    from .._recording.batch_api import QUEUED

    reporter = config.pluginmanager.get_plugin("terminalreporter")
    for report in getattr(reporter, "stats", {}).get("skipped", ()):
        longrepr = getattr(report, "longrepr", None)
        if isinstance(longrepr, tuple) and len(longrepr) == 3 and QUEUED in str(longrepr[2]):
            report.longrepr = (*longrepr[:2], str(longrepr[2]).replace(QUEUED, f"queued in batch {batch_id}"))


def warn_unasserted(item: Any, checks: Sequence[Any]) -> None:
    """Warn, at the test's own line, of each failed check its test never asserted (an error with -W error)."""
    if not checks:
        return
    import warnings

    from .._errors import UnassertedCheckWarning

    lineno = item.location[1]
    for check in checks:
        warnings.warn_explicit(
            UnassertedCheckWarning(
                f"{item.nodeid}: the check {check!r} failed, but nothing asserted it, so the test passed; "
                f"write `assert ....{check.kind}(...)` (a check alone on its line fails nothing)"
            ),
            UnassertedCheckWarning,
            filename=str(item.path),
            lineno=(lineno or 0) + 1,
        )
