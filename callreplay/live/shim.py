"""``callreplay exec --redirect``: make a Python server that hard-codes the service hosts talk to the emulators.

A ``sitecustomize.py`` is written into a folder put first on the server's ``PYTHONPATH``. At start-up
it rewrites the URLs that ``websockets``, ``aiohttp``, ``httpx`` and ``requests`` are asked to open
when their host is one of the real services (OpenAI, Gemini, Twilio) to the emulators' URLs, and it
refuses every other connection that is not to loopback (the process has no business elsewhere
during a replay). The file is self-contained: the server's environment need not have callreplay.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

SERVICE_HOSTS = {
    "api.openai.com": "OPENAI_REALTIME_URL",
    "generativelanguage.googleapis.com": "GEMINI_LIVE_URL",
    "api.twilio.com": "TWILIO_API_BASE",
}

SITECUSTOMIZE = r'''
"""Written by callreplay exec --redirect: service hosts go to the emulators; nothing leaves loopback."""
import ipaddress, json, os, socket
from urllib.parse import urlsplit, urlunsplit

_MAP = json.loads(os.environ.get("CALLREPLAY_REDIRECT", "{}"))  # host -> {"ws": base, "http": base}


def _loopback(host):
    host = (host or "").strip("[]").lower()
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _rewrite(url):
    text = str(url)
    parts = urlsplit(text)
    target = _MAP.get((parts.hostname or "").lower())
    if not target:
        return url
    base = urlsplit(target["ws"] if parts.scheme in ("ws", "wss") else target["http"])
    path = parts.path if parts.scheme not in ("ws", "wss") or not base.path.strip("/") else base.path
    return urlunsplit((base.scheme, base.netloc, path, parts.query, parts.fragment))


_getaddrinfo = socket.getaddrinfo


def _guarded_getaddrinfo(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if name is not None and not _loopback(name):
        raise socket.gaierror(socket.EAI_NONAME, f"callreplay --redirect: {name} is not reachable during a replay")
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _guarded_getaddrinfo
_connect = socket.socket.connect


def _guarded_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
        raise ConnectionRefusedError(f"callreplay --redirect: connection to {address[0]} refused")
    return _connect(self, address)


socket.socket.connect = _guarded_connect

try:
    import requests

    _request = requests.Session.request

    def _requests_request(self, method, url, *args, **kwargs):
        return _request(self, method, _rewrite(url), *args, **kwargs)

    requests.Session.request = _requests_request
except ImportError:
    pass

try:
    import httpx

    for _cls in (httpx.Client, httpx.AsyncClient):
        _orig_build = _cls.build_request

        def _build(self, method, url, *args, _orig=_orig_build, **kwargs):
            return _orig(self, method, _rewrite(str(url)), *args, **kwargs)

        _cls.build_request = _build
except ImportError:
    pass

try:
    import aiohttp

    _aio_request = aiohttp.ClientSession._request

    def _aiohttp_request(self, method, str_or_url, *args, **kwargs):
        return _aio_request(self, method, _rewrite(str(str_or_url)), *args, **kwargs)

    aiohttp.ClientSession._request = _aiohttp_request
    _aio_ws = aiohttp.ClientSession._ws_connect

    def _aiohttp_ws(self, url, *args, **kwargs):
        return _aio_ws(self, _rewrite(str(url)), *args, **kwargs)

    aiohttp.ClientSession._ws_connect = _aiohttp_ws
except (ImportError, AttributeError):
    pass

try:
    import websockets.asyncio.client as _wsa

    _ws_init = _wsa.connect.__init__

    def _ws_connect_init(self, uri, *args, **kwargs):
        _ws_init(self, _rewrite(uri), *args, **kwargs)

    _wsa.connect.__init__ = _ws_connect_init
except (ImportError, AttributeError):
    pass
'''


def redirect_map(env: dict[str, str]) -> dict[str, dict[str, str]]:
    """host -> the emulator's WebSocket and HTTP bases, from the variables exec gives the server."""
    out = {}
    for host, variable in SERVICE_HOSTS.items():
        url = env.get(variable)
        if not url:
            continue
        parts = urlsplit(url)
        secure = parts.scheme in ("wss", "https")
        ws = f"{'wss' if secure else 'ws'}://{parts.netloc}{parts.path if parts.scheme.startswith('ws') else ''}"
        http = f"{'https' if secure else 'http'}://{parts.netloc}"
        out[host] = {"ws": ws, "http": http}
    return out


def install_environment(env: dict[str, str], folder: Path) -> None:
    """Write the shim into ``folder`` and point the child's environment at it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE.lstrip(), encoding="utf-8")
    env["CALLREPLAY_REDIRECT"] = json.dumps(redirect_map(env), sort_keys=True)
    env["PYTHONPATH"] = str(folder) + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
