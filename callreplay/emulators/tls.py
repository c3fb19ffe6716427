"""A throw-away certificate authority per run, so the emulators can serve ``https://``/``wss://``.

Several client libraries refuse plain ``ws://``/``http://`` for the services they talk to. For
one run, ``RunCertificates`` makes a fresh CA with trustme, issues a server certificate for
``127.0.0.1``, ``::1`` and ``localhost``, and writes the CA certificate to ``ca_pem_path`` so a
target can be told to trust it (``trust_environment()``: ``SSL_CERT_FILE``,
``REQUESTS_CA_BUNDLE`` and friends). Nothing is installed system-wide and the CA is never
reused: its key lives only in memory and in the run's directory.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import trustme

SERVER_IDENTITIES = ("127.0.0.1", "::1", "localhost")


class RunCertificates:
    """The run's CA and the emulators' server certificate, written under ``directory``."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._ca = trustme.CA(organization_name="callreplay run CA")
        self._leaf = self._ca.issue_cert(*SERVER_IDENTITIES, organization_name="callreplay emulators")
        self.ca_pem_path = self.directory / "callreplay-ca.pem"
        self.server_cert_path = self.directory / "callreplay-server.pem"
        self.server_key_path = self.directory / "callreplay-server-key.pem"
        self._ca.cert_pem.write_to_path(str(self.ca_pem_path))
        with self.server_cert_path.open("wb") as chain:
            for blob in self._leaf.cert_chain_pems:
                chain.write(blob.bytes())
        descriptor = os.open(self.server_key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as key:
            key.write(self._leaf.private_key_pem.bytes())

    def server_context(self) -> ssl.SSLContext:
        """For ``aiohttp``'s ``ssl_context`` / ``websockets``' ``ssl``: serves the run's certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._leaf.configure_cert(context)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts the run's CA and nothing else, with hostname checks on."""
        return ssl.create_default_context(cafile=str(self.ca_pem_path))

    def trust_environment(self) -> dict[str, str]:
        """Environment variables that make common HTTP/TLS stacks of a target trust the run's CA
        (OpenSSL-based ones, requests, curl, Node, gRPC). They replace the system store: live
        mode reaches only loopback, so nothing else needs trusting."""
        path = str(self.ca_pem_path)
        return {
            "SSL_CERT_FILE": path,
            "REQUESTS_CA_BUNDLE": path,
            "CURL_CA_BUNDLE": path,
            "NODE_EXTRA_CA_CERTS": path,
            "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH": path,
        }
