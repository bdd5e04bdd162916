"""Reachable addresses: loopback IPs drawn at random from 127.64.0.0/10, unique per process.

Nothing else in the reference cloud is ever listened on or connected to: private fixed
addresses (10.x) exist only as API data.
"""

from __future__ import annotations

import ipaddress
import random
import threading

REACHABLE_CIDR = ipaddress.ip_network("127.64.0.0/10")

_lock = threading.Lock()
_in_use: set[str] = set()
_random = random.SystemRandom()


def allocate_loopback() -> str:
    """A loopback address no other part of this process holds; release it when done."""
    first = int(REACHABLE_CIDR.network_address)
    size = REACHABLE_CIDR.num_addresses
    with _lock:
        while True:
            candidate = ipaddress.ip_address(first + _random.randrange(1, size - 1))
            text = str(candidate)
            last_octet = int(text.rsplit(".", 1)[1])
            if last_octet in (0, 255) or text in _in_use:
                continue
            _in_use.add(text)
            return text


def release_loopback(address: str) -> None:
    with _lock:
        _in_use.discard(address)


def is_reachable(address: str) -> bool:
    try:
        return ipaddress.ip_address(address) in REACHABLE_CIDR
    except ValueError:
        return False
