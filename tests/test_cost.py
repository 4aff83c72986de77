"""Dollars: the price table, the cost of a call, and the run's cost in the summary and the reports."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, completion, verdict

from pytest_llmconfidence.__main__ import main
from pytest_llmconfidence._report.cost import (
    SHIPPED_PRICES,
    Price,
    PriceTable,
    base_model,
    cost_summary,
    dollars,
    load_price_file,
    parse_price_lines,
)
from pytest_llmconfidence._report.markdown import markdown
from pytest_llmconfidence._report.summary import summarize
from pytest_llmconfidence._report.terminal import plain, summary_lines
from pytest_llmconfidence._scoring.results import Usage, usage_counts

# --- pure: prices and the cost of one call ---------------------------------------------------------


def test_a_call_costs_its_uncached_cached_and_output_tokens_at_their_prices() -> None:
    """Cached prompt tokens are part of the prompt tokens and cost the cached-input price."""
    price = Price(input=0.40, cached_input=0.10, output=1.60)
    # 1,000 prompt tokens of which 600 cached, 10 output: 400*0.40 + 600*0.10 + 10*1.60 per million
    assert price.cost(1000, 10, 600) == pytest.approx((160 + 60 + 16) / 1_000_000)
    assert Price(input=2.0, output=8.0).cost(1000, 10, 600) == pytest.approx((2000 + 80) / 1_000_000)


def test_dated_model_names_cost_what_their_base_model_costs() -> None:
    """gpt-4.1-mini-2025-04-14 is priced as gpt-4.1-mini; a dated name in the table wins over its base."""
    assert base_model("gpt-4.1-mini-2025-04-14") == "gpt-4.1-mini"
    assert base_model("gpt-4-0613") == "gpt-4"
    assert base_model("gpt-4.1-mini") == "gpt-4.1-mini"
    table = PriceTable({"gpt-4o-2024-05-13": Price(input=5.0, output=15.0)})
    assert table.price("gpt-4.1-mini-2025-04-14") == SHIPPED_PRICES["gpt-4.1-mini"]
    assert table.price("gpt-4o-2024-05-13") == Price(input=5.0, output=15.0)
    assert table.price("gpt-4o-2024-08-06") == SHIPPED_PRICES["gpt-4o"]
    assert table.price("my-model") is None
    assert table.cost("my-model", {"prompt_tokens": 10}) is None


def test_a_batch_call_costs_half() -> None:
    """Answers from the Batch API are priced at half the standard price."""
    table = PriceTable()
    usage = {"prompt_tokens": 1_000_000, "completion_tokens": 0}
    assert table.cost("gpt-4.1-mini", usage) == pytest.approx(0.40)
    assert table.cost("gpt-4.1-mini", usage, batch=True) == pytest.approx(0.20)


def test_price_lines_take_cached_input_optionally_and_name_a_bad_line() -> None:
    """llm_prices: MODEL INPUT CACHED_INPUT OUTPUT or MODEL INPUT OUTPUT; anything else names the line."""
    prices = parse_price_lines(["gpt-4.1-mini 0.40 0.10 1.60", "", "local 0 0  # free", "big $3 $15"])
    assert prices == {
        "gpt-4.1-mini": Price(input=0.40, cached_input=0.10, output=1.60),
        "local": Price(input=0.0, output=0.0),
        "big": Price(input=3.0, output=15.0),
    }
    for bad in ("gpt-4.1 two 8.00", "gpt-4.1 2.00", "gpt-4.1 1 2 3 4", "gpt-4.1 -1 2"):
        with pytest.raises(ValueError, match="is not a price; write one model a line"):
            parse_price_lines([bad])


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("prices.toml", '[prices]\n"my-model" = { input = 1.0, cached_input = 0.5, output = 2.0 }\n'),
        ("prices.json", '{"my-model": [1.0, 0.5, 2.0]}'),
    ],
)
def test_a_price_file_is_toml_or_json(tmp_path: Path, name: str, text: str) -> None:
    """llm_prices_file reads a table of models from TOML or JSON, at the top or under 'prices'."""
    path = tmp_path / name
    path.write_text(text)
    assert load_price_file(path) == {"my-model": Price(input=1.0, cached_input=0.5, output=2.0)}


def test_a_bad_price_file_says_what_is_wrong(tmp_path: Path) -> None:
    """A missing file, a file that does not parse and an entry that is not a price are named."""
    with pytest.raises(ValueError, match="does not exist"):
        load_price_file(tmp_path / "nope.toml")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(ValueError, match="is not valid JSON"):
        load_price_file(broken)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('"my-model" = { input = 1.0 }\n')
    with pytest.raises(ValueError, match="the price of 'my-model'"):
        load_price_file(wrong)


def test_dollars_keep_two_significant_digits_below_a_cent() -> None:
    """Amounts read as $1,234.50, $0.84, $0.00042 and $0."""
    assert [dollars(x) for x in (1234.5, 0.84, 0.00042, 0.0)] == ["$1,234.50", "$0.84", "$0.00042", "$0"]


def test_cached_tokens_come_from_prompt_tokens_details() -> None:
    """usage.prompt_tokens_details.cached_tokens becomes Usage.cached_tokens."""
    usage = {"prompt_tokens": 2000, "completion_tokens": 1, "total_tokens": 2001}
    details = {**usage, "prompt_tokens_details": {"cached_tokens": 1536, "audio_tokens": 0}}
    assert Usage(**usage_counts(details)).cached_tokens == 1536
    assert Usage(**usage_counts(usage)).cached_tokens == 0


# --- pure: the run's cost -----------------------------------------------------------------------------


def _record(
    test: str, cost: float | None, *, replayed: bool = False, model: str = "m", **more: object
) -> dict:
    return {
        "kind": "verdict",
        "test_id": test,
        "model": model,
        "confidence": 0.9,
        "value": True,
        "replayed": replayed,
        "usage": {"prompt_tokens": 100, "completion_tokens": 1, "total_tokens": 101},
        "cost_usd": cost,
        **more,
    }


def test_the_summary_counts_live_replayed_and_batch_cost_apart_and_names_unpriced_models_once() -> None:
    """Live spending, replayed 'not spent again', batch at its price; each unpriced model named once."""
    records = [
        _record("t.py::a", 0.50),
        _record("t.py::a", 0.25, replayed=True),
        _record("t.py::b", 0.09, replayed=True),
        _record("t.py::c", 0.10, replayed=True, batch=True),
        _record("t.py::d", None, model="my-model"),
        _record("t.py::d", None, model="my-model"),
        {"kind": "score", "test_id": "t.py::e", "model": "m", "confidence": 0.8, "cost_usd": 0.06},
    ]
    summary = summarize(records)
    cost = summary.cost
    assert (cost.live, cost.replayed, cost.batch) == (pytest.approx(0.56), pytest.approx(0.34), 0.10)
    assert cost.unpriced == {"my-model": 2}
    assert cost.costliest(2) == [("t.py::a", 0.75), ("t.py::c", 0.10)]
    lines = plain(summary_lines(summary))
    assert (
        "cost: live $0.56, batch $0.10 (at the batch price); replayed: $0.34 not spent again; $0.20 per call"
        in lines
    )
    assert "costliest tests: $0.75 t.py::a, $0.10 t.py::c, $0.09 t.py::b" in lines
    warnings = [line for line in lines if line.startswith("no price")]
    assert warnings == [
        "no price for 'my-model' (2 calls counted in tokens only): add it to llm_prices "
        "(MODEL INPUT CACHED_INPUT OUTPUT, dollars per million tokens)"
    ]
    assert summary.aggregates()["cost"]["live_usd"] == pytest.approx(0.56)
    assert summary.aggregates()["cost"]["unpriced_models"] == {"my-model": 2}
    assert (
        "| cost | live $0.56, batch $0.10 (at the batch price); replayed: $0.34 not spent again"
        in markdown(summary)
    )


def test_records_without_costs_add_no_cost_line() -> None:
    """Reports written before costs were kept (no cost_usd) show no cost and no warning."""
    record = _record("t.py::a", 0.0)
    del record["cost_usd"]
    summary = summarize([record])
    assert cost_summary([record]).empty
    assert not [line for line in plain(summary_lines(summary)) if "cost" in line or "price" in line]


# --- through pytest -------------------------------------------------------------------------------------

SUITE = """
def test_one(judge):
    assert judge("Is the sky blue?", "Blue.").confident_true(0.9)

def test_two(judge):
    judge("Is the sky blue?", "Azure.")
    judge("Is the sky blue?", "Navy.")
"""


@pytest.fixture
def cached(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> pytest.Pytester:
    """Three verdicts of 1,000 prompt tokens (400 cached) and 1 output token, at 1/0.5/2 dollars a million."""
    usage = {
        "prompt_tokens": 1000,
        "completion_tokens": 1,
        "total_tokens": 1001,
        "prompt_tokens_details": {"cached_tokens": 400},
    }
    fake_openai.rule("Is the sky blue?", completion([("true", 0.99), ("false", 0.01)], usage=usage))
    judged.makeini(
        f"""
        [pytest]
        llm_base_url = {fake_openai.base_url}
        llm_model = fake-judge
        llm_prices =
            fake-judge 1.00 0.50 2.00
        """
    )
    judged.makepyfile(test_suite=SUITE)
    return judged


PER_CALL = (600 * 1.00 + 400 * 0.50 + 1 * 2.00) / 1_000_000  # $0.000802


@pytest.mark.parametrize("mode", [["-p", "no:xdist"], ["-n", "2"]], ids=["no-xdist", "two-workers"])
def test_the_summary_and_reports_show_what_the_run_spent_and_what_replaying_saved(
    cached: pytest.Pytester, mode: list[str]
) -> None:
    """Live: the dollars spent, per call, per test (JUnit llm_cost_usd, JSON); replayed: not spent again."""
    live = cached.runpytest("--llm-record-mode=once", "--llm-report=live.json", "--junitxml=j.xml", *mode)
    live.assert_outcomes(passed=2)
    live.stdout.fnmatch_lines(
        [
            "tokens: live 3,003 (prompt 3,000 of which 1,200 cached, completion 3); replayed 0 *",
            "cost: live $0.0024; replayed: $0 not spent again; $0.00080 per call",
            "costliest tests: $0.0016 test_suite.py::test_two, $0.00080 test_suite.py::test_one",
        ]
    )
    data = json.loads((cached.path / "live.json").read_text())
    assert data["summary"]["cost"]["live_usd"] == pytest.approx(3 * PER_CALL)
    assert [v["cost_usd"] for v in data["verdicts"]] == [pytest.approx(PER_CALL)] * 3
    assert data["verdicts"][0]["usage"]["cached_tokens"] == 400
    junit = ET.parse(cached.path / "j.xml").getroot()
    costs = {
        case.get("name"): float(prop.get("value"))
        for case in junit.iter("testcase")
        for prop in case.iter("property")
        if prop.get("name") == "llm_cost_usd"
    }
    assert costs == {"test_one": pytest.approx(PER_CALL), "test_two": pytest.approx(2 * PER_CALL)}
    replay = cached.runpytest("--llm-record-mode=none", *mode)
    replay.assert_outcomes(passed=2)
    replay.stdout.fnmatch_lines(["cost: live $0; replayed: $0.0024 not spent again; $0.00080 per call"])


def test_an_unpriced_model_is_counted_in_tokens_and_named_once(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """A model with no price is named once in the summary, with how to add its price."""
    fake_openai.rule("Is the sky blue?", verdict(0.99, 0.01))
    judged.makepyfile(test_suite=SUITE)
    result = judged.runpytest("--llm-record-mode=once")
    out = result.stdout.str()
    assert out.count("no price for 'fake-judge'") == 1
    result.stdout.fnmatch_lines(
        ["no price for 'fake-judge' (3 calls counted in tokens only): add it to llm_prices *"]
    )


def test_a_price_file_prices_the_run_and_a_bad_one_stops_it(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """--llm-prices-file reads TOML; llm_prices lines win over it; a bad file is a usage error naming it."""
    fake_openai.rule("Is the sky blue?", verdict(0.99, 0.01))
    judged.makepyfile(test_suite=SUITE)
    (judged.path / "prices.toml").write_text('"fake-judge" = [1000.0, 1000.0]\n')
    result = judged.runpytest("--llm-record-mode=once", "--llm-prices-file=prices.toml")
    # 42 prompt tokens and 1 output token at $1,000 a million each: $0.043 a call, shown as $0.04
    result.stdout.fnmatch_lines(["cost: live $0.13; replayed: $0 not spent again; $0.04 per call"])
    (judged.path / "prices.toml").write_text('"fake-judge" = "cheap"\n')
    bad = judged.runpytest("--llm-prices-file=prices.toml")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*llm_prices_file: *prices.toml: the price of 'fake-judge' is 'cheap'; give *"])


def test_a_bad_price_line_is_a_usage_error(judged: pytest.Pytester) -> None:
    """llm_prices with a line that is not a price stops the run, naming the line and the format."""
    judged.makepyfile("def test_x(): pass")
    result = judged.runpytest("-o", "llm_prices=gpt-4.1 cheap")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*llm_prices: 'gpt-4.1 cheap' is not a price; write one model a line*"])


def _report(path: Path, records: list[dict]) -> Path:
    path.write_text(json.dumps({"version": 1, "summary": {}, "verdicts": records}))
    return path


def test_merge_adds_up_the_shards_cost_and_compare_shows_the_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """merge recomputes the cost from the verdicts; compare prints the cost now against the baseline's."""
    a = _report(tmp_path / "a.json", [_record("t.py::a", 0.30)])
    b = _report(tmp_path / "b.json", [_record("t.py::b", 0.20, replayed=True)])
    assert main(["merge", str(a), str(b), "-o", str(tmp_path / "all.json")]) == 0
    assert "cost: live $0.30; replayed: $0.20 not spent again; $0.25 per call" in capsys.readouterr().out
    merged = json.loads((tmp_path / "all.json").read_text())
    assert merged["summary"]["cost"]["live_usd"] == pytest.approx(0.30)
    new = _report(tmp_path / "new.json", [_record("t.py::a", 0.45), _record("t.py::b", 0.30)])
    assert main(["compare", str(tmp_path / "all.json"), str(new)]) == 0
    assert "cost of the judge's calls: $0.75, was $0.50 (+$0.25, +50%)" in capsys.readouterr().out


# --- the budget -------------------------------------------------------------------------------------------

BUDGET_SUITE = """
import pytest

@pytest.mark.parametrize("i", range(8))
def test_judged(judge, i):
    assert judge(f"Is answer {i} right?", "Yes.").confident_true(0.9)
"""


@pytest.fixture
def budgeted(priced: pytest.Pytester, fake_openai: FakeOpenAI) -> pytest.Pytester:
    """Eight tests, one verdict each, at $1,000 a million tokens (a call costs about $0.04)."""
    fake_openai.rule("Is answer", verdict(0.99, 0.01))
    priced.makepyfile(test_budget=BUDGET_SUITE)
    return priced


@pytest.mark.parametrize("mode", [["-p", "no:xdist"], ["-n", "2"]], ids=["no-xdist", "two-workers"])
def test_the_budget_stops_live_calls_before_the_run_spends_more(
    budgeted: pytest.Pytester, fake_openai: FakeOpenAI, mode: list[str]
) -> None:
    """--llm-max-cost: calls that would pass it are not sent, their tests fail naming the budget; the
    workers share one ledger, so the run as a whole never spends more than the limit."""
    result = budgeted.runpytest("--llm-record-mode=once", "--llm-max-cost=0.20", "--llm-report=r.json", *mode)
    outcomes = result.parseoutcomes()
    sent = len(fake_openai.requests)
    assert outcomes["passed"] == sent and outcomes["failed"] == 8 - sent
    assert 2 <= sent <= 4, sent
    spent = json.loads((budgeted.path / "r.json").read_text())["summary"]["cost"]["live_usd"]
    assert spent <= 0.20
    result.stdout.fnmatch_lines(
        [
            "*BudgetExceededError: the live judge calls of this run would pass llm_max_cost $0.20: $0.* spent*"
            "this call may cost up to $0.*. Raise the budget (--llm-max-cost=0.40 or llm_max_cost in the ini), "
            "or replay what is recorded (--llm-record-mode=none).",
            f"llm budget: $0.* of $0.20 spent on live judge calls; {8 - sent} calls not sent (llm_max_cost)",
        ]
    )


def test_replayed_calls_are_never_stopped_by_the_budget(
    budgeted: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """A budget of $0 stops every live call but none that a cassette replays."""
    first = budgeted.runpytest("--llm-record-mode=once", "-k", "judged[0] or judged[1]")
    first.assert_outcomes(passed=2)
    fake_openai.requests.clear()
    again = budgeted.runpytest("--llm-record-mode=once", "--llm-max-cost=0")
    again.assert_outcomes(passed=2, failed=6)
    assert not fake_openai.requests
    again.stdout.fnmatch_lines(
        ["llm budget: $0 of $0 spent on live judge calls; 6 calls not sent (llm_max_cost)"]
    )


def test_a_bad_budget_is_a_usage_error(pytester: pytest.Pytester) -> None:
    """--llm-max-cost takes an amount of dollars >= 0."""
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("--llm-max-cost=lots")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*llm_max_cost: 'lots' is not valid; valid values are an amount of dollars >= 0*"]
    )


def test_the_html_report_shows_what_was_spent_and_each_verdicts_cost() -> None:
    """A "spent" card (with what replaying saved), each verdict's cost in its details, unpriced models named."""
    from pytest_llmconfidence._report.html import render_html

    page = render_html(
        summarize(
            [_record("t.py::a", 0.5), _record("t.py::b", 0.25, replayed=True), _record("t.py::c", None)]
        )
    )
    assert "$0.50" in page and "spent ($0.25 replayed, not spent again)" in page
    assert "<dt>cost</dt><dd>$0.25</dd>" in page
    assert "<dt>cost</dt><dd>no price for this model</dd>" in page
    assert "no price for &#x27;m&#x27; (1 call counted in tokens only)" in page


def test_a_cascade_verdict_costs_every_model_it_asked() -> None:
    """A verdict that escalated through a cascade costs each step's tokens at that step's model's price."""
    table = PriceTable()
    usage = {"prompt_tokens": 1_000_000, "completion_tokens": 0}
    record = {
        "model": "gpt-4.1",
        "usage": usage,
        "cascade": [{"model": "gpt-4.1-mini", "usage": usage}, {"model": "gpt-4.1", "usage": usage}],
    }
    assert table.record_cost(record) == pytest.approx(0.40 + 2.00)
    record["cascade"][0]["model"] = "my-model"
    assert table.record_cost(record) is None
