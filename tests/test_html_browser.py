"""A report of many verdicts opens in a real browser: the lowest and failing in full, the rest compact."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_report_lines import verdict_record

from pytest_llmconfidence._report import html
from pytest_llmconfidence._report.html import render_html
from pytest_llmconfidence._report.summary import summarize

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def _records(n: int) -> list[dict[str, object]]:
    """N verdicts in modules of 1,000; every 40th fails its check (0.5), the rest pass (0.9-1.0)."""
    records = []
    for i in range(n):
        confidence = 0.5 if i % 40 == 0 else 0.9 + (i % 97) / 1000
        records.append(
            verdict_record(
                confidence,
                checks=[(0.9, confidence >= 0.9)],
                test_id=f"tests/test_m{i // 1000}.py::test_case[{i}]",
                question=f"Is answer {i} polite?",
            )
        )
    return records


def test_a_small_report_shows_every_verdict_in_full() -> None:
    """Up to FULL_ROWS verdicts, each is a row with its details, and nothing is listed compactly."""
    page = render_html(summarize(_records(300)))
    assert page.count('<tr class="verdict"') == 300
    assert "by module" not in page and 'class="verdicts long"' not in page


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (apt-get install chromium)")
def test_a_report_of_20000_verdicts_opens_in_chromium_with_the_lowest_and_failing_in_full(
    tmp_path: Path,
) -> None:
    """Chromium parses the whole page: the table holds the lowest and the failing verdicts, each other
    verdict is a line under its module, and the page stays small (about 50 bytes a verdict)."""
    n = 20_000
    page = render_html(summarize(_records(n)))
    assert len(page.encode()) < 50 * n + 1_500_000
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    result = subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", path.as_uri()],
        capture_output=True,
        text=True,
        timeout=300,
    )
    dom = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    failing = n // 40
    rows = re.findall(r'<tr class="verdict" data-status="(\w+)"', dom)
    assert rows.count("failed") == failing
    assert len(rows) == failing + html.LOWEST_ROWS - min(failing, html.LOWEST_ROWS)
    modules = re.findall(r"<summary>tests/test_m(\d+)\.py \(([\d,]+) verdicts\)</summary>", dom)
    assert sorted(int(m) for m, _ in modules) == list(range(n // 1000))
    assert sum(int(count.replace(",", "")) for _, count in modules) == n - len(rows)
    # the last module's lines were parsed to the end
    assert " test_case[19999]\n" in dom or " test_case[19999]</pre>" in dom
