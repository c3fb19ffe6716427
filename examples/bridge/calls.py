"""Per-call state kept in memory, keyed by CallSid: what the webhook decided, for the media socket to use."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CallState:
    """One call leg: its business, direction, the instructions built for it, and Twilio's last status."""

    call_sid: str
    business_id: int
    direction: str
    instructions: str
    status: str = "queued"
    statuses: list[str] = field(default_factory=list)

    def record_status(self, status: str) -> None:
        self.status = status
        self.statuses.append(status)


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
