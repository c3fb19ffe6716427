"""Turn what really happened into scenarios: a capturing proxy and importers.

    capture_file   the JSON-Lines capture format: a streaming writer and a bounded reader
    redact         phone pseudonyms, secret removal, RMS-envelope audio (privacy on by default)
    proxy          ``callreplay record``: aiohttp reverse proxy for webhooks + Media Streams
    importers/     captures, application logs and Twilio call exports -> scenario YAML
    cli            the ``record`` command and the ``import`` group, attached to the main CLI

The importers write scenarios in the format of :mod:`callreplay.scenario`, so everything
downstream (replay, detectors, reports) treats an imported call like a hand-written one.
"""

from __future__ import annotations

from .capture_file import CaptureReader, CaptureWriter, read_capture
from .redact import Redactor

__all__ = ["CaptureReader", "CaptureWriter", "Redactor", "read_capture"]
