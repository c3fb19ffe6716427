"""The ground truth of tenancy: the business whose number the call was to (inbound) or from (outbound).

Contamination is judged against the scenario, never against what the application resolved: the dialled
number (or the ``business_id`` the call's URL names) picks the business from the ``businesses:`` section.
Live mode records it when a call starts; in-process the detectors compute it from the call's webhook.
"""

from __future__ import annotations

from collections.abc import Iterable

from .model import BusinessSpec


def _digits(number: str) -> str:
    return number.replace(" ", "").replace("-", "")


def dialled_business(businesses: Iterable[BusinessSpec], direction: str, from_: str, to: str,
                     hint: str | None = None) -> int | None:
    """The business of the call: ``hint`` (a ``business_id`` in the URL) if it is a number, else the business
    whose phone or contact channel is ``to`` (inbound) or ``from_`` (outbound); None if no business has it."""
    if hint is not None:
        try:
            return int(hint)
        except ValueError:
            return None
    number = _digits(from_ if direction == "outbound" else to)
    if not number:
        return None
    for b in businesses:
        if number == _digits(b.phone or "") or number in (_digits(c) for c in b.channels):
            return b.id
    return None
