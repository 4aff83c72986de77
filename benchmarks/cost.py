"""Cost: prompt and completion tokens per verdict, per score and per choice, read from recorded `usage`.

Verdicts: every cassette under cassettes/ (the example suite and the labelled set, recorded from a real
model). Scores and choices: the example suite replayed offline with `--llm-report`, whose records say which
kind each call was (a recorded request alone cannot tell a word scale from single-word options). Goal: 1
completion token per verdict; per score and choice at most 2 (a label such as "10" may take two tokens).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml
from _common import ROOT, clean_env, pytest_cmd

GRADED_GOAL = "<= 2 completion tokens"


def _bodies(cassette: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(cassette.read_text(encoding="utf-8")) or {}
    out = []
    for interaction in data.get("interactions", []):
        request = interaction.get("request", {})
        if not str(request.get("uri", "")).endswith("/chat/completions"):
            continue
        try:
            sent = json.loads(request.get("body") or "{}")
        except ValueError:
            continue
        # One-word verdicts only (the judge's default max_tokens=1): scores and choices are counted by
        # run_graded, and an app's own calls recorded beside the judge's are not verdicts.
        if not sent.get("logprobs") or sent.get("max_tokens") != 1:
            continue
        body = interaction.get("response", {}).get("body", {})
        text = body.get("string", "") if isinstance(body, dict) else body
        try:
            out.append(json.loads(text))
        except (TypeError, ValueError):
            continue
    return out


def run(cassette_dir: Path = ROOT / "cassettes") -> dict[str, Any]:
    prompt, completion = [], []
    for cassette in sorted(cassette_dir.rglob("*.yaml")):
        for body in _bodies(cassette):
            usage = body.get("usage") or {}
            if "completion_tokens" in usage:
                prompt.append(int(usage.get("prompt_tokens", 0)))
                completion.append(int(usage["completion_tokens"]))
    if not completion:
        return {"name": "cost per verdict", "verdicts": 0, "ratio": None, "goal": "1 completion token"}
    return {
        "name": "cost per verdict",
        "verdicts": len(completion),
        "prompt_tokens_mean": statistics.mean(prompt),
        "completion_tokens_mean": statistics.mean(completion),
        "completion_tokens_max": max(completion),
        "ratio": statistics.mean(completion) / 1.0,
        "goal": "1 completion token",
    }


def run_graded(suite: Path = ROOT / "examples") -> list[dict[str, Any]]:
    """Tokens per score and per choice of ``suite``, replayed offline (``--llm-record-mode=none``)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        args = pytest_cmd(
            str(suite), "--llm-record-mode=none", "--llm-watch", f"--llm-report={report}", "-p", "no:xdist"
        )
        # The report is written whatever the outcomes (a suite may have failing tests).
        done = subprocess.run(args, cwd=ROOT, env=clean_env(CI="true"), capture_output=True, text=True)
        if not report.exists():
            raise RuntimeError(
                f"{' '.join(args)} wrote no report ({done.returncode}):\n{done.stdout[-3000:]}"
            )
        data = json.loads(report.read_text(encoding="utf-8"))
    results = []
    for kind in ("score", "choice"):
        usages = [r["usage"] for r in data.get(f"{kind}s", []) if r.get("usage")]
        prompt = [int(u.get("prompt_tokens", 0)) for u in usages]
        completion = [int(u.get("completion_tokens", 0)) for u in usages]
        result: dict[str, Any] = {"name": f"cost per {kind}", "unit": kind, "count": len(completion)}
        result["goal"] = GRADED_GOAL
        if completion:
            result.update(
                prompt_tokens_mean=statistics.mean(prompt),
                completion_tokens_mean=statistics.mean(completion),
                completion_tokens_max=max(completion),
                ratio=statistics.mean(completion) / 2.0,
            )
        else:
            result["ratio"] = None
        results.append(result)
    return results


def describe(result: dict[str, Any]) -> str:
    """One line: how many recorded calls of the kind, and their tokens."""
    unit = result.get("unit", "verdict")
    count = result.get("count", result.get("verdicts", 0))
    if not count:
        return f"no recorded {unit}s"
    return (
        f"{count} recorded {unit}{'s' if count != 1 else ''}: {result['prompt_tokens_mean']:.1f} prompt tokens "
        f"and {result['completion_tokens_mean']:.2f} completion tokens each (max {result['completion_tokens_max']})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cassette-dir", type=Path, default=ROOT / "cassettes")
    parser.add_argument(
        "--suite", type=Path, default=ROOT / "examples", help="replayed for scores and choices"
    )
    args = parser.parse_args()
    for r in [run(args.cassette_dir), *run_graded(args.suite)]:
        print(f"{r['name']}: {describe(r)} (goal {r['goal']})")


if __name__ == "__main__":
    main()
