"""Regenerate the HTML report's screenshots in docs/img/ with headless Chromium.

Replays the example suite offline twice: once to write a JSON report, then, against a copy of that report
with a few verdicts moved (as if the model had drifted since), with ``--llm-baseline`` and ``--llm-html``,
so the page shows every section. Chromium photographs its top 1200 and 700 pixels wide; with Pillow
installed, a third picture shows the baseline comparison at the page's end, and every picture's colours
are reduced to keep the files small.

    python tools/screenshots.py [--chromium PATH] [--keep DIR]

Needs a Chromium (``chromium``, ``chromium-browser`` or ``google-chrome`` on PATH); it is not a
dependency of the project, and neither the test suite nor CI runs this script.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "img"
SHOTS = (("html-report.png", 1200, 1500, False), ("html-report-700.png", 700, 1700, False))
"""File name, window width, the height kept of the picture, and whether it is the page's end."""
BASELINE_SHOT = ("html-report-baseline.png", 1200, 620, True)
"""The baseline comparison, the last section of the page (cut from a tall picture: needs Pillow)."""


def run_examples(*args: str) -> None:
    """The example suite replayed from its cassettes, the app's calls watched, as `make examples` runs it."""
    env = {**os.environ, "CI": "true"}
    env.pop("OPENAI_API_KEY", None)
    command = [sys.executable, "-m", "pytest", "examples", "-q", "-p", "no:cacheprovider", "--llm-watch"]
    command += args
    status = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, check=False).returncode
    if status != 0:
        raise SystemExit(f"the example suite ended with status {status}: {' '.join(command)}")


def drifted(report: Path, baseline: Path) -> None:
    """A copy of ``report`` as an earlier run might have written it: one verdict flipped, two moved."""
    data = json.loads(report.read_text(encoding="utf-8"))
    decided = [v for v in data["verdicts"] if v.get("value") is not None]
    if len(decided) >= 3:
        flipped, fell, rose = decided[0], decided[1], decided[2]
        flipped["value"] = not flipped["value"]
        fell["confidence"] = min(1.0, fell["confidence"] + 0.3)
        rose["confidence"] = max(0.0, rose["confidence"] - 0.2)
    baseline.write_text(json.dumps(data), encoding="utf-8")


def chromium(given: str | None) -> str:
    for name in (given, "chromium", "chromium-browser", "google-chrome"):
        found = name and shutil.which(name)
        if found:
            return found
    raise SystemExit("no Chromium found: install one (e.g. apt-get install chromium) or pass --chromium PATH")


def screenshot(browser: str, page: Path, out: Path, width: int, keep_height: int, end: bool) -> None:
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--screenshot={out}",
        f"--window-size={width},{8000 if end else keep_height}",
        page.as_uri(),
    ]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(out) as image:
        picture = image.convert("RGB")
    if end:  # keep the last keep_height pixels of content, above the blank rest of the window
        rows = picture.convert("L").point(lambda v: 255 if v < 250 else 0).getbbox()
        bottom = rows[3] + 24 if rows else picture.height
        picture = picture.crop((0, max(0, bottom - keep_height), width, bottom))
    picture.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", help="the Chromium executable (default: found on PATH)")
    parser.add_argument("--keep", type=Path, help="write the reports into this folder and keep them")
    options = parser.parse_args()
    browser = chromium(options.chromium)
    work = options.keep or Path(tempfile.mkdtemp(prefix="llm-screenshots-"))
    work.mkdir(parents=True, exist_ok=True)
    run_examples(f"--llm-report={work / 'run.json'}")
    drifted(work / "run.json", work / "earlier.json")
    page = work / "report.html"
    run_examples(f"--llm-baseline={work / 'earlier.json'}", f"--llm-html={page}")
    try:
        import PIL  # noqa: F401
    except ImportError:
        shots = SHOTS
    else:
        shots = (*SHOTS, BASELINE_SHOT)
    for name, width, height, end in shots:
        screenshot(browser, page, IMAGES / name, width, height, end)
        print(f"{IMAGES / name}: {(IMAGES / name).stat().st_size // 1024} KB")
    if options.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
