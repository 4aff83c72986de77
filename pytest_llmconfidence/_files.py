"""The one way the plugin writes a file: atomically, so an interrupted run leaves the old file intact; and
the collector paused while a large file (a report, a cassette) is read."""

from __future__ import annotations

import contextlib
import gc
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

__all__ = ["TEMP_SUFFIX", "collector_paused", "temp_prefix", "write_atomic"]

TEMP_SUFFIX = ".tmp"


def temp_prefix(path: Path) -> str:
    """The name prefix of ``path``'s temporary files (hidden, so they are never taken for the file)."""
    return f".{path.name}."


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: str | bytes | Iterable[str]) -> None:
    """Write ``data`` (text, bytes, or pieces of text written one after the other, never joined) to
    ``path``: a temporary file in the same folder, fsync, rename.

    Readers never see half a file; the file's mode follows the umask, as ``open()`` would make it; the
    temporary file is removed on any failure, whatever was raised.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    pieces = [data] if isinstance(data, str | bytes) else data
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=temp_prefix(path), suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            for piece in pieces:
                handle.write(piece.encode("utf-8") if isinstance(piece, str) else piece)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o666 & ~_umask())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off while the block runs. Reading a large report or cassette makes
    millions of objects, none of them in a cycle (reference counting frees them); each collection their
    allocation sets off walks them all again, which took more time than parsing the file itself."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
