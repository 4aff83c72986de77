"""The hooks only the process that reports runs: the xdist controller, or the one process of a run
without xdist. It gathers every test's records (workers send theirs on the test reports), prints the
summary and writes the report files; ``run.controller`` registers it on that process only, so no hook
asks whether it runs on a worker.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .._settings import JudgeConfig

__all__ = ["Controller"]


class Controller:
    """The hooks of the process that reports: it gathers every test's records, prints the summary and
    writes the reports. Registered on the xdist controller (or the one process without xdist) only."""

    def __init__(self, state: Any) -> None:
        """``state``: the run's ``run.RunState``."""
        self.state = state
        self.config = state.config
        self._packed: list[str] = []
        """Each test report's records as one JSON text: compact while the run lasts, read at its end."""
        self._records: list[dict[str, Any]] = []
        self.written: list[Any] = []
        self._calibration: list[Any] | None = None
        self.comparison: Any = None
        self._summary: Any = None
        self.batch_queued: list[dict[str, Any]] = []
        """Judge requests the tests queued for the Batch API (record mode batch), from every worker."""
        self.batch_lines: list[str] = []

    def __dir__(self) -> list[str]:
        """Its hooks: all that pytest and pluggy look for when it is registered."""
        return [
            "pytest_runtest_logreport",
            "pytest_sessionfinish",
            "pytest_terminal_summary",
        ]

    @property
    def records(self) -> list[dict[str, Any]]:
        """Every record the tests reported, in the order they arrived (read from the packed texts)."""
        if self._packed:
            import json

            for text in self._packed:
                self._records.extend(json.loads(text))
            self._packed.clear()
        return self._records

    def has_records(self) -> bool:
        """Whether any test reported a record (without reading them)."""
        return bool(self._packed or self._records)

    def summary(self) -> Any:
        """The run's summary (``_report.summary.Summary``), built once, after the last test: every
        writer (terminal, JSON, HTML, Markdown) prints this one."""
        if self._summary is None:
            from .._report.summary import summarize

            c = self.config
            self._summary = summarize(self.records, band=c.borderline, threshold=c.threshold)
        return self._summary

    def calibration(self) -> list[Any] | None:
        """The calibration report of the labelled verdicts (with --llm-calibration), computed once."""
        if self._calibration is None and self.config.calibration and self.records:
            from .._calibration.metrics import TARGETS
            from .._calibration.report import calibration_report

            accuracies = sorted({*TARGETS, *([self.config.certified] if self.config.certified else [])})
            self._calibration = calibration_report(self.records, certify_for=accuracies)
        return self._calibration

    def compared(self) -> Any:
        """The comparison with --llm-baseline (None without one, or before it exists), computed once."""
        if self.comparison is None and self.state.baseline is not None:
            from .._report.baseline import compare

            self.comparison = compare(self.state.baseline, self.records, margin=self.config.baseline_margin)
        return self.comparison

    def collect_batches(self) -> None:
        """At the start of a batch-mode run: the answers of the batches that ended written to cassettes."""
        from .._recording.batch_api import collect

        book = self.state.batch_book()
        if not book.batches:
            return
        with _client(self.config) as client:
            try:
                found = collect(
                    client,
                    book,
                    self.config.cassette_dir,
                    self.config.base_url,
                    self.state.prices(),
                )
            except Exception as exc:
                raise pytest.UsageError(
                    f"pytest-llmconfidence: could not collect the batches of {book.path}: {_failure(exc)}"
                ) from None
        self.batch_lines.extend(found.lines())

    def submit_batch(self) -> str | None:
        """At the end of a batch-mode run: the queued requests uploaded as one batch."""
        from .._recording.batch_api import RUN_AGAIN, submit

        queued = len(self.batch_queued)
        with _client(self.config) as client:
            try:
                batch_id = submit(client, self.state.batch_book(), self.batch_queued)
            except Exception as exc:
                self.batch_lines.append(
                    f"could not create the batch of {queued} judge requests: {_failure(exc)}; "
                    f"run `{RUN_AGAIN}` again to retry"
                )
                return None
        noted = self.state.batch_book().path.name
        self.batch_lines.append(
            f"batch {batch_id}: {queued} judge requests queued (noted in {noted}); "
            f"run `{RUN_AGAIN}` again once it has completed (within 24 h)"
        )
        return batch_id

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Keep the report's records as JSON text, and take them off the report (which pytest keeps
        to the end of the run): a judged test costs the run a few hundred bytes, not its objects."""
        found = getattr(report, "llm_records", None)
        if found:
            import json

            self._packed.append(json.dumps(found))
            del report.llm_records
        self.batch_queued.extend(getattr(report, "llm_batch_queued", ()))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Submit the queued batch; write --llm-report, --llm-html and the GitHub step summary."""
        if self.batch_queued:
            batch_id = self.submit_batch()
            if batch_id is not None:
                from .adapters import name_batch

                name_batch(session.config, batch_id)
        github, c = os.environ.get("GITHUB_STEP_SUMMARY"), self.config
        if c.report or c.html or (github and self.has_records()):
            from .._report.output import write_reports

            self.written = write_reports(
                self.summary(),
                c,
                github_summary=github,
                calibration=self.calibration(),
                baseline=self.compared(),
            )
        comparison = self.compared()
        if c.fail_on_drop and comparison is not None and comparison.failing:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any, config: pytest.Config) -> None:
        """The "llm confidence summary" section, the calibration report and the files written."""
        self.state.summarising = True
        if self.has_records() or self.written:
            from .._report.terminal import write_terminal

            def extra() -> Any:
                return config.hook.pytest_llmconfidence_summary(records=list(self.records), config=config)

            width = config.get_terminal_writer().fullwidth
            summary = self.summary() if self.config.summary != "off" else None  # off: no records read
            write_terminal(
                terminalreporter,
                summary,
                self.config,
                width,
                extra,
                self.calibration(),
                self.written,
            )
        if self.batch_lines:
            terminalreporter.write_sep("=", "llm batch")
            for line in self.batch_lines:
                terminalreporter.write_line(line)
        budget = self.state.budget()
        if budget is not None:
            from .._report.cost import dollars

            spent, refused = budget.spent()
            line = f"llm budget: {dollars(spent)} of {dollars(budget.limit)} spent on live judge calls"
            if refused:
                line += f"; {refused} call{'s' if refused != 1 else ''} not sent (llm_max_cost)"
            terminalreporter.write_line(line, red=bool(refused))
        if self.config.baseline is not None:
            from .._report.baseline import write_baseline_section

            write_baseline_section(terminalreporter, self.config, self.compared())


class _client:
    """The run's OpenAI client for the Batch API, closed after the block."""

    def __init__(self, config: JudgeConfig) -> None:
        from .._judge.transport import build_client

        self.client = build_client(config.base_url)

    def __enter__(self) -> Any:
        return self.client

    def __exit__(self, *exc: object) -> None:
        self.client.close()


def _failure(exc: BaseException) -> str:
    from .._recording.secrets import redact

    return f"{type(exc).__name__}: {redact(str(exc))}"
