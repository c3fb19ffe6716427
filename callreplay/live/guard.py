"""Where live mode may connect: loopback, and the one host the user named as the target."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

LOOPBACK_NAMES = ("localhost", "localhost.localdomain")


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class HostGuard:
    """Every outgoing connection of live mode is checked here first."""

    target_host: str

    def allowed(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return bool(host) and (is_loopback(host) or host == self.target_host.lower())
