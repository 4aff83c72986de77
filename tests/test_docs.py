"""What a newcomer meets first: the README's two commands, the install lines, the docs' Python snippets.

A snippet runs as written when the line before its fence says how (``<!-- docs-snippet: KIND -->``):
``endpoint`` is a script run against the scripted endpoint (its ``http://127.0.0.1:8080/v1`` pointed
there); ``test`` is a test file run by pytest against it, the names after ``given`` (``support_bot``,
or ``my_bot.support_bot`` for a module) stubbed: they stand for the reader's app and return a reply (a
list of two for a plural name, ``faq_answers``). Every other snippet must at least compile.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, verdict

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARK = re.compile(r"<!-- docs-snippet: (\w+)(?: given ([\w, ]+))? -->")
FENCE = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
DOCS_URL = "http://127.0.0.1:8080/v1"


@dataclass(frozen=True)
class Snippet:
    page: str
    line: int
    code: str
    kind: str | None
    given: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.page}:{self.line}"


def snippets() -> list[Snippet]:
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
            mark = MARK.fullmatch(before.strip())
            given = tuple(n.strip() for n in mark.group(2).split(",")) if mark and mark.group(2) else ()
            line = text.count("\n", 0, match.start()) + 1
            name = str(page.relative_to(ROOT))
            found.append(Snippet(name, line, match.group(1), mark.group(1) if mark else None, given))
    return found


SNIPPETS = snippets()


def _of(kind: str) -> list[Snippet]:
    return [s for s in SNIPPETS if s.kind == kind]


def test_the_readme_opens_with_exactly_the_two_commands_of_the_makefile() -> None:
    """The README's first block is `make examples` and `make test`, and both are targets of the Makefile."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    title, rest = readme.split("\n", 1)
    assert title.startswith("# pytest-llmconfidence")
    first = re.match(r"\s*```sh\n(.*?)```", rest, re.DOTALL)
    assert first is not None, "the README does not open with a shell block"
    commands = [line.split("#")[0].strip() for line in first.group(1).splitlines()]
    assert commands == ["make examples", "make test"]
    targets = set(re.findall(r"^([\w.-]+):", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE))
    assert {"examples", "test"} <= targets


@pytest.mark.parametrize("page", ["README.md", "docs/quickstart.md", "docs/ci.md"])
def test_the_install_lines_work_before_the_package_is_published(page: str) -> None:
    """No page tells a newcomer to install from PyPI as if it worked today; the build command exists."""
    text = (ROOT / page).read_text(encoding="utf-8")
    assert "not on PyPI yet" in text
    commands = re.findall(r"^```(?:sh|console|yaml)\n(.*?)^```", text, re.DOTALL | re.MULTILINE)
    for line in "".join(commands).splitlines():
        if re.search(r"pip install\s+[\"']?pytest-llmconfidence\b(?! @)", line):
            pytest.fail(f"{page}: {line.strip()!r} installs from PyPI, where the package is not yet")
    if "make dist" in text:
        assert re.search(r"^dist:", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE)


def test_the_repository_url_is_a_placeholder_no_one_mistakes_for_a_real_one() -> None:
    """The git+ lines say they are placeholders: no invented host, owner or project URL."""
    for page in ("README.md", "docs/quickstart.md", "docs/ci.md"):
        for url in re.findall(r"git\+([^\s\"`]+)", (ROOT / page).read_text(encoding="utf-8")):
            assert "<" in url or "YOUR-" in url, f"{page}: {url} looks like a real URL"


def test_the_docs_import_only_public_names() -> None:
    """A snippet that imports ``pytest_llmconfidence._private`` teaches users a name that may change."""
    private = [str(s) for s in SNIPPETS if re.search(r"pytest_llmconfidence\._", s.code)]
    assert private == []


@pytest.mark.parametrize("snippet", [s for s in SNIPPETS if not s.code.lstrip().startswith(">>>")], ids=str)
def test_every_python_snippet_compiles(snippet: Snippet) -> None:
    """A snippet with a syntax error is found here, not by a reader."""
    compile(snippet.code, str(snippet), "exec")


@pytest.mark.parametrize("snippet", _of("endpoint"), ids=str)
def test_the_endpoint_snippets_run_as_written(snippet: Snippet, fake_openai: FakeOpenAI) -> None:
    """Each script runs against an OpenAI-compatible endpoint (the scripted one) and prints its figure."""
    assert DOCS_URL in snippet.code, f"{snippet}: an endpoint snippet talks to {DOCS_URL}"
    fake_openai.rule("", verdict(0.93, 0.05))
    code = snippet.code.replace(DOCS_URL, fake_openai.base_url)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0.93"


@pytest.mark.parametrize("snippet", _of("test"), ids=str)
def test_the_test_snippets_run_as_written(
    snippet: Snippet, judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test file of the docs passes against the scripted endpoint, the reader's app stubbed."""
    fake_openai.rule("", verdict(0.97, 0.02))
    builtin = [name for name in snippet.given if "." not in name]
    stub = "def {}(*args, **kwargs):\n    return 'A polite reply.'\n\n"
    stubs = "def {}(*args, **kwargs):\n    return ['A polite reply.', 'Another one.']\n\n"
    judged.makeconftest(
        "import builtins\n\n"
        + "".join((stubs if name.endswith("s") else stub).format(name) for name in builtin)
        + "".join(f"builtins.{name} = {name}\n" for name in builtin)
    )
    for module, name in (given.split(".") for given in snippet.given if "." in given):
        judged.makepyfile(**{module: stub.format(name)})
    judged.makepyfile(test_snippet=snippet.code)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)  # clients the snippet builds itself
    monkeypatch.setenv("OPENAI_API_KEY", "sk-docs-snippet-test")
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.syspath_prepend(judged.path)
    result = judged.runpytest("-p", "no:xdist", "--llm-record-mode=all")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 1 and not outcomes.get("failed") and not outcomes.get("errors"), str(
        result.stdout
    )
