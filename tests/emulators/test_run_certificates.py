"""The run's CA: https and wss servers on loopback verified by clients that trust only it."""

from __future__ import annotations

import asyncio
import ssl
import stat
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from twilio.rest import Client
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from callreplay.emulators.tls import RunCertificates
from callreplay.emulators.twilio_rest import TwilioRestEmulator
from callreplay.twilio.ids import ACCOUNT_SID, TEST_AUTH_TOKEN


def test_files_written_and_key_private(tmp_path: Path) -> None:
    certificates = RunCertificates(tmp_path / "tls")
    assert certificates.ca_pem_path.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert certificates.server_cert_path.read_text().count("BEGIN CERTIFICATE") >= 1
    assert stat.S_IMODE(certificates.server_key_path.stat().st_mode) == 0o600
    assert certificates.trust_environment()["SSL_CERT_FILE"] == str(certificates.ca_pem_path)
    assert RunCertificates(tmp_path / "other").ca_pem_path.read_bytes() != certificates.ca_pem_path.read_bytes()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_https_server_verified_with_the_run_ca_only(tmp_path: Path, host: str) -> None:
    certificates = RunCertificates(tmp_path)

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello over tls")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/", hello)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=certificates.server_context())
        await site.start()
        port = runner.addresses[0][1]
        try:
            timeout = aiohttp.ClientTimeout(total=5)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.get(f"https://{host}:{port}/", ssl=certificates.client_context()) as response:
                    assert await response.text() == "hello over tls"
                with pytest.raises(aiohttp.ClientConnectorCertificateError):
                    await session.get(f"https://{host}:{port}/", ssl=ssl.create_default_context())
        finally:
            await runner.cleanup()

    asyncio.run(main())


def test_wss_server_verified_with_the_run_ca_only(tmp_path: Path) -> None:
    certificates = RunCertificates(tmp_path)

    async def echo(websocket: ServerConnection) -> None:
        async for message in websocket:
            await websocket.send(message)

    async def main() -> None:
        async with serve(echo, "127.0.0.1", 0, ssl=certificates.server_context()) as server:
            port = server.sockets[0].getsockname()[1]
            async with connect(f"wss://127.0.0.1:{port}/media", ssl=certificates.client_context(),
                               open_timeout=5, close_timeout=2) as websocket:
                await websocket.send('{"event":"connected"}')
                assert await asyncio.wait_for(websocket.recv(), 5) == '{"event":"connected"}'
            with pytest.raises(ssl.SSLCertVerificationError):
                async with connect(f"wss://localhost:{port}/media", ssl=ssl.create_default_context(), open_timeout=5):
                    pass

    asyncio.run(main())


def test_twilio_client_reaches_the_https_rest_emulator_through_requests_ca_bundle(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    certificates = RunCertificates(tmp_path)
    for name, value in certificates.trust_environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    monkeypatch.delenv("TWILIO_REGION", raising=False)

    async def main() -> None:
        rest = TwilioRestEmulator(ACCOUNT_SID, TEST_AUTH_TOKEN)
        await rest.start(ssl=certificates.server_context())
        try:
            assert rest.base_url.startswith("https://127.0.0.1:")
            client = Client(ACCOUNT_SID, TEST_AUTH_TOKEN)
            client.api.base_url = rest.base_url
            call = await asyncio.to_thread(client.calls.create, to="+14155550100", from_="+14155550199",
                                           url="https://app.test/x")
            assert call.sid in rest.calls
            # Close the keep-alive TLS connection before the server goes, or its socket outlives the loop.
            client.http_client.session.close()
        finally:
            await rest.stop()

    asyncio.run(main())
