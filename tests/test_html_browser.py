"""A report of many verdicts opens in a real browser: the lowest and failing in full, the rest paged by the
page's one script from compact data, which nothing in a verdict can break out of."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html import escape
from pathlib import Path
from typing import Any

import pytest
from chromium import dump_dom, needs_chromium
from test_report_lines import verdict_record

from pytest_llmconfidence._report import html
from pytest_llmconfidence._report.html import render_html
from pytest_llmconfidence._report.summary import check_status, summarize

HOSTILE = (
    "</script><script>document.title='pwned'</script>",
    "<img src=x onerror=\"document.title='pwned'\">",
    "<!--<script>",
    "line\u2028separator\u2029and\nnewline",
    "emoji \U0001f600\U0001f600 then \U0001f600\U0001f601",
    "sep|tilde~caret^",
)


def _records(n: int) -> list[dict[str, Any]]:
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


def _with_hostile_ids(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records, the first passing ones renamed to hostile test ids (module ``tests/a_evil.py``)."""
    passing = (r for r in records if r["confidence"] >= 0.99)
    for text, record in zip(HOSTILE, passing, strict=False):
        record["test_id"] = f"tests/a_evil.py::test_x[{text}]"
        record["question"] = text
    return records


def _data(page: str) -> dict[str, Any]:
    block = re.search(r'<script type="application/json" id="llm-rest-data">(.*?)</script>', page, re.S)
    assert block is not None
    data: dict[str, Any] = json.loads(block.group(1))
    return data


def _decoded(data: dict[str, Any]) -> list[tuple[str, float, str, str]]:
    """(test id, confidence, verdict, check) of each listed verdict, read as the page's script reads them."""
    digits = html._DIGITS

    def unpack(text: str, width: int, i: int) -> int:
        number = 0
        for char in text[i * width : (i + 1) * width]:
            number = number * 62 + digits.index(char)
        return number

    coded = data["names"].split(data["separator"])
    kinds, confidences = "".join(data["kind"]), "".join(data["confidence"])
    out, name, at = [], "", 0
    for module, count in data["modules"]:
        for _ in range(count):
            # JavaScript counts UTF-16 units; the page keeps shared prefixes inside the BMP, so these agree
            name = name[: digits.index(coded[at][0])] + coded[at][1:]
            value, check = data["kinds"][unpack(kinds, data["kind_width"], at)]
            confidence = unpack(confidences, data["confidence_width"], at) / 1000
            out.append((f"{module}::{name}" if name else module, confidence, value, check))
            at += 1
    return out


def test_a_small_report_shows_every_verdict_in_full_with_no_script() -> None:
    """Up to FULL_ROWS verdicts, each is a row with its details; the page has no script and allows none."""
    page = render_html(summarize(_records(300)))
    assert page.count('<tr class="verdict"') == 300
    assert "<script" not in page and "script-src" not in page
    assert 'class="verdicts long"' not in page and "The other" not in page


def test_the_other_verdicts_are_embedded_compactly_and_read_back_exactly() -> None:
    """Past FULL_ROWS, every verdict not in the table is in the page's data, by test id, with its
    confidence (to 0.001), verdict and check, in about 10 bytes a verdict."""
    records = _records(20_000)
    page = render_html(summarize(records))
    in_table = re.findall(r'<tr class="verdict" data-status="\w+"><td class="test">(.*?)</td>', page)
    in_table = [cell.replace("<wbr>", "") for cell in in_table]
    listed = _decoded(_data(page))
    assert len(listed) + len(in_table) == 20_000
    assert [test_id for test_id, *_ in listed] == sorted(set(r["test_id"] for r in records) - set(in_table))
    by_id = {r["test_id"]: r for r in records}
    summary = summarize(records)
    for test_id, confidence, value, check in listed:
        assert confidence == round(by_id[test_id]["confidence"], 3)
        assert (value, check) == ("true", check_status(by_id[test_id], summary.band))
    block = page.split('id="llm-rest-data">', 1)[1].split("</script>", 1)[0]
    assert len(block) < 10 * len(listed)


def test_the_data_has_no_long_run_of_letters_and_digits_for_the_redaction_to_rescan() -> None:
    """The report is redacted as one text before it is written; a URL's scheme is looked for at every
    letter, up to the next character that cannot be in one, so the data keeps such runs short."""
    page = render_html(summarize(_records(20_000)))
    assert max(map(len, re.findall(r"[a-zA-Z0-9+.\-]+", page))) <= 100


def test_nothing_from_a_verdict_can_leave_the_data_block_or_run() -> None:
    """Test ids that close the script, open a comment or hold U+2028 stay JSON escapes inside the data,
    and read back to the very text; the one script the page runs is allowed by its hash, no other."""
    page = render_html(summarize(_with_hostile_ids(_records(2_000))))
    block = page.split('id="llm-rest-data">', 1)[1].split("</script>", 1)[0]
    assert not set(block) & {"<", ">", "&", "\u2028", "\u2029"} and block.isascii()
    ids = {test_id for test_id, *_ in _decoded(_data(page))}
    assert {f"tests/a_evil.py::test_x[{text}]" for text in HOSTILE} <= ids
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert scripts == [html._PAGER]
    digest = base64.b64encode(hashlib.sha256(html._PAGER.encode()).digest()).decode()
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    assert policy is not None
    assert policy.group(1).endswith(f"; script-src 'sha256-{digest}'")
    assert (
        "default-src 'none'" in policy.group(1)
        and "unsafe-inline" not in policy.group(1).split("script-src")[1]
    )


def test_a_secret_in_a_test_id_is_hidden_before_names_are_shortened(monkeypatch: pytest.MonkeyPatch) -> None:
    """A known key in a test id becomes ``***`` in the whole name, so no name shares a piece of it with
    the name before: no part of the key is left in the page."""
    key = "sk-test-0123456789abcdefABCDEF"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    records = _records(2_000)
    passing = [r for r in records if r["confidence"] >= 0.99]
    passing[0]["test_id"] = "tests/a_keys.py::test_k[sk-test-01234-]"  # sorts first, shares "sk-test-01234"
    passing[1]["test_id"] = f"tests/a_keys.py::test_k[{key}]"
    page = render_html(summarize(records))
    ids = [test_id for test_id, *_ in _decoded(_data(page))]
    assert ids[:2] == ["tests/a_keys.py::test_k[sk-test-01234-]", "tests/a_keys.py::test_k[***]"]
    assert "56789abcdef" not in page and "cdefABCDEF" not in page


def test_the_report_s_redaction_leaves_the_script_its_policy_allows(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plugin redacts the whole page before writing it: with a key known, the script still matches
    the hash the policy names (a changed script would be blocked, and the others not listed)."""
    from pytest_llmconfidence._recording.secrets import redact

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdefABCDEF")
    page = redact(render_html(summarize(_records(2_000))))
    assert re.findall(r"<script>(.*?)</script>", page, re.S) == [html._PAGER]


@needs_chromium
def test_a_report_of_20000_verdicts_opens_in_chromium_with_the_rest_paged(tmp_path: Path) -> None:
    """Chromium parses the page and runs its script: the table holds the lowest and the failing verdicts,
    the first 200 of the others are listed by test id, and a hostile test id is shown as text."""
    n = 20_000
    path = tmp_path / "report.html"
    path.write_text(render_html(summarize(_with_hostile_ids(_records(n)))), encoding="utf-8")
    dom = dump_dom(path, tmp_path / "profile")
    failing = n // 40
    rows = re.findall(r'<tr class="verdict" data-status="(\w+)"', dom)
    assert rows.count("failed") == failing
    assert len(rows) == failing + html.LOWEST_ROWS - min(failing, html.LOWEST_ROWS)
    paged = re.findall(r'<tr class="verdict paged" data-status="\w+"><td class="test">(.*?)</td>', dom, re.S)
    assert len(paged) == html.PAGE_ROWS
    assert f'<span class="shown">1-200 of {n - len(rows):,}</span>' in dom
    first = [cell.replace("<wbr>", "") for cell in paged[: len(HOSTILE)]]
    assert first == [f"tests/a_evil.py::test_x[{escape(text, quote=False)}]" for text in sorted(HOSTILE)]
    assert "<title>LLM confidence report</title>" in dom and "pwned" not in dom.split("<body>")[0]
    assert "<img" not in dom and dom.count("<script") == 2


@needs_chromium
def test_the_pager_filters_orders_and_turns_pages_in_chromium(tmp_path: Path) -> None:
    """Typing in the filter, choosing a check or the order, and next/previous re-list the other verdicts."""
    page = render_html(summarize(_records(5_000)))
    listed = _decoded(_data(page))
    driver = """
const box = document.getElementById("llm-rest");
const seen = [];
const look = () => seen.push([box.querySelector(".shown").textContent,
  [...box.querySelectorAll("tbody tr")].slice(0, 2).map((tr) => tr.cells[0].textContent + " " + tr.cells[2].textContent)]);
const set = (name, value, event) => { const el = box.querySelector(`[name="${name}"]`); el.value = value;
  el.dispatchEvent(new Event(event)); look(); };
look();
box.querySelector('[name="next"]').click(); look();
box.querySelector('[name="previous"]').click(); look();
set("order", "confidence", "change");
set("status", "borderline", "change");
set("filter", "TEST_CASE[499", "input");
set("filter", "no such test", "input");
document.getElementById("seen").textContent = JSON.stringify(seen);
"""
    digest = base64.b64encode(hashlib.sha256(driver.encode()).digest()).decode()
    page = page.replace("script-src ", f"script-src 'sha256-{digest}' ", 1)
    page = page.replace("</body>", f'<pre id="seen"></pre><script>{driver}</script></body>')
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    dom = dump_dom(path, tmp_path / "profile")
    found = re.search(r'<pre id="seen">(.*?)</pre>', dom, re.S)
    assert found is not None and found.group(1), "the driver did not run"
    seen = json.loads(found.group(1).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))
    total = len(listed)
    start, after_next, back, by_confidence, borderline, filtered, nothing = seen
    assert start[0] == f"1-200 of {total:,}"
    assert start[1][0] == f"{listed[0][0]} {listed[0][1]:.3f}"
    assert after_next[0] == f"201-400 of {total:,}" and after_next[1] != start[1]
    assert back == start
    assert by_confidence[0] == f"1-200 of {total:,}"
    assert [float(row.rsplit(" ", 1)[1]) for row in by_confidence[1]] == sorted(
        float(row.rsplit(" ", 1)[1]) for row in by_confidence[1]
    )
    assert borderline[0].endswith(f"of {sum(1 for *_, check in listed if check == 'borderline'):,}")
    matching = [i for i, *_, check in listed if "test_case[499" in i and check == "borderline"]
    assert filtered[0] == f"1-{len(matching)} of {len(matching)}" and len(matching) > 2
    assert all("test_case[499" in row for row in filtered[1])
    assert nothing[0] == "none of them matches" and nothing[1] == []


def test_with_scripts_off_a_note_says_why_the_other_verdicts_are_not_listed() -> None:
    """The pager is hidden until the script shows it; a ``<noscript>`` note explains the empty space."""
    page = render_html(summarize(_records(2_000)))
    assert '<div id="llm-rest" hidden>' in page
    assert re.search(r"<noscript><p [^>]*>Scripts are off, so they are not listed", page)


@needs_chromium
def test_a_script_the_policy_does_not_name_never_runs_and_the_page_still_reads(tmp_path: Path) -> None:
    """Changed by one character, the page's script no longer matches the hash its policy allows:
    Chromium blocks it, and the aggregates, the histogram and the lowest and failing verdicts are all
    there, the pager hidden (what a reader with scripts off sees, less the note)."""
    page = render_html(summarize(_records(5_000)))
    assert page.count(html._PAGER) == 1
    path = tmp_path / "report.html"
    path.write_text(page.replace(html._PAGER, html._PAGER + " "), encoding="utf-8")
    dom = dump_dom(path, tmp_path / "profile")
    assert '<div class="cards">' in dom and 'class="histogram"' in dom
    failing = 5_000 // 40
    in_full = failing + html.LOWEST_ROWS - min(failing, html.LOWEST_ROWS)
    assert len(re.findall(r'<tr class="verdict" data-status="', dom)) == in_full
    assert '<div id="llm-rest" hidden="">' in dom and 'class="verdict paged"' not in dom
