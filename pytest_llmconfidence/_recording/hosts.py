"""The hosts a replay-only test may still reach (``llm_allow_hosts``): standard library only."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

__all__ = ["Network", "allows", "parse_hosts"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_hosts(values: Iterable[str]) -> tuple[Network, ...]:
    """The networks of ``llm_allow_hosts`` entries; ``localhost`` means both loopback networks.

    A bad entry raises ValueError saying what is accepted.
    """
    networks: list[Network] = []
    for raw in values:
        for entry in str(raw).replace(",", " ").split():
            if entry.lower() == "localhost":
                networks += [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an address; give IP addresses (127.0.0.1, ::1), networks "
                    "(10.0.0.0/8) or localhost"
                ) from None
    return tuple(networks)


def allows(networks: Iterable[Network], host: str) -> bool:
    """Whether ``host`` (an address, or ``localhost``: an HTTP request's host) is in one of ``networks``."""
    name = host.strip("[]").split("%", 1)[0]
    candidates = ["127.0.0.1", "::1"] if name.lower() == "localhost" else [name]
    for candidate in candidates:
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:
            return False
        if any(address in network for network in networks):
            return True
    return False
