"""Per-call state kept in memory, keyed by CallSid: what the webhook decided, for the media socket to use."""

from __future__ import annotations

from dataclasses import dataclass, field

TERMINAL_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled")


@dataclass
class CallState:
    """One call leg: its business, direction, the instructions built for it, Twilio's last status, and the
    businesses its call-log row and lead were written under (what ``GET /calls/{CallSid}`` shows)."""

    call_sid: str
    business_id: int
    direction: str
    instructions: str
    status: str = "queued"
    statuses: list[str] = field(default_factory=list)
    call_log_business: int | None = None
    lead_business: int | None = None

    def record_status(self, status: str) -> None:
        """Twilio's callbacks may arrive out of order: every one is kept, but a final status is never undone."""
        self.statuses.append(status)
        if self.status not in TERMINAL_STATUSES:
            self.status = status

    def as_json(self) -> dict[str, object]:
        """The stored record, read-only, as the state endpoint answers it."""
        return {"call_sid": self.call_sid, "business_id": self.business_id, "direction": self.direction,
                "status": self.status, "statuses": list(self.statuses),
                "call_log": {"business_id": self.call_log_business, "direction": self.direction,
                             "status": self.status} if self.call_log_business is not None else None,
                "lead": {"business_id": self.lead_business} if self.lead_business is not None else None}


class CallStore:
    """CallSid -> :class:`CallState`; one per app, so two apps (or two tests) share nothing."""

    def __init__(self) -> None:
        self._calls: dict[str, CallState] = {}

    def put(self, state: CallState) -> None:
        self._calls[state.call_sid] = state

    def get(self, call_sid: str) -> CallState | None:
        return self._calls.get(call_sid)

    def __len__(self) -> int:
        return len(self._calls)
