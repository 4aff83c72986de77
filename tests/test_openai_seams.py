"""The openai client's names the plugin relies on beyond its documented calls (_judge/openai_internals.py).

A release of openai that changes one fails here, by name, rather than inside a judged test.
"""

from __future__ import annotations

import inspect

import openai

from pytest_llmconfidence._judge.openai_internals import post_args, response_class


def test_the_http_response_class_is_found_through_the_default_client() -> None:
    """openai's DefaultHttpxClient subclasses the HTTP library's Client, whose module has Response."""
    cls = response_class()
    assert cls.__name__ == "Response"
    assert cls.__module__.split(".")[0] in ("httpx", "httpx2")


def test_a_client_posts_a_plain_json_body_with_the_request_options() -> None:
    """client.post takes path, body, cast_to and options (headers, extra_json, params, timeout)."""
    client = openai.OpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1")
    try:
        post, kwargs = post_args(
            client,
            {"model": "m", "messages": []},
            {"extra_headers": {"x-a": "1"}, "extra_body": {"b": 2}, "extra_query": {"c": "3"}, "timeout": 5},
        )
        assert post == client.post
        assert set(kwargs) == {"path", "body", "cast_to", "options"}
        assert kwargs["options"] == {
            "headers": {"x-a": "1"},
            "extra_json": {"b": 2},
            "params": {"c": "3"},
            "timeout": 5,
        }
        parameters = inspect.signature(client.post).parameters
        assert {"path", "body", "cast_to", "options"} <= set(parameters)
        option_keys = set(openai._models.FinalRequestOptions.model_fields)
        assert {"headers", "extra_json", "params", "timeout"} <= option_keys
    finally:
        client.close()


def test_a_client_without_post_goes_through_the_raw_response_create() -> None:
    """Clients without post (wrappers) are called through chat.completions.with_raw_response.create."""

    class Wrapper:
        def __init__(self, inner: openai.OpenAI) -> None:
            self.chat = inner.chat

    client = openai.OpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1")
    try:
        post, kwargs = post_args(Wrapper(client), {"model": "m"}, {"timeout": 5})
        assert post == client.chat.completions.with_raw_response.create
        assert kwargs == {"model": "m", "timeout": 5}
    finally:
        client.close()


def test_a_client_makes_a_copy_that_does_not_retry() -> None:
    """client.with_options(max_retries=0) gives a client whose max_retries is 0 (replay never waits)."""
    client = openai.OpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1")
    try:
        assert client.with_options(max_retries=0).max_retries == 0
    finally:
        client.close()
