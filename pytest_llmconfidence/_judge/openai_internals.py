"""Everything the plugin knows of the openai client beyond its documented calls, in one file.

Each name here is pinned by tests/test_openai_seams.py, so a release of openai that changes one fails
there, by name, instead of somewhere inside a judged test:
- ``openai.DefaultHttpxClient`` subclasses the HTTP library's ``Client`` (httpx for openai 1.x/2.x,
  httpx2 for 3.x), whose module holds the ``Response`` class asked for as ``cast_to``;
- ``client.post(path, body=, cast_to=, options=)``, the client's generic request method (documented for
  "undocumented endpoints"), with ``options`` keys ``headers``, ``extra_json``, ``params``, ``timeout``;
- ``client.chat.completions.with_raw_response.create`` for clients without ``post``;
- ``client.with_options(max_retries=0)`` (used by the transport) for a client that does not retry.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["post_args", "response_class"]


@functools.cache
def response_class() -> type[Any]:
    """The HTTP response class of the installed openai client (httpx2's for openai 3, httpx's before)."""
    import importlib

    import openai

    base = next(cls for cls in openai.DefaultHttpxClient.__mro__[1:] if cls.__name__ == "Client")
    response: type[Any] = importlib.import_module(base.__module__.split(".")[0]).Response
    return response


def post_args(
    client: Any, params: dict[str, Any], options: Mapping[str, Any] | None = None
) -> tuple[Callable[..., Any], dict[str, Any]]:
    """How to POST the chat completion and get the raw HTTP response back.

    The body is already plain JSON, so the client's request transform and response models (more than
    half the cost of a call) are skipped; its URL building (Azure deployments too), retries and error
    mapping stay. Clients without ``post`` go through ``chat.completions.create`` as usual. ``options``
    are the SDK's request options (``OPTION_NAMES``), given to the client as ``create`` would.
    """
    options = dict(options or {})
    if not hasattr(client, "post"):
        return client.chat.completions.with_raw_response.create, {**params, **options}
    request: dict[str, Any] = {}
    if options.get("extra_headers") is not None:
        request["headers"] = options["extra_headers"]
    if options.get("extra_body") is not None:
        request["extra_json"] = options["extra_body"]
    if options.get("extra_query") is not None:
        request["params"] = options["extra_query"]
    if "timeout" in options:
        request["timeout"] = options["timeout"]
    kwargs = {"path": "/chat/completions", "body": params, "cast_to": response_class()}
    if request:
        kwargs["options"] = request
    return client.post, kwargs
