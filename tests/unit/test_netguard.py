"""The address policy: which resolved addresses a source may connect to."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs.ingest.errors import AddressNotAllowed, NetworkError
from jobs.ingest.netguard import (
    check_addresses,
    classify_address,
    is_allowed_address,
    is_public_address,
    resolve_allowed,
)

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "203.162.4.190",  # a Vietnamese public address
    "2001:4860:4860::8888",
    "2404:6800:4005::200e",
    "::ffff:8.8.8.8",  # IPv4-mapped public address
    "2002:808:808::1",  # 6to4 of 8.8.8.8
]

# Private but reachable for sources marked allow_private (intranet portals, tests).
PRIVATE = [
    "10.0.0.1",
    "10.255.255.255",
    "172.16.0.1",
    "172.31.255.254",
    "192.168.1.10",
    "127.0.0.1",
    "127.0.0.2",
    "127.255.255.254",
    "100.64.0.1",  # carrier-grade NAT
    "100.127.255.254",
    "192.0.0.8",  # IETF protocol assignments (Python calls it global)
    "192.0.2.1",  # documentation
    "198.18.0.1",  # benchmarking
    "::1",
    "fc00::1",  # unique-local
    "fd12:3456:789a::1",
    "fec0::1",  # site-local
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:10.1.2.3",
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
    "2001:db8::1",  # documentation
]

# Never reachable, not even with allow_private.
FORBIDDEN = [
    "169.254.169.254",  # cloud metadata
    "169.254.0.1",
    "0.0.0.0",
    "0.1.2.3",
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "100.100.100.200",  # Alibaba metadata
    "::",
    "fe80::1",
    "fe80::1%1",
    "ff02::1",
    "fd00:ec2::254",  # AWS metadata over IPv6
    "::ffff:169.254.169.254",  # IPv4-mapped metadata
    "64:ff9b::a9fe:a9fe",  # NAT64 of the metadata address
    "2002:a9fe:a9fe::1",  # 6to4 of the metadata address
    "::7f00:1",  # deprecated IPv4-compatible form of 127.0.0.1
]


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed_everywhere(address: str) -> None:
    assert classify_address(address) == "public"
    assert is_public_address(address)
    assert is_allowed_address(address, allow_private=False)
    assert is_allowed_address(address, allow_private=True)


@pytest.mark.parametrize("address", PRIVATE)
def test_private_addresses_need_allow_private(address: str) -> None:
    assert classify_address(address) == "private"
    assert not is_public_address(address)
    assert not is_allowed_address(address, allow_private=False)
    assert is_allowed_address(address, allow_private=True)


@pytest.mark.parametrize("address", FORBIDDEN)
def test_link_local_metadata_and_special_addresses_are_never_allowed(address: str) -> None:
    assert classify_address(address) == "forbidden"
    assert not is_public_address(address)
    assert not is_allowed_address(address, allow_private=True)


def test_address_objects_are_accepted() -> None:
    assert is_public_address(ipaddress.ip_address("8.8.4.4"))
    assert not is_public_address(ipaddress.ip_address("192.168.0.1"))


def test_a_host_name_is_not_an_address() -> None:
    with pytest.raises(ValueError):
        is_public_address("example.com")


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_ipv4_mapped_form_is_judged_like_the_ipv4_address(value: int) -> None:
    v4 = ipaddress.IPv4Address(value)
    assert classify_address(ipaddress.IPv6Address(f"::ffff:{v4}")) == classify_address(v4)


def test_one_refused_address_among_many_refuses_the_host() -> None:
    with pytest.raises(AddressNotAllowed) as caught:
        check_addresses("rebind.example", ["8.8.8.8", "10.0.0.5"])
    assert "10.0.0.5" in caught.value.message
    assert check_addresses("intranet", ["8.8.8.8", "10.0.0.5"], allow_private=True)
    with pytest.raises(AddressNotAllowed):
        check_addresses("intranet", ["10.0.0.5", "169.254.169.254"], allow_private=True)


def test_all_allowed_addresses_are_returned_in_order() -> None:
    assert check_addresses("dual", ["8.8.8.8", "2001:4860:4860::8888"]) == [
        "8.8.8.8",
        "2001:4860:4860::8888",
    ]


def test_a_host_without_addresses_is_a_network_error() -> None:
    with pytest.raises(NetworkError) as caught:
        check_addresses("nothing", [])
    assert caught.value.reason == "dns"


async def test_resolving_localhost_is_refused_without_allow_private() -> None:
    with pytest.raises(AddressNotAllowed) as caught:
        await resolve_allowed("localhost", 80)
    assert caught.value.reason == "blocked_address"
    assert "localhost" in caught.value.message


async def test_resolving_localhost_is_allowed_for_private_sources() -> None:
    addresses = await resolve_allowed("localhost", 80, allow_private=True)
    assert addresses
    assert all(not is_public_address(a) for a in addresses)


async def test_resolving_a_metadata_literal_is_refused_even_for_private_sources() -> None:
    with pytest.raises(AddressNotAllowed):
        await resolve_allowed("169.254.169.254", 80, allow_private=True)
