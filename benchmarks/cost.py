"""Cost: prompt and completion tokens per verdict, read from the `usage` of recorded verdicts.

Reads every cassette under cassettes/ (the example suite and the labelled set, recorded from a real model)
and reports tokens per judge call. Goal: 1 completion token per verdict.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

import yaml
from _common import ROOT


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
        if not sent.get("logprobs"):
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cassette-dir", type=Path, default=ROOT / "cassettes")
    r = run(parser.parse_args().cassette_dir)
    if not r["verdicts"]:
        print("cost per verdict: no recorded verdicts found")
        return
    print(
        f"{r['name']}: {r['verdicts']} verdicts, prompt {r['prompt_tokens_mean']:.1f} tokens, "
        f"completion {r['completion_tokens_mean']:.2f} tokens (max {r['completion_tokens_max']}; goal {r['goal']})"
    )


if __name__ == "__main__":
    main()
