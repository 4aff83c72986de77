"""The socket guard of replay-only tests: in record mode ``none`` no connection leaves the process.

vcrpy intercepts the HTTP libraries it patched; a library it did not patch (``requests`` imported inside
a test, a raw socket) would reach the network. While a replay-only cassette is active, connecting an
internet socket (IPv4, IPv6) raises ``CassetteMissError`` naming the host and the cassette, unless the
host is allowed (``llm_allow_hosts``: addresses, networks such as ``10.0.0.0/8``, or ``localhost``).
Standard library only; installed and removed around each such test.
"""

from __future__ import annotations

import socket
import threading
from typing import Any, ClassVar

from .._errors import CassetteMissError
from .hosts import Network, allows, parse_hosts

__all__ = ["SocketGuard", "parse_hosts"]

_INTERNET = (socket.AF_INET, socket.AF_INET6)


class SocketGuard:
    """Refuses internet connections while active (``with guard:``); counts what it refused."""

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _active: ClassVar[list[SocketGuard]] = []
    _originals: ClassVar[tuple[Any, Any] | None] = None

    def __init__(
        self,
        *,
        where: str,
        remedy: str,
        allowed: tuple[Network, ...] = (),
        path: Any = None,
        nodeid: str | None = None,
    ) -> None:
        self.path = path
        self.nodeid = nodeid
        self.where = where
        self.remedy = remedy
        self.allowed = allowed
        self.refused: list[str] = []

    def allows(self, host: str) -> bool:
        return allows(self.allowed, host)

    def check(self, family: int, address: Any) -> None:
        if family not in _INTERNET or not isinstance(address, tuple) or not address:
            return  # Unix sockets and the like never leave the machine
        host, port = str(address[0]), address[1] if len(address) > 1 else "?"
        if self.allows(host):
            return
        shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.refused.append(shown)
        raise CassetteMissError(
            f"record mode 'none' replays only, and this test tried to connect to {shown}, which "
            f"{self.where} cannot answer: nothing leaves the machine in this mode.\n{self.remedy}",
            path=self.path,
            nodeid=self.nodeid,
        )

    def __enter__(self) -> SocketGuard:
        cls = type(self)
        with cls._lock:
            if not cls._active:
                cls._install()
            cls._active.append(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        cls = type(self)
        with cls._lock:
            if self in cls._active:
                cls._active.remove(self)
            if not cls._active:
                cls._uninstall()

    @classmethod
    def _current(cls) -> SocketGuard | None:
        active = cls._active
        return active[-1] if active else None

    @classmethod
    def _install(cls) -> None:
        connect, connect_ex = socket.socket.connect, socket.socket.connect_ex
        cls._originals = (connect, connect_ex)

        def guarded_connect(sock: socket.socket, address: Any) -> None:
            guard = cls._current()
            if guard is not None:
                guard.check(sock.family, address)
            connect(sock, address)

        def guarded_connect_ex(sock: socket.socket, address: Any) -> int:
            guard = cls._current()
            if guard is not None:
                guard.check(sock.family, address)
            result: int = connect_ex(sock, address)
            return result

        socket.socket.connect = guarded_connect  # type: ignore[method-assign,assignment]
        socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign,assignment]

    @classmethod
    def _uninstall(cls) -> None:
        if cls._originals is not None:
            socket.socket.connect, socket.socket.connect_ex = cls._originals  # type: ignore[method-assign]
            cls._originals = None
