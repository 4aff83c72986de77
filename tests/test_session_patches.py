"""vcrpy's patches, built once per process, in place exactly while a cassette is active, nesting as vcrpy's do."""

from __future__ import annotations

from typing import Any

from pytest_llmconfidence._recording import patches

try:  # the openai client's HTTP library: httpx2 for openai 3, httpx before
    import httpx2 as http
except ImportError:
    import httpx as http  # type: ignore[no-redef]

ORIGINAL = http.MockTransport.handle_request


class Listening:
    """A stand-in cassette: never replays, stores nothing, notes the paths it was asked about."""

    write_protected = False

    def __init__(self) -> None:
        self.asked: list[str] = []

    def can_play_response_for(self, request: Any) -> bool:
        self.asked.append(request.path)
        return False

    def append(self, request: Any, response: Any) -> None:
        return None


def send(path: str) -> int:
    client = http.Client(transport=http.MockTransport(lambda request: http.Response(204)))
    with client:
        return client.get(f"http://h.invalid{path}").status_code


def test_a_cassettes_patches_are_in_place_while_it_is_active_and_the_library_is_itself_after() -> None:
    """Between start and stop the cassette sees every request; after stop, the library's own method is back."""
    cassette = Listening()
    active = patches.start(cassette, patches.OPENAI)
    try:
        assert http.MockTransport.handle_request is not ORIGINAL
        assert send("/one") == 204
    finally:
        patches.stop(active)
    assert http.MockTransport.handle_request is ORIGINAL
    assert send("/two") == 204
    assert cassette.asked == ["/one"]


def test_the_innermost_active_cassette_answers_and_the_outer_one_answers_again_after_it() -> None:
    """A fixture's cassette activated inside a test's gets the requests until it stops, then the test's does."""
    outer, inner = Listening(), Listening()
    first = patches.start(outer, patches.WHOLE_TEST)
    try:
        second = patches.start(inner, patches.OPENAI)
        send("/inner")
        patches.stop(second)
        send("/outer")
    finally:
        patches.stop(first)
    assert (outer.asked, inner.asked) == (["/outer"], ["/inner"])
    assert http.MockTransport.handle_request is ORIGINAL


def test_a_cassette_that_stops_before_one_started_inside_it_leaves_the_inner_one_patched() -> None:
    """Ending out of order never unpatches a cassette still active: the last one out puts the library back."""
    outer, inner = Listening(), Listening()
    first = patches.start(outer, patches.OPENAI)
    second = patches.start(inner, patches.OPENAI)
    patches.stop(first)
    try:
        send("/still")
    finally:
        patches.stop(second)
    assert inner.asked == ["/still"] and outer.asked == []
    assert http.MockTransport.handle_request is ORIGINAL


def test_a_library_patched_over_by_another_tool_is_patched_again_inside_it_and_given_back_to_it() -> None:
    """A cassette started inside another tool's patch (a test's own vcrpy cassette) answers, then hands back."""
    outer, inner = Listening(), Listening()

    def theirs(transport: Any, request: Any) -> Any:
        return http.Response(418)

    first = patches.start(outer, patches.OPENAI)
    ours = http.MockTransport.handle_request
    http.MockTransport.handle_request = theirs  # type: ignore[method-assign]
    try:
        second = patches.start(inner, patches.OPENAI)
        assert send("/inner") == 204
        patches.stop(second)
        assert send("/theirs") == 418
    finally:
        http.MockTransport.handle_request = ours  # type: ignore[method-assign]
        patches.stop(first)
    assert inner.asked == ["/inner"] and outer.asked == []
    assert http.MockTransport.handle_request is ORIGINAL
