"""Print the declared floor of every runtime dependency as a pip constraint (``name==floor``).

The support matrix installs these exactly, so what pyproject.toml promises is what the tests prove.
Each dependency must declare a floor (``>=``); one without is an error, so a new dependency cannot
slip in untested at its oldest version.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement


def floors(pyproject: Path) -> list[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    pins = []
    for text in project["dependencies"]:
        requirement = Requirement(text)
        lows = [spec.version for spec in requirement.specifier if spec.operator in (">=", "==", "~=")]
        if len(lows) != 1:
            raise SystemExit(f"{pyproject}: dependency {text!r} needs exactly one floor (>=) to test at")
        pins.append(f"{requirement.name}=={lows[0]}")
    return pins


if __name__ == "__main__":
    default = Path(__file__).resolve().parent.parent / "pyproject.toml"
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    print("\n".join(floors(path)))
