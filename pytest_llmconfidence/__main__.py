"""``pytest-llmconfidence calibrate REPORT.json``: the calibration report of a run's labelled verdicts."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pytest-llmconfidence",
        description="Tools for pytest-llmconfidence reports.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    calibrate = commands.add_parser(
        "calibrate",
        help="measure calibration of labelled verdicts in a JSON report (--llm-report) and fit a map",
        description=(
            "Reads the verdicts that carry an expected label (judge(..., expected=True/False)), and the "
            "labelled scores, from a JSON report written by --llm-report; prints per model accuracy, ECE, "
            "Brier and AUROC with seeded bootstrap 95 % intervals, what they say in words, and the "
            "thresholds that were right 90, 95 and 99 % of the time; fits a calibration map on a training "
            "split (refused when it would invert the ranking, is flat, or has too few labelled verdicts) "
            "and measures it on the held-out split."
        ),
    )
    calibrate.add_argument("report", type=Path, help="the JSON report of a run (--llm-report=PATH)")
    calibrate.add_argument("--method", choices=("platt", "isotonic"), default="platt", help="default: platt")
    calibrate.add_argument("--bins", type=int, default=10, help="equal-mass bins for ECE (default: 10)")
    calibrate.add_argument(
        "--seed", type=int, default=0, help="seed of the held-out split and the bootstrap (default: 0)"
    )
    calibrate.add_argument(
        "--resamples", type=int, default=1000, help="bootstrap resamples per interval (default: 1000)"
    )
    calibrate.add_argument(
        "--train-fraction", type=float, default=0.5, help="share of verdicts used to fit (default: 0.5)"
    )
    calibrate.add_argument(
        "--out",
        type=Path,
        default=None,
        help="write the fitted maps here (use it as llm_calibration_file); refused maps are not written",
    )
    calibrate.add_argument("--json", type=Path, default=None, help="write the metrics as JSON here")
    return parser


def _load_records(path: Path) -> list[dict[str, object]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        hint = f"write it with `pytest --llm-report={path}`"
        raise SystemExit(f"error: {path} does not exist; {hint}") from None
    except (OSError, ValueError) as exc:
        raise SystemExit(f"error: {path} is not a JSON report: {exc}") from None
    verdicts = data.get("verdicts") if isinstance(data, dict) else None
    if not isinstance(verdicts, list):
        raise SystemExit(f"error: {path} has no 'verdicts' list; is it a report written by --llm-report?")
    scores = data.get("scores")
    records = [*verdicts, *(scores if isinstance(scores, list) else ())]
    return [record for record in records if isinstance(record, dict)]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from . import _calibration

    if args.bins < 1:
        raise SystemExit("error: --bins must be 1 or more")
    if not 0.0 < args.train_fraction < 1.0:
        raise SystemExit("error: --train-fraction must be between 0 and 1")
    if args.resamples < 1:
        raise SystemExit("error: --resamples must be 1 or more")
    records = _load_records(args.report)
    reports = _calibration.calibration_report(
        records,
        method=args.method,
        bins=args.bins,
        seed=args.seed,
        train_fraction=args.train_fraction,
        resamples=args.resamples,
    )
    for line in _calibration.report_lines(reports):
        print(line)
    if args.out is not None:
        maps = {r.model: r.map for r in reports if r.map is not None and r.question == _calibration.VERDICTS}
        for report in reports:
            if report.question == _calibration.VERDICTS and report.map is None:
                print(f"no map written for {report.model}: {report.map_sentence}", file=sys.stderr)
        if not maps:
            print("no map fitted: nothing written to", args.out, file=sys.stderr)
            return 1
        _calibration.save_maps(args.out, maps)
        print(f"calibration map written to {args.out} (set llm_calibration_file to use it)")
    if args.json is not None:
        from ._files import write_atomic

        write_atomic(args.json, json.dumps([r.to_dict() for r in reports], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
