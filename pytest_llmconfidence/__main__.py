"""The command line: ``calibrate REPORT.json`` (calibration of labelled verdicts), ``compare OLD NEW``
(what changed between two runs) and ``merge A B ... -o ALL`` (the reports of shards joined).

An error (a report that is missing or corrupt, an output that cannot be written) is one line on stderr
and exit status 2, as for a bad argument; ``--fail-on-drop`` and a calibration with no map exit 1. Output
piped into a reader that stops early (``| head``) ends quietly."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any


def _accuracy(option: str) -> Any:
    """An argparse type: a number strictly between 0 and 1."""

    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not 0.0 < value < 1.0:
            raise argparse.ArgumentTypeError(
                f"{option} takes a number between 0 and 1 (such as 0.9), got {text!r}"
            )
        return value

    return convert


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
    calibrate.add_argument(
        "--certify",
        type=_accuracy("--certify"),
        nargs="+",
        default=None,
        metavar="ACCURACY",
        help=(
            "per model, the lowest confidence whose verdicts are right at least this share of the time "
            "with probability 1 - delta (e.g. --certify 0.9 0.95); --out writes them beside the maps"
        ),
    )
    calibrate.add_argument(
        "--delta",
        type=_accuracy("--delta"),
        default=0.1,
        help="the chance a certificate may be wrong (default: 0.1)",
    )
    compare = commands.add_parser(
        "compare",
        help="what changed between two JSON reports: flips, confidence moves, checks now failing, new, gone",
        description=(
            "Matches the verdicts (and scores, choices, comparisons, panels) of two JSON reports by test id "
            "and question and "
            "lists, per model, the verdicts that flipped, the confidences that fell or rose by more than "
            "the margin, the checks that passed before and fail now, and the tests new or gone."
        ),
    )
    compare.add_argument("old", type=Path, help="the earlier JSON report (the baseline)")
    compare.add_argument("new", type=Path, help="the later JSON report")
    compare.add_argument("--margin", type=float, default=0.1, help="confidence move listed (default: 0.1)")
    compare.add_argument("--markdown", action="store_true", help="print Markdown instead of text")
    compare.add_argument("--html", type=Path, default=None, help="write an HTML page of the comparison here")
    compare.add_argument(
        "--fail-on-drop",
        action="store_true",
        help="exit status 1 when a verdict flipped or fell past the margin",
    )
    merge = commands.add_parser(
        "merge",
        help="join the JSON reports of shards of one suite, recomputing the aggregates from the verdicts",
    )
    merge.add_argument("reports", type=Path, nargs="+", help="the shards' JSON reports")
    merge.add_argument("-o", "--output", type=Path, required=True, help="write the merged JSON report here")
    merge.add_argument("--html", type=Path, default=None, help="write the merged HTML report here")
    merge.add_argument(
        "--allow-duplicates",
        action="store_true",
        help="keep a test id found in several reports (default: error)",
    )
    return parser


def _report(path: Path) -> dict[str, Any]:
    from ._errors import ReportFileError
    from ._report.baseline import load_report

    try:
        return load_report(path)
    except ReportFileError as exc:
        raise SystemExit(f"error: {exc}") from None


def _write(path: Path, data: str | Iterable[str], what: str) -> None:
    """Write an output file atomically, or exit with one line naming it and why it could not be written."""
    from ._files import write_atomic

    try:
        write_atomic(path, data)
    except OSError as exc:
        raise SystemExit(f"error: cannot write the {what} to {path}: {exc.strerror or exc}") from None


def _summary_number(summary: dict[str, Any], name: str, default: float, path: Path) -> float:
    value = summary.get(name, default)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise SystemExit(
            f"error: the report {str(path)!r} has summary.{name} {value!r}, not a number: "
            "give a report written with --llm-report=PATH, or mend the field."
        ) from None


def _compare(args: argparse.Namespace) -> int:
    from ._report.baseline import compare, html_section

    if not 0.0 <= args.margin <= 1.0:
        raise SystemExit("error: --margin must be between 0 and 1")
    result = compare(_report(args.old), _report(args.new), margin=args.margin)
    if args.markdown:
        text = result.markdown()
    else:
        text = "".join(
            f"{line}\n"
            for line in [f"compared {args.old} (before) with {args.new} (now)", *result.text_lines()]
        )
    sys.stdout.write(_hidden(text))
    if args.html is not None:
        from ._report.html import page

        _write(args.html, _hidden(page("llm confidence comparison", [html_section(result)])), "comparison")
        print(f"comparison written to {args.html}")
    return 1 if args.fail_on_drop and result.failing else 0


_MERGED_LISTS = ("verdicts", "responses", "app_responses", "scores", "choices", "comparisons", "panels")
"""The record lists merge joins (each list's name is its records' kind, plural)."""


def _merge(args: argparse.Namespace) -> int:
    from ._report.json_report import dump_parts, to_json
    from ._report.summary import summarize

    found: list[tuple[str, dict[str, Any]]] = []
    owner: dict[str, Path] = {}
    duplicates: dict[str, list[Path]] = {}
    band, threshold = 0.05, 0.9
    for path in args.reports:
        data = _report(path)
        summary = data.get("summary")
        if isinstance(summary, dict):
            band = _summary_number(summary, "borderline_band", band, path)
            threshold = _summary_number(summary, "threshold", threshold, path)
        here: set[str] = set()
        for name in _MERGED_LISTS:
            kind = "verdict" if name == "verdicts" else name[:-1]
            for record in data.get(name) or ():
                here.add(str(record.get("test_id", "?")))
                found.append((kind, record))
        for test_id in here:
            if test_id in owner:
                duplicates.setdefault(test_id, [owner[test_id]]).append(path)
            else:
                owner[test_id] = path
    if duplicates and not args.allow_duplicates:
        lines = [
            f"  {test_id} in {', '.join(map(str, paths))}" for test_id, paths in sorted(duplicates.items())
        ]
        raise SystemExit(
            f"error: {len(duplicates)} test ids are in more than one report (pass --allow-duplicates to keep "
            "them all):\n" + "\n".join(lines)
        )
    merged = summarize(_drained(found), band=band, threshold=threshold)
    _write(args.output, map(_hidden, _chunks(dump_parts(to_json(merged)))), "merged report")
    counts = f"{len(merged.verdicts)} verdicts in {len(owner)} tests"
    print(f"merged {len(args.reports)} reports: {counts} -> {args.output}")
    if not merged.cost.empty:
        print(merged.cost.text())
    if args.html is not None:
        from ._report.html import render_html

        _write(args.html, _hidden(render_html(merged)), "HTML report")
        print(f"HTML report written to {args.html}")
    return 0


def _hidden(text: str) -> str:
    """``text`` as every output of a command shows it: the secrets known now (the environment's keys, and
    credentials found in URLs so far) read ``***`` in every form, as in the reports of a run."""
    from ._recording.secrets import redact

    return redact(text)


def _chunks(pieces: Iterable[str], size: int = 1 << 20) -> Iterator[str]:
    """Pieces of text (whole records) joined into chunks of about ``size`` characters: fewer, longer texts
    to redact, and a secret inside a piece never cut in two."""
    chunk: list[str] = []
    length = 0
    for piece in pieces:
        chunk.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(chunk)
            chunk, length = [], 0
    if chunk:
        yield "".join(chunk)


def _drained(found: list[tuple[str, dict[str, Any]]]) -> Iterator[dict[str, Any]]:
    """The shards' records in order, each with its kind and without the flags the summary recomputes,
    each let go of as it is read: the summary keeps its own copy, so the shards' are never all held twice."""
    found.reverse()
    while found:
        kind, record = found.pop()
        clean = {"kind": kind, **record}
        clean.pop("status", None)
        clean.pop("borderline", None)
        yield clean


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
    from ._report.baseline import wrong_entry

    wrong = wrong_entry(data)
    if wrong:
        raise SystemExit(f"error: {path} is not a report as --llm-report writes it: {wrong}")
    graded = [data.get(key) for key in ("scores", "choices")]
    records = [*verdicts, *(entry for kind in graded if isinstance(kind, list) for entry in kind)]
    return [record for record in records if isinstance(record, dict)]


def cli(argv: Sequence[str] | None = None) -> int:
    """The ``pytest-llmconfidence`` command: ``main``, with an error as one line on stderr and status 2."""
    try:
        status = main(argv)
        sys.stdout.flush()  # a reader that stopped early is met here, not at interpreter exit
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(_hidden(exc.code), file=sys.stderr)
            return 2
        raise
    except BrokenPipeError:
        # `pytest-llmconfidence compare ... | head`: the reader has gone; what is left unwritten goes nowhere
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return status


def main(argv: Sequence[str] | None = None) -> int:
    from ._files import collector_paused

    args = _parser().parse_args(argv)
    with collector_paused():  # the command reads and makes millions of objects, in no cycle
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    if args.command == "compare":
        return _compare(args)
    if args.command == "merge":
        return _merge(args)
    from ._calibration import report as _calibration
    from ._calibration.fit import save_maps
    from ._calibration.labelled import VERDICTS

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
        certify_for=args.certify or (),
        delta=args.delta,
    )
    for line in _calibration.report_lines(reports):
        print(line)
    if args.out is not None:
        maps = {r.model: r.map for r in reports if r.map is not None and r.question == VERDICTS}
        for report in reports:
            if report.question == VERDICTS and report.map is None:
                print(f"no map written for {report.model}: {report.map_sentence}", file=sys.stderr)
        certified: dict[str, dict[str, Any]] = {}
        for report in reports:
            found = [c for c in report.certified if c.threshold is not None]
            if found:
                certified.setdefault(report.model, {})[report.question] = found
        if not maps and not certified:
            what = "no map fitted and no threshold certified" if args.certify else "no map fitted"
            print(f"{what}: nothing written to", args.out, file=sys.stderr)
            return 1
        save_maps(args.out, maps, certified=certified)
        written = " and ".join(
            part
            for part, present in (("calibration map", maps), ("certified thresholds", certified))
            if present
        )
        print(f"{written} written to {args.out} (set llm_calibration_file to use it)")
    if args.json is not None:
        _write(args.json, json.dumps([r.to_dict() for r in reports], indent=2) + "\n", "calibration metrics")
    return 0


if __name__ == "__main__":
    raise SystemExit(cli())
