"""Importers: each turns one kind of evidence into a scenario in the format of :mod:`callreplay.scenario`.

    from_capture        capture files of ``callreplay record``
    from_logs           application logs, through a log format (``log_format``, ``../formats/*.yaml``)
    from_twilio_calls   a Twilio call-log CSV export
    output              shared: exact durations, deterministic YAML, staged writes, ``--businesses``
"""

from __future__ import annotations

from .from_capture import import_capture
from .from_logs import import_logs
from .from_twilio_calls import import_twilio_calls
from .output import ImportReport

__all__ = ["ImportReport", "import_capture", "import_logs", "import_twilio_calls"]
