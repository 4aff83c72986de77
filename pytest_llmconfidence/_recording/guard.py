"""The socket guard of replay-only tests: in record mode ``none`` no connection leaves the process.

vcrpy intercepts the HTTP libraries it patched; a library it did not patch (``requests`` imported inside
a test, a raw socket) would reach the network. While a replay-only cassette is active, connecting an
internet socket (IPv4, IPv6), sending a datagram (UDP ``sendto``/``sendmsg``) or looking a name up
(``getaddrinfo``) raises ``CassetteMissError`` naming the host and the cassette, unless the host is
allowed (``llm_allow_hosts``: addresses, networks such as ``10.0.0.0/8``, or ``localhost``).
Standard library only; installed and removed around each such test.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from typing import Any, ClassVar

from .._errors import CassetteMissError, ReplayMiss
from .hosts import Network, allows, parse_hosts

__all__ = ["SocketGuard", "parse_hosts"]

_INTERNET = (socket.AF_INET, socket.AF_INET6)


class SocketGuard:
    """Refuses internet connections while active (``with guard:``); counts what it refused."""

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _active: ClassVar[list[SocketGuard]] = []
    _originals: ClassVar[tuple[Any, Any, Any, Any, Any] | None] = None

    def __init__(
        self,
        *,
        where: str,
        remedy: str,
        allowed: tuple[Network, ...] = (),
        path: Any = None,
        nodeid: str | None = None,
        suspends: bool = False,
    ) -> None:
        self.suspends = suspends
        """A guard that refuses nothing, suspending the ones under it (a wider fixture's set-up)."""
        self.path = path
        self.nodeid = nodeid
        self.where = where
        self.remedy = remedy
        self.allowed = allowed
        self.refused: list[str] = []

    def allows(self, host: str) -> bool:
        return allows(self.allowed, host)

    def check(self, family: int, address: Any, what: str = "connect to") -> None:
        if self.suspends or family not in _INTERNET or not isinstance(address, tuple) or not address:
            return  # Unix sockets and the like never leave the machine
        host, port = str(address[0]), address[1] if len(address) > 1 else "?"
        if self.allows(host):
            return
        self.refuse(f"[{host}]:{port}" if ":" in host else f"{host}:{port}", what)

    def check_lookup(self, host: Any) -> None:
        """A DNS look-up: an address or ``localhost`` needs none; any other name is refused."""
        name = host.decode("idna", "replace") if isinstance(host, (bytes, bytearray)) else str(host or "")
        if not name or self.suspends:
            return
        try:
            ipaddress.ip_address(name.strip("[]").split("%", 1)[0])
            return  # an address: nothing is looked up
        except ValueError:
            pass
        if name.lower().rstrip(".") == "localhost":
            return
        self.refuse(name, "look up")

    def refuse(self, shown: str, what: str) -> None:
        self.refused.append(shown)
        raise ReplayMiss(
            CassetteMissError(
                f"record mode 'none' replays only, and this test tried to {what} {shown}, which "
                f"{self.where} cannot answer: nothing leaves the machine in this mode.\n{self.remedy}",
                path=self.path,
                nodeid=self.nodeid,
            )
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
        sendto, sendmsg, getaddrinfo = socket.socket.sendto, socket.socket.sendmsg, socket.getaddrinfo
        cls._originals = (connect, connect_ex, sendto, sendmsg, getaddrinfo)

        def guarded_sendto(sock: socket.socket, data: Any, *args: Any) -> int:
            guard = cls._current()
            if guard is not None and args:
                guard.check(sock.family, args[-1], "send to")
            sent: int = sendto(sock, data, *args)
            return sent

        def guarded_sendmsg(sock: socket.socket, buffers: Any, *args: Any) -> int:
            guard = cls._current()
            if guard is not None and len(args) >= 3:
                guard.check(sock.family, args[2], "send to")
            sent: int = sendmsg(sock, buffers, *args)
            return sent

        def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            guard = cls._current()
            if guard is not None:
                guard.check_lookup(host)
            return getaddrinfo(host, *args, **kwargs)

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
        socket.socket.sendto = guarded_sendto  # type: ignore[method-assign,assignment]
        socket.socket.sendmsg = guarded_sendmsg  # type: ignore[method-assign,assignment]
        socket.getaddrinfo = guarded_getaddrinfo

    @classmethod
    def _uninstall(cls) -> None:
        if cls._originals is not None:
            connect, connect_ex, sendto, sendmsg, getaddrinfo = cls._originals
            socket.socket.connect, socket.socket.connect_ex = connect, connect_ex  # type: ignore[method-assign]
            socket.socket.sendto, socket.socket.sendmsg = sendto, sendmsg  # type: ignore[method-assign]
            socket.getaddrinfo = getaddrinfo
            cls._originals = None
