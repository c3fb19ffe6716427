"""Before a live run: is the target a URL we may use, and is anything listening there?"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from .guard import is_loopback

CONNECT_TIMEOUT_S = 2.0


def check_target(target: str) -> str | None:
    """None if the target can be replayed against; otherwise one line saying what is wrong."""
    split = urlsplit(target)
    if split.scheme not in ("http", "https") or not split.hostname:
        return f"--target {target!r} is not an http(s) URL (expected e.g. http://127.0.0.1:8000)"
    port = split.port or (443 if split.scheme == "https" else 80)
    try:
        with socket.create_connection((split.hostname, port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        where = "on this machine" if is_loopback(split.hostname) else f"at {split.hostname}"
        reason = exc.strerror or type(exc).__name__
        return (f"the target {split.scheme}://{split.netloc} is not listening {where} ({reason}); start the server "
                "first, or let `callreplay exec ... -- CMD` start it")
    return None
