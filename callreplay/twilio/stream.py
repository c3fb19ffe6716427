"""Twilio's end of one Media Streams WebSocket (shared/twilio-media-streams.md).

It numbers what Twilio sends (one ``sequenceNumber`` counter across start/media/dtmf/mark/stop,
all numeric fields as JSON strings, a per-track ``chunk`` counter, ``timestamp`` in ms since the
stream start) and plays what the application sends back: outbound audio queues at 20 ms per
frame, a ``mark`` is echoed when the audio queued before it has played out, and ``clear`` drops
the queue and echoes every pending mark at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii as _json_str
from typing import Any

from .ids import ACCOUNT_SID

FRAME_US = 20_000


@dataclass
class PendingMark:
    name: str
    due_us: int
    handle: Any = None  # the scheduler's TaskHandle


@dataclass
class TwilioStream:
    call_sid: str
    stream_sid: str
    custom_parameters: dict[str, str]
    schedule: Callable[[int, str, Callable[[], None]], object]
    deliver: Callable[[dict], None]
    seq: int = 0
    chunk: int = 0
    start_us: int | None = None
    connected: bool = False
    started: bool = False
    stopped: bool = False
    closed: bool = False
    playout_end_us: int = 0
    pending_marks: list[PendingMark] = field(default_factory=list)
    out_frames: int = 0
    cleared: int = 0

    def next_seq(self) -> str:
        self.seq += 1
        return str(self.seq)

    # -- Twilio -> application -------------------------------------------------------------------
    def connected_message(self) -> dict:
        self.connected = True
        return {"event": "connected", "protocol": "Call", "version": "1.0.0"}

    def start_message(self, now_us: int, custom_parameters: dict[str, str] | None = None,
                      tracks: tuple[str, ...] | None = None, stream_sid: str | None = None) -> dict:
        self.started = True
        self.start_us = now_us
        if stream_sid:
            self.stream_sid = stream_sid
        params = self.custom_parameters if custom_parameters is None else custom_parameters
        return {"event": "start", "sequenceNumber": self.next_seq(), "streamSid": self.stream_sid,
                "start": {"streamSid": self.stream_sid, "accountSid": ACCOUNT_SID, "callSid": self.call_sid,
                          "tracks": list(tracks or ("inbound",)), "customParameters": dict(params),
                          "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}

    def media_message(self, payload_b64: str, seq: int, chunk: int, timestamp_ms: int, track: str = "inbound") -> dict:
        """One caller frame as Twilio sends it; ``seq``/``chunk`` come from the feed's numbering (faults included)."""
        self.seq = max(self.seq, seq)
        self.chunk = max(self.chunk, chunk)
        return {"event": "media", "sequenceNumber": str(seq), "streamSid": self.stream_sid,
                "media": {"track": track, "chunk": str(chunk), "timestamp": str(timestamp_ms), "payload": payload_b64}}

    def media_text(self, payload_b64: str, seq: int, chunk: int, timestamp_ms: int, track: str = "inbound") -> str:
        """:meth:`media_message` as compact JSON text, without building the dict first.

        Live mode sends tens of thousands of these a second from one loop; the text is exactly
        ``json.dumps(media_message(...), separators=(",", ":"))`` (a test holds the two together).
        """
        self.seq = max(self.seq, seq)
        self.chunk = max(self.chunk, chunk)
        return (f'{{"event":"media","sequenceNumber":"{seq}","streamSid":{_json_str(self.stream_sid)},'
                f'"media":{{"track":{_json_str(track)},"chunk":"{chunk}","timestamp":"{timestamp_ms}",'
                f'"payload":{_json_str(payload_b64)}}}}}')

    def dtmf_message(self, digit: str) -> dict:
        return {"event": "dtmf", "streamSid": self.stream_sid, "sequenceNumber": self.next_seq(),
                "dtmf": {"track": "inbound_track", "digit": digit}}

    def mark_message(self, name: str) -> dict:
        return {"event": "mark", "sequenceNumber": self.next_seq(), "streamSid": self.stream_sid,
                "mark": {"name": name}}

    def stop_message(self) -> dict:
        self.stopped = True
        return {"event": "stop", "sequenceNumber": self.next_seq(), "streamSid": self.stream_sid,
                "stop": {"accountSid": ACCOUNT_SID, "callSid": self.call_sid}}

    # -- application -> Twilio -------------------------------------------------------------------
    def play(self, now_us: int, frames: int) -> int:
        """Queue ``frames`` of outbound audio; return when it will have played out."""
        self.playout_end_us = max(self.playout_end_us, now_us) + frames * FRAME_US
        self.out_frames += frames
        return self.playout_end_us

    def mark(self, now_us: int, name: str) -> None:
        due = max(self.playout_end_us, now_us)
        pending = PendingMark(name, due)
        self.pending_marks.append(pending)
        pending.handle = self.schedule(due, f"TwilioMarkEcho-{name}", lambda: self._echo(pending))

    def clear(self, now_us: int) -> list[str]:
        """Drop queued audio and echo every pending mark now, in queue order."""
        self.cleared += 1
        self.playout_end_us = now_us
        echoed = []
        for pending in list(self.pending_marks):
            pending.handle.cancel()
            self._echo(pending)
            echoed.append(pending.name)
        return echoed

    def _echo(self, pending: PendingMark) -> None:
        if pending in self.pending_marks:
            self.pending_marks.remove(pending)
        if not self.closed:
            self.deliver(self.mark_message(pending.name))
