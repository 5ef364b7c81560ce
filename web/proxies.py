"""The client's address behind reverse proxies: X-Forwarded-For, believed from trusted peers.

A request whose peer (the connection's address) is one of FURET_TRUSTED_PROXIES is
counted for the address that proxy forwards: X-Forwarded-For is read from the right,
skipping the trusted proxies it went through, and the first other address is the
client's. From any other peer the header is ignored, so a client cannot choose the
address it is counted for. The middleware sets REMOTE_ADDR, which the rate limit and the
access log read; the connection's address stays in `furet.peer`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["ClientAddressMiddleware", "client_address", "parse_networks"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_MAX_HOPS = 20  # addresses of X-Forwarded-For looked at, from the right


def parse_networks(text: str) -> tuple[Network, ...]:
    """The networks of a FURET_TRUSTED_PROXIES value ("127.0.0.1/32,::1/128")."""
    return tuple(ipaddress.ip_network(part, strict=False)
                 for part in text.split(",") if part.strip())


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # 192.0.2.1:443
        text = text.split(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _trusted(address: Any, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in networks
                                       if network.version == address.version)


def client_address(peer: str, forwarded_for: str | None,
                   networks: tuple[Network, ...]) -> str:
    """The address a request is counted for (see the module docstring)."""
    if not forwarded_for or not _trusted(_address(peer), networks):
        return peer
    hops = [part for part in forwarded_for.split(",") if part.strip()][-_MAX_HOPS:]
    client = peer
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # garbage from further away: keep the last address a trusted proxy gave
        client = str(address)
        if not _trusted(address, networks):
            break
    return client


class ClientAddressMiddleware:
    """Sets REMOTE_ADDR to the client's address when the peer is a trusted proxy."""

    def __init__(self, app: Callable[..., Iterable[bytes]], trusted: str) -> None:
        self.app = app
        self.networks = parse_networks(trusted)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        peer = environ.get("REMOTE_ADDR") or ""
        environ["furet.peer"] = peer
        if self.networks:
            environ["REMOTE_ADDR"] = client_address(
                peer, environ.get("HTTP_X_FORWARDED_FOR"), self.networks)
        return self.app(environ, start_response)
