#!/usr/bin/env bash
# The support matrix: the unit tests at the declared dependency floors (resolved from pyproject.toml)
# on the oldest supported Python, and at the newest versions on the newer Pythons; then the sdist and
# wheel are built and checked, and the wheel, installed without any extra into a clean environment,
# replays the example suite from its cassettes as a user's project would.
#
#   tools/matrix.sh            # everything (what CI runs)
#   tools/matrix.sh floors     # one leg: floors | 3.12 | 3.13 | wheel
set -euo pipefail
cd "$(dirname "$0")/.."
OLDEST=3.11
NEWER=(3.12 3.13)
work=.matrix
mkdir -p "$work"

# An interpreter of version $1: pythonX.Y on PATH, else pyenv's latest install of it.
python_for() {
  local found=""
  if command -v pyenv > /dev/null 2>&1 && found=$(pyenv latest "$1" 2> /dev/null); then
    found="$(pyenv root)/versions/$found/bin/python$1"
  elif command -v "python$1" > /dev/null 2>&1; then
    found=$(command -v "python$1")
  fi
  if [ -z "$found" ] || ! "$found" -c 'import sys' > /dev/null 2>&1; then
    echo "matrix: Python $1 is not installed (install it, e.g. with 'pyenv install $1')" >&2
    exit 1
  fi
  echo "$found"
}

# The unit tests (the end-to-end tests need the local model server of the dev extra).
unit_tests() {
  local venv=$1 label=$2
  echo "== matrix: $label: $("$venv/bin/python" -c 'import sys, importlib.metadata as m; print("Python", sys.version.split()[0], *(f"{d} {m.version(d)}" for d in ("pytest", "openai", "pluggy", "pydantic", "vcrpy", "PyYAML")))')"
  "$venv/bin/python" -m pytest -n 2 -p no:llmconfidence -p no:cacheprovider -q --ignore=tests/e2e
}

fresh_venv() {
  rm -rf "$1"
  "$2" -m venv "$1"
  "$1/bin/python" -m pip install --quiet --upgrade pip
}

floors() {
  local venv="$work/py$OLDEST-floors"
  fresh_venv "$venv" "$(python_for "$OLDEST")"
  .venv/bin/python tools/floors.py > "$work/floors.txt"
  "$venv/bin/python" -m pip install --quiet -c "$work/floors.txt" -e '.[test]'
  # Nothing resolved above a floor: the constraint file is exact, but say so where a reader looks.
  "$venv/bin/python" - "$work/floors.txt" <<'PY'
import importlib.metadata as m, sys
from packaging.version import Version
for line in open(sys.argv[1]):
    name, floor = line.strip().split("==")
    got = m.version(name)
    if Version(got) != Version(floor):
        sys.exit(f"matrix: {name} is {got}, not its declared floor {floor}")
PY
  unit_tests "$venv" "floors on Python $OLDEST"
}

newest() {
  local venv="$work/py$1-newest"
  fresh_venv "$venv" "$(python_for "$1")"
  "$venv/bin/python" -m pip install --quiet -e '.[test]'
  unit_tests "$venv" "newest on Python $1"
}

wheel() {
  rm -rf "$work/dist"
  .venv/bin/python -m build --quiet --outdir "$work/dist" . > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
  .venv/bin/twine check --strict "$work"/dist/*
  # The classifiers list exactly the Python versions this matrix tests.
  .venv/bin/python - "$work"/dist/*.whl "$OLDEST" "${NEWER[@]}" <<'PY'
import sys, zipfile
wheel, *tested = sys.argv[1:]
with zipfile.ZipFile(wheel) as archive:
    meta = next(archive.read(n).decode() for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
listed = sorted(l.rsplit("::", 1)[1].strip() for l in meta.splitlines()
                if l.startswith("Classifier: Programming Language :: Python :: 3.") and l.count("::") == 2)
if listed != sorted(tested):
    sys.exit(f"matrix: the wheel's classifiers list Python {listed}, the matrix tests {sorted(tested)}")
if f"Requires-Python: >={tested[0]}" not in meta:
    sys.exit(f"matrix: the wheel does not declare Requires-Python >={tested[0]}")
print(f"wheel metadata: Python {', '.join(listed)}; long description renders")
PY
  # The user's project lives outside this repository, so none of its configuration applies.
  local venv="$work/wheel" project
  project="$(mktemp -d)/user-project"
  fresh_venv "$venv" "$(python_for "$OLDEST")"
  "$venv/bin/python" -m pip install --quiet "$work"/dist/*.whl
  mkdir -p "$project/cassettes"
  cp -r examples "$project/"
  cp -r cassettes/examples "$project/cassettes/"
  local status=0
  local python="$PWD/$venv/bin/python"
  # The main job's command: the checks that fail on purpose are expected failures, so the run is green.
  (cd "$project" && CI=true "$python" -m pytest examples -p no:cacheprovider --llm-watch) > "$work/wheel.log" 2>&1 || status=$?
  if [ "$status" -ne 0 ] || ! grep -q "replayed, 0 live" "$work/wheel.log" || grep -q "CassetteMissError" "$work/wheel.log"; then
    cat "$work/wheel.log"
    echo "matrix: the installed wheel did not replay the example suite from its cassettes" >&2
    exit 1
  fi
  echo "== matrix: wheel: installed without extras, replayed: $(grep -E "verdicts? in" "$work/wheel.log" | head -1)"
}

case "${1:-all}" in
  floors) floors ;;
  wheel) wheel ;;
  3.*) newest "$1" ;;
  all)
    floors
    for version in "${NEWER[@]}"; do newest "$version"; done
    wheel
    ;;
  *) echo "usage: tools/matrix.sh [all|floors|3.12|3.13|wheel]" >&2; exit 2 ;;
esac
