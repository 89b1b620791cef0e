"""Address policy for fetching untrusted URLs, enforced where connections are opened.

`GuardedBackend` is an httpcore network backend: it resolves the host itself, refuses the
connection when any resolved address is not allowed, and connects to the checked address, so
a DNS answer that changes between check and connect (rebinding) cannot slip through. TLS still
verifies and sends SNI for the host name: httpcore passes `server_hostname` (the URL's host)
to `start_tls` separately from the address it connected to. Every redirect hop opens its
connection through the backend, so every hop's address is checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import typing
from collections.abc import Iterable
from typing import Literal

import httpcore
import httpx

from jobs.ingest.errors import AddressNotAllowed, NetworkError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Verdict = Literal["public", "private", "forbidden"]

# Never reachable, even for a source marked allow_private: cloud metadata services live on
# link-local (169.254.169.254, fe80::) and a few well-known private addresses.
_FORBIDDEN = [
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches the local host on Linux
        "169.254.0.0/16",  # link-local, cloud metadata 169.254.169.254
        "100.100.100.200/32",  # Alibaba Cloud metadata, inside CGNAT space
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, incl. broadcast 255.255.255.255
        "::/96",  # unspecified and deprecated IPv4-compatible (::1 is judged before)
        "fe80::/10",  # link-local
        "fd00:ec2::254/128",  # AWS metadata over IPv6, inside unique-local space
        "ff00::/8",  # multicast
    )
]

# Not public, but reachable when a source is marked allow_private (intranet portals, tests).
_PRIVATE = [
    ipaddress.ip_network(net)
    for net in (
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "::1/128",
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments, incl. Teredo
        "2001:db8::/32",  # documentation
        "fc00::/7",  # unique-local
        "fec0::/10",  # site-local (deprecated)
    )
]

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_LOOPBACK_V6 = ipaddress.IPv6Address("::1")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address leads to (mapped, NAT64, 6to4), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def classify_address(ip: str | IPAddress) -> Verdict:
    """'public', 'private' (allowed for allow_private sources) or 'forbidden' (never)."""
    addr = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.scope_id:  # a zone index only makes sense for link-local addresses
            return "forbidden"
        if addr == _LOOPBACK_V6:
            return "private"
        embedded = _embedded_ipv4(addr)
        if embedded is not None:
            return classify_address(embedded)
    if addr.is_multicast or addr.is_link_local or addr.is_unspecified:
        return "forbidden"
    if any(addr in net for net in _FORBIDDEN):
        return "forbidden"
    if any(addr in net for net in _PRIVATE) or not addr.is_global or addr.is_reserved:
        return "private"
    return "public"


def is_public_address(ip: str | IPAddress) -> bool:
    """True when the address is globally routable (ValueError when not an address)."""
    return classify_address(ip) == "public"


def is_allowed_address(ip: str | IPAddress, *, allow_private: bool = False) -> bool:
    """True when a source may connect there; link-local and metadata are never allowed."""
    verdict = classify_address(ip)
    return verdict == "public" or (allow_private and verdict == "private")


def _addresses(infos: Iterable[tuple[typing.Any, ...]]) -> list[str]:
    """Distinct addresses of getaddrinfo results, in the resolver's order."""
    seen: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in seen:
            seen.append(address)
    return seen


async def resolve_allowed(host: str, port: int, *, allow_private: bool = False) -> list[str]:
    """The host's addresses; AddressNotAllowed when any one is refused by the policy."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except (socket.gaierror, UnicodeError) as exc:
        raise NetworkError(f"cannot resolve host {host}", reason="dns") from exc
    return check_addresses(host, _addresses(infos), allow_private=allow_private)


def check_addresses(host: str, addresses: list[str], *, allow_private: bool = False) -> list[str]:
    """The addresses, when every one is allowed; else AddressNotAllowed (NetworkError if none)."""
    if not addresses:
        raise NetworkError(f"host {host} has no address", reason="dns")
    for address in addresses:
        if not is_allowed_address(address, allow_private=allow_private):
            raise AddressNotAllowed(f"host {host} resolves to {address}, which is not allowed")
    return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks, then connects to the checked address through an inner backend."""

    def __init__(
        self, *, allow_private: bool = False, inner: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self.allow_private = allow_private
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """A stream to the first reachable allowed address of host."""
        try:
            async with asyncio.timeout(timeout):
                addresses = await resolve_allowed(host, port, allow_private=self.allow_private)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None  # addresses is never empty
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Refused: a source never reaches a local socket."""
        raise AddressNotAllowed("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        """Delegates to the inner backend (used by httpcore's retry back-off)."""
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """An httpx transport whose every connection goes through a GuardedBackend."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        verify: ssl.SSLContext | bool = True,
        limits: httpx.Limits | None = None,
    ) -> None:
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        # trust_env=False: a proxy from the environment would connect on our behalf, unchecked.
        super().__init__(limits=limits, trust_env=False)
        # httpx 0.28 offers no parameter for httpcore's network backend, so replace the pool
        # it built (never opened, holds nothing) with one built through httpcore's public API.
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):
            raise RuntimeError("unsupported httpx version: no connection pool to guard")
        ssl_context = httpx.create_ssl_context(verify=verify, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allow_private=allow_private),
        )
