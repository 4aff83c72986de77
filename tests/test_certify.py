"""Certified thresholds: the binomial maths against scipy, the guarantee checked over many seeded labelled
sets of a judge whose accuracy curve is known, the sentences, the command and the checks that use them."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, Reply, verdict
from scipy.stats import beta, binom

from pytest_llmconfidence._calibration.certify import (
    Certificate,
    Certified,
    binomial_tail,
    certify,
    certify_counts,
    lower_bound,
    start_count,
)
from pytest_llmconfidence._calibration.fit import load_calibration
from pytest_llmconfidence._calibration.labelled import Labelled, score_question
from pytest_llmconfidence._calibration.metrics import candidates_of
from pytest_llmconfidence._scoring.graded import Choice, Score
from pytest_llmconfidence._scoring.results import Verdict


@pytest.mark.parametrize(
    ("k", "n", "p"), [(1, 1, 0.9), (22, 22, 0.9), (55, 59, 0.9), (930, 1000, 0.9), (3, 40, 0.2)]
)
def test_binomial_tail_and_lower_bound_match_scipy(k: int, n: int, p: float) -> None:
    """P(X >= k) is scipy's binom.sf(k - 1) and the lower bound is the Clopper-Pearson one, to 1e-9."""
    assert binomial_tail(k, n, p) == pytest.approx(binom.sf(k - 1, n, p), abs=1e-10)
    assert lower_bound(k, n, 0.1) == pytest.approx(beta.ppf(0.1, k, n - k + 1), abs=1e-9)


def test_the_first_threshold_tested_needs_enough_verdicts_for_a_few_errors() -> None:
    """For 90 % at delta 0.1, a perfect record needs 22 verdicts, and the sequence starts where one wrong
    in twenty would pass: 78 verdicts; for 95 %, 158; for 99 %, 926."""
    assert binomial_tail(22, 22, 0.9) <= 0.1 < binomial_tail(21, 21, 0.9)
    assert [start_count(a) for a in (0.9, 0.95, 0.99)] == [78, 158, 926]


def synthetic(seed: int, n: int) -> tuple[list[float], list[bool]]:
    """A judge whose confidence c is uniform on [0.5, 1] and right with probability c: verdicts at or above
    t are right (1 + t) / 2 of the time."""
    rnd = random.Random(seed)
    confidences = [0.5 + 0.5 * rnd.random() for _ in range(n)]
    return confidences, [rnd.random() < c for c in confidences]


@pytest.mark.parametrize(("accuracy", "n"), [(0.9, 1000), (0.95, 3000)])
def test_the_certified_threshold_reaches_its_accuracy_in_at_least_1_minus_delta_of_labelled_sets(
    accuracy: float, n: int
) -> None:
    """Over 200 seeded labelled sets, the true accuracy at the certified threshold falls short of the target
    in no more than delta of them (0.1, within binomial slack: at most 34 of 200, the 99.9 % quantile),
    and the coverage is not vacuous: on average over half of what an oracle knowing the curve would get."""
    sets, delta = 200, 0.1
    misses = 0
    coverages = []
    for seed in range(sets):
        confidences, correct = synthetic(seed, n)
        candidates = candidates_of(confidences, correct)
        chosen, *_ = certify_counts(candidates, n, accuracy, delta)
        if chosen is None:
            coverages.append(0.0)
            continue
        threshold, reaching, _ = candidates[chosen]
        misses += (1 + threshold) / 2 < accuracy
        coverages.append(reaching / n)
    oracle = 1 - (2 * accuracy - 1 - 0.5) / 0.5
    assert misses <= binom.ppf(0.999, sets, delta)
    assert sum(coverages) / sets > 0.5 * oracle


def test_a_point_estimate_threshold_misses_about_half_the_time_where_the_certificate_does_not() -> None:
    """The lowest threshold whose labelled verdicts were right 90 % of the time (the point estimate) has a
    true accuracy below 90 % in far more sets than delta; the certified one does not."""
    point_misses = certified_misses = 0
    for seed in range(100):
        confidences, correct = synthetic(seed, 1000)
        candidates = candidates_of(confidences, correct)
        point = [t for t, count, right in candidates if right >= 0.9 * count]
        point_misses += bool(point) and (1 + point[-1]) / 2 < 0.9
        chosen, *_ = certify_counts(candidates, 1000, 0.9)
        certified_misses += chosen is not None and (1 + candidates[chosen][0]) / 2 < 0.9
    assert point_misses >= 30
    assert certified_misses <= 20


def labelled(confidences: list[float], correct: list[bool], model: str = "judge-a") -> list[Labelled]:
    return [
        Labelled(model, f"t{i}", ok, True, c, c, 1.0)
        for i, (c, ok) in enumerate(zip(confidences, correct, strict=True))
    ]


def test_a_certificate_names_its_threshold_coverage_and_guarantee() -> None:
    """The certificate of 2,000 verdicts of the synthetic judge: a threshold near 0.85, its coverage, and
    the sentence that says what it guarantees."""
    certificate = certify(labelled(*synthetic(0, 2000)), 0.9)
    assert certificate.threshold is not None and 0.8 <= certificate.threshold <= 0.9
    assert certificate.coverage == pytest.approx(certificate.reaching / 2000)
    assert certificate.to_dict() == {
        "accuracy": 0.9,
        "delta": 0.1,
        "threshold": certificate.threshold,
        "coverage": certificate.coverage,
        "n": 2000,
        "reaching": certificate.reaching,
        "right": certificate.right,
    }
    assert certificate.sentence().startswith(
        f"certified 90 % right (delta 0.10): confidence >= {certificate.threshold:.{certificate.digits}f}, "
        f"coverage {certificate.coverage:.2f} ({certificate.reaching:,} of 2,000 verdicts reach it"
    )
    assert certificate.sentence().endswith(
        "with 90 % confidence, verdicts at or above it are right at least 90 % of the time)"
    )


def test_too_few_labelled_verdicts_say_how_many_would_do() -> None:
    """300 verdicts of a judge that could be certified: no threshold, and about how many would do (rounded
    up to two digits); 200, whose best share is below the target: label more."""
    certificate = certify(labelled(*synthetic(1, 300)), 0.95)
    assert certificate.threshold is None and certificate.coverage == 0
    assert certificate.needed == 565
    assert certificate.sentence() == (
        "95 % right (delta 0.10) cannot be certified from these 300 verdicts: about 570 labelled verdicts like "
        "these would do (a certificate needs at least 158 decided verdicts above it)"
    )
    fewer = certify(labelled(*synthetic(1, 200)), 0.95)
    assert fewer.sentence() == (
        "95 % right (delta 0.10) cannot be certified from these 200 verdicts: a certificate needs at least 158 "
        "decided verdicts above its threshold, mostly right (at best 0.932 of its most confident verdicts are "
        "right); label more verdicts"
    )


def test_a_judge_never_right_often_enough_is_told_that_more_labels_will_not_help() -> None:
    """A judge right 60 % of the time at every confidence: no certificate, and no number of labels."""
    rnd = random.Random(3)
    confidences = [rnd.random() for _ in range(500)]
    certificate = certify(labelled(confidences, [rnd.random() < 0.6 for _ in confidences]), 0.9)
    assert certificate.threshold is None and certificate.needed is None
    assert "so more labelled verdicts like these would not do; a better judge or prompt would" in (
        certificate.sentence()
    )


def test_undecided_verdicts_count_in_n_but_reach_no_threshold() -> None:
    """Undecided verdicts are in n (the coverage's denominator) and never above the threshold."""
    items = labelled(*synthetic(0, 2000))
    undecided = [Labelled("judge-a", f"u{i}", True, None, 0.0, 0.5, 0.0) for i in range(500)]
    with_undecided = certify(items + undecided, 0.9)
    alone = certify(items, 0.9)
    assert with_undecided.n == 2500 and with_undecided.reaching == alone.reaching
    assert with_undecided.coverage == pytest.approx(alone.reaching / 2500)


def report_of(path: Path, n: int = 2000) -> Path:
    """A JSON report of labelled verdicts by the synthetic judge, and labelled choices of another model."""
    confidences, correct = synthetic(0, n)
    verdicts = []
    for i, (c, ok) in enumerate(zip(confidences, correct, strict=True)):
        truth = i % 2 == 0
        value = truth if ok else not truth
        p_true = c if value else 1 - c
        verdicts.append(
            {
                "test_id": f"t{i}",
                "question": f"q{i}",
                "model": "judge-a",
                "value": value,
                "confidence": c,
                "p_true": p_true,
                "p_false": 1 - p_true,
                "coverage": 1.0,
                "expected": truth,
                "checks": [],
            }
        )
    choices = [
        {
            "kind": "choice",
            "test_id": f"c{i}",
            "question": f"pick {i}",
            "model": "chooser",
            "value": "A" if ok else "B",
            "confidence": c,
            "expected_option": "A",
            "checks": [],
        }
        for i, (c, ok) in enumerate(zip(confidences, correct, strict=True))
    ]
    path.write_text(json.dumps({"verdicts": verdicts, "choices": choices}))
    return path


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_llmconfidence", *args], capture_output=True, text=True, check=False
    )


def test_calibrate_certify_prints_writes_json_and_the_calibration_file(tmp_path: Path) -> None:
    """--certify 0.9 0.95: per model (and for choices) the certificates in words, in --json and in --out."""
    report = report_of(tmp_path / "report.json")
    out, metrics = tmp_path / "cal.json", tmp_path / "metrics.json"
    done = run_cli(
        "calibrate", str(report), "--certify", "0.9", "0.95", "--resamples", "20", "--json", str(metrics),
        "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "  certified thresholds (fixed-sequence test, exact binomial bound):" in done.stdout
    assert "    certified 90 % right (delta 0.10): confidence >= 0.8" in done.stdout
    assert "model chooser, choices: 2000 labelled choices (" in done.stdout
    entries = {(e["model"], e["question"]): e for e in json.loads(metrics.read_text())}
    certified = entries["judge-a", "verdicts"]["certified"]
    assert [(c["accuracy"], c["delta"], c["n"]) for c in certified] == [(0.9, 0.1, 2000), (0.95, 0.1, 2000)]
    assert certified[0]["threshold"] is not None and certified[0]["coverage"] > 0.2
    maps, certificates = load_calibration(out)
    assert set(maps) == {"judge-a"}
    held = certificates["judge-a"]["verdicts"]
    assert held[0].threshold == certified[0]["threshold"] and held[0].n == 2000
    assert certificates["chooser"]["choices"][0].accuracy == 0.9
    assert f"calibration map and certified thresholds written to {out}" in done.stdout


def test_calibrate_certify_rejects_an_accuracy_outside_0_to_1(tmp_path: Path) -> None:
    """--certify 90 is a usage error that says what an accuracy looks like."""
    done = run_cli("calibrate", str(report_of(tmp_path / "r.json", 50)), "--certify", "90")
    assert done.returncode == 2
    assert "--certify takes a number between 0 and 1 (such as 0.9), got '90'" in done.stderr


CERTIFICATE = Certificate(0.9, 0.1, 0.94, 0.5, 1500, 750, 700)
LOOKUP = Certified({"m": {"verdicts": [CERTIFICATE]}}, "calibration.json")


def a_verdict(value: bool | None, confidence: float, lookup: Certified | None = LOOKUP) -> Verdict:
    p_true = confidence if value else 1 - confidence
    verdict = Verdict(
        value=value,
        confidence=confidence,
        normalized=confidence,
        p_true=p_true,
        p_false=1 - p_true,
        coverage=1.0,
        token="true" if value else "false",
        question="Is it so?",
        model="m",
        threshold=0.9,
    )
    verdict._certificates = lookup
    return verdict


def test_a_certified_check_names_threshold_accuracy_delta_and_n() -> None:
    """Below the certified threshold the check fails, and its repr says by how much and what it certifies."""
    check = a_verdict(True, 0.91).confident_true(certified=0.9)
    assert not check
    assert repr(check) == (
        "<confident_true failed: true at 0.91, below 0.94 certified for 90 % accuracy (delta 0.10, 1,500 "
        "labelled); q='Is it so?'>"
    )
    assert check.to_dict()["certified"] == {"accuracy": 0.9, "delta": 0.1, "n": 1500}
    assert check.threshold == 0.94
    passed = a_verdict(True, 0.95).confident_true(certified=0.9)
    assert passed and repr(passed).startswith(
        "<confident_true passed: true at 0.95, at or above 0.94 certified"
    )
    wrong = a_verdict(False, 0.99).confident_true(certified=0.9)
    assert not wrong and "false at 0.99, needed true at or above 0.94 certified" in repr(wrong)


def test_a_certified_check_without_a_certificate_says_how_to_make_one() -> None:
    """No calibration file, or none for that accuracy: an error naming the command that makes one."""
    with pytest.raises(ValueError, match="needs certified thresholds: set llm_calibration_file"):
        a_verdict(True, 0.99, lookup=None).confident_true(certified=0.9)
    with pytest.raises(ValueError) as info:
        a_verdict(True, 0.99).confident_false(certified=0.95)
    assert str(info.value).startswith(
        "confident_false(certified=0.95) needs a certified threshold for 95 % accuracy of model 'm', and "
        "calibration.json has none; it holds 90 %."
    )
    assert "`pytest-llmconfidence calibrate report.json --certify 0.95 --out calibration.json`" in str(
        info.value
    )
    with pytest.raises(ValueError, match="not both"):
        a_verdict(True, 0.99).confident_true(0.8, certified=0.9)


def test_llm_certified_is_the_default_of_checks_without_a_threshold() -> None:
    """With a default accuracy, confident_true() is certified; a threshold given still wins."""
    lookup = Certified({"m": {"verdicts": [CERTIFICATE]}}, "calibration.json", default=0.9)
    verdict = a_verdict(True, 0.92, lookup)
    assert not verdict.confident_true() and "certified for 90 %" in repr(verdict.checks[0])
    assert verdict.confident_true(0.9)


def test_scores_and_choices_take_certified_checks() -> None:
    """at_least(k, certified=) reads the "score >= k" certificate; confident(o, certified=) the choices'."""
    question = score_question("4", ["1", "2", "3", "4", "5"])
    lookup = Certified(
        {"m": {question: [CERTIFICATE], "choices": [Certificate(0.9, 0.1, 0.8, 0.6, 300, 180, 170)]}},
        "calibration.json",
    )
    common = {"coverage": 1.0, "token": "4", "question": "How good?", "model": "m", "threshold": 0.9}
    score = Score(
        value=4,
        confidence=0.6,
        distribution={1: 0, 2: 0, 3: 0.04, 4: 0.6, 5: 0.36},
        scale=(1, 2, 3, 4, 5),
        **common,
    )
    score._certificates = lookup
    assert score.at_least(4, certified=0.9)
    low = score.at_least(5, confidence=0.3)
    assert low
    choice = Choice(
        value="A",
        confidence=0.7,
        distribution={"A": 0.7, "B": 0.3},
        options=("A", "B"),
        labels=("A", "B"),
        **common,
    )
    choice._certificates = lookup
    check = choice.confident("A", certified=0.9)
    assert (
        not check
        and "'A' at 0.70, below 0.80 certified for 90 % accuracy (delta 0.10, 300 labelled)" in repr(check)
    )


def certificates_file(path: Path, *models: str) -> Path:
    entry = {"accuracy": 0.9, "delta": 0.1, "threshold": 0.94, "coverage": 0.5, "n": 1500}
    data = {"version": 1, "models": {}, "certified": {model: {"verdicts": [entry]} for model in models}}
    path.write_text(json.dumps(data))
    return path


def test_a_run_with_llm_certified_holds_checks_to_the_certified_threshold(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """llm_certified = 0.9 with a calibration file: confident_true() is held to the model's certified
    threshold, the failure names it, and the summary and the JSON report count certified checks."""
    fake_openai.rule("sure\n", Reply(verdict(0.97, 0.02)))
    fake_openai.rule("unsure\n", Reply(verdict(0.91, 0.08)))
    certificates_file(judged.path / "cal.json", "fake-judge")
    judged.makepyfile(
        """
        def test_sure(judge):
            assert judge("sure").confident_true()

        def test_unsure(judge):
            assert judge("unsure").confident_true()

        def test_explicit_threshold_wins(judge):
            assert judge("unsure").confident_true(0.9)
        """
    )
    result = judged.runpytest(
        "--llm-calibration-file=cal.json", "-o", "llm_certified=0.9", "--llm-report=report.json"
    )
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*<confident_true failed: true at 0.91, below 0.94 certified for 90 % accuracy (delta 0.10, "
            "1,500 labelled); q='unsure'>*",
            "certified checks: 2 for 90 % accuracy (1 failed)",
            "*[[]certified 90 %[]]*unsure*",
        ]
    )
    summary = json.loads((judged.path / "report.json").read_text())["summary"]
    assert summary["certified_checks"] == {"90 %": {"checks": 2, "failed": 1}}


def test_llm_certified_without_a_calibration_file_is_a_usage_error(pytester: pytest.Pytester) -> None:
    """llm_certified needs certificates: the run stops and says how to make them."""
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("-o", "llm_certified=0.9")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*llm_certified needs certified thresholds: set llm_calibration_file to a file written by*--certify*"
        ]
    )
    bad = pytester.runpytest("-o", "llm_certified=90")
    bad.stderr.fnmatch_lines(
        ["*llm_certified: '90' is not valid; valid values are accuracies between 0 and 1*"]
    )


CASCADE_TESTS = """
def test_easy(judge):
    v = judge("easy")
    assert (v.decided_by, v.certified, [s.model for s in v.cascade]) == ("small", True, ["small"])
    assert v.confident_true(certified=0.9)

def test_hard(judge):
    v = judge("hard")
    assert (v.decided_by, v.certified, v.model) == ("large", True, "large")
    assert [(s.model, s.value, round(s.confidence, 2), s.threshold) for s in v.cascade] == [
        ("small", True, 0.7, 0.9), ("large", True, 0.85, 0.8)]
    assert v.confident_true(certified=0.9)

def test_murky(judge):
    v = judge("murky")
    assert (v.decided_by, v.certified, len(v.cascade)) == (None, False, 2)
    assert v.confident_true(certified=0.9)

def test_named_model_is_not_cascaded(judge):
    v = judge("easy", model="large")
    assert v.cascade == () and v.decided_by is None
"""


def test_the_cascade_escalates_below_the_certified_threshold_and_replays(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """llm_cascade = small large: a verdict at or above small's certified threshold is small's; below it,
    large is asked; below large's too, the cascade abstains and a certified check says so. The replay gives
    the same verdicts offline, and the summary counts per model what it decided, escalated and abstained."""
    for model, question, p_true in [
        ("small", "easy", 0.95), ("small", "hard", 0.7), ("large", "hard", 0.85), ("small", "murky", 0.6),
        ("large", "murky", 0.6), ("large", "easy", 0.97),
    ]:  # fmt: skip
        fake_openai.rule(f"{model}: {question}", Reply(verdict(p_true, 0.98 - p_true)))
    certificates = {
        model: {"verdicts": [{"accuracy": 0.9, "delta": 0.1, "threshold": t, "coverage": 0.5, "n": 800}]}
        for model, t in (("small", 0.9), ("large", 0.8))
    }
    (judged.path / "cal.json").write_text(json.dumps({"version": 1, "models": {}, "certified": certificates}))
    judged.makeconftest(
        """
        def pytest_llmconfidence_build_messages(question, response, context, config):
            return [{"role": "user", "content": f"{config.model}: {question}"}]
        """
    )
    judged.makepyfile(CASCADE_TESTS)
    options = ["--llm-calibration-file=cal.json", "-o", "llm_cascade=small large", "-p", "no:randomly"]
    for mode in ("once", "none"):
        result = judged.runpytest(*options, f"--llm-record-mode={mode}", "--llm-report=report.json")
        result.assert_outcomes(passed=3, failed=1)
        result.stdout.fnmatch_lines(
            [
                "*<confident_true failed: the cascade abstained, no model's verdict reached its certified "
                "threshold for 90 % accuracy (small true at 0.60 below 0.90; large true at 0.60 below 0.80);*",
                "cascade:    small true 0.60 < 0.90 -> large true 0.60 < 0.80; abstained: none certified",
                "cascade: small decided 1, escalated 2, abstained 0 (* tokens); large decided 1, escalated 0, "
                "abstained 1 (* tokens)",
            ]
        )
    report = json.loads((judged.path / "report.json").read_text())
    assert all(v["replayed"] for v in report["verdicts"])
    assert report["summary"]["cascade"]["large"] == {
        "decided": 1,
        "escalated": 0,
        "abstained": 1,
        "tokens": 86,
    }


def test_a_cascade_model_without_a_certificate_stops_the_run(pytester: pytest.Pytester) -> None:
    """Every model of llm_cascade needs a certificate for llm_cascade_accuracy: the run says which."""
    certificates_file(pytester.path / "cal.json", "small")
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("--llm-calibration-file=cal.json", "-o", "llm_cascade=small large")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*llm_cascade needs a certified threshold for 90 % accuracy of model 'large', and cal.json has none*"
        ]
    )
