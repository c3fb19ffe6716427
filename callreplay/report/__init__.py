"""HTML reports rendered from a results directory (``run.json``, ``results/*.json``, ``traces/``)."""

from __future__ import annotations

from .render import render_reports

__all__ = ["render_reports"]
