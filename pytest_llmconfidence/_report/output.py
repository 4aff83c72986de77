"""The report files of a run: the JSON report, the HTML page and the GitHub step summary. Pure.

Each is a rendering of the run's one ``Summary`` (built once, ``summary.summarize``); this module only
writes them, each atomically, and says what it wrote or could not write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._files import write_atomic
from .summary import Summary

__all__ = ["Written", "write_reports"]


@dataclass(frozen=True)
class Written:
    """One file the reports wrote (or failed to write)."""

    label: str
    path: Path
    error: str | None = None


def write_reports(
    summary: Summary,
    config: Any = None,
    *,
    github_summary: str | None = None,
    calibration: Sequence[Any] | None = None,
    baseline: Any = None,
) -> list[Written]:
    """Write the reports ``config`` (the run's ``JudgeConfig``) asks for: ``report`` (JSON) and ``html``;
    and append to the GitHub step summary when there are records."""
    from .._recording.secrets import known, redact

    secrets = known()
    json_path: Path | None = getattr(config, "report", None)
    html_path: Path | None = getattr(config, "html", None)
    written: list[Written] = []

    def attempt(label: str, path: Path, render: Any) -> None:
        try:
            render()
        except OSError as exc:
            written.append(Written(label, path, f"{exc.strerror or exc}"))
        else:
            written.append(Written(label, path))

    if json_path is not None:
        from .json_report import dumps, to_json

        data = to_json(summary, calibration)
        if baseline is not None:
            data["baseline"] = baseline.to_dict()
        text = redact(dumps(data), secrets)
        attempt("llm confidence report (JSON)", json_path, lambda: write_atomic(json_path, text))
    if html_path is not None:
        from .html import render_html

        sections = []
        if baseline is not None:
            from .baseline import html_section

            sections.append(html_section(baseline))
        page = redact(render_html(summary, calibration=calibration, sections=sections), secrets)
        attempt("llm confidence report (HTML)", html_path, lambda: write_atomic(html_path, page))
    if github_summary and not summary.empty:
        from .markdown import markdown

        target = Path(github_summary)
        text = markdown(summary)
        if baseline is not None:
            text += "\n### llm baseline\n\n" + baseline.markdown()
        text = redact(text, secrets)

        def append() -> None:
            with target.open("a", encoding="utf-8") as handle:
                handle.write(text)

        attempt("GitHub step summary", target, append)
    return written
