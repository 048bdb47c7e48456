"""Which peers are trusted reverse proxies (setting ``trusted_proxies``).

Only a request whose TCP peer is a trusted proxy may have its ``X-Forwarded-*``
headers believed; ``serve`` passes the same list to uvicorn's proxy-headers
middleware so ``request.client.host`` is the real client address everywhere.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from media_hub.config import get_settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=32)
def parse_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """Networks for addresses or CIDRs (``"10.0.0.1"``, ``"172.16.0.0/12"``, ``"::1"``).

    Raises :class:`ValueError` naming the first entry that is neither.
    """
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"trusted_proxies: “{entry}” không phải địa chỉ IP hoặc mạng CIDR.") from None
    return tuple(networks)


def is_trusted_proxy(address: str, trusted: list[str] | tuple[str, ...] | None = None) -> bool:
    """Whether ``address`` (a peer IP, e.g. ``request.client.host`` before proxy
    headers are applied) is one of ``trusted`` (default: the ``trusted_proxies``
    setting). Anything that is not an IP address (``"unknown"``, a Unix socket
    path, an empty string) is never trusted; an empty list trusts nobody."""
    if trusted is None:
        trusted = get_settings().trusted_proxies
    try:
        ip = ipaddress.ip_address(address.strip().split("%", 1)[0])
    except (ValueError, AttributeError):
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in net for net in parse_networks(tuple(trusted)) if net.version == ip.version)
