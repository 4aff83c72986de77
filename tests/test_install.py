"""The install line of the docs, as a user runs it: the wheel `make dist` builds installs and works.

The wheel is built once (``python -m build --wheel --no-isolation``: the build command of ``make dist``,
offline) and installed with pip, without its dependencies, into a fresh virtual environment that borrows
this one's packages (so nothing is downloaded); the plugin the run loads is the installed wheel's.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of this checkout, built as `make dist` builds it (needs hatchling, from the dev extra)."""
    if importlib.util.find_spec("hatchling") is None or importlib.util.find_spec("build") is None:
        pytest.skip("building the wheel needs build and hatchling (`make test` installs both)")
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = out.glob("pytest_llmconfidence-*.whl")
    return built


def test_the_built_wheel_installs_and_replays_the_example_suite(wheel: Path, tmp_path: Path) -> None:
    """`pip install dist/pytest_llmconfidence-*.whl`: the plugin loads from the wheel and the examples replay."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps"]
    done = subprocess.run([*install, "--no-index", str(wheel)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    found = subprocess.run(
        [str(python), "-c", "import site; print(site.getsitepackages()[0])"], capture_output=True, text=True
    )
    # The dependencies come from this environment (a path entry: its own .pth files, the checkout's
    # editable install among them, are not read).
    (Path(found.stdout.strip()) / "dependencies.pth").write_text(site.getsitepackages()[0] + "\n")
    project = tmp_path / "project"
    shutil.copytree(ROOT / "examples", project / "examples")
    shutil.copytree(ROOT / "cassettes" / "examples", project / "cassettes" / "examples")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "OPENAI_API_KEY", "PYTHONPATH")}
    env.update(CI="true", OPENAI_BASE_URL="http://127.0.0.1:9/v1")
    where = subprocess.run(
        [str(python), "-c", "import pytest_llmconfidence; print(pytest_llmconfidence.__file__)"],
        capture_output=True,
        text=True,
        cwd=project,
        env=env,
    )
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr
    run = subprocess.run(
        [
            str(python),
            "-m",
            "pytest",
            "examples",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:asyncio",
            "--llm-watch",
        ],
        capture_output=True,
        text=True,
        cwd=project,
        env=env,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "20 verdicts in 17 tests: 20 replayed, 0 live" in run.stdout
