"""The media socket's hot path on the wire: whole text frames, written and read in one step each.

At 200 concurrent calls live mode writes 10,000 caller frames a second and reads as many of the
server's, all from one loop. The ``websockets`` library does the handshake, control frames, the
closing handshake and every frame that is not an unfragmented text frame; this module handles only
the one shape a Media Streams socket carries all call long (RFC 6455 §5.2):

- :func:`client_text_frame`: a final, masked text frame (clients must mask, §5.3), masked by the
  library's own ``apply_mask``; about a third of the cost of going through the protocol object.
- :class:`TextFrameReader`: splits what the server sent into whole unmasked final text frames; each
  control frame is handed to the library's parser whole, and at the first frame of any other shape
  the parser takes over for good, so pings, closes, fragments, binary frames and protocol errors
  keep the library's exact behaviour.
"""

from __future__ import annotations

import os
import struct

try:  # the C version websockets builds; its pure-Python twin otherwise
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover - depends on how websockets was installed
    from websockets.utils import apply_mask

FIN_TEXT = 0x81     # FIN bit + opcode 1 (text)
MASK_BIT = 0x80
CLOSE_FRAME = 0x88
CONTROL_FRAMES = frozenset((CLOSE_FRAME, 0x89, 0x8A))  # FIN + close, ping, pong
_LEN16 = struct.Struct("!H")


def client_text_frame(data: bytes) -> bytes:
    """``data`` (UTF-8) as one final text frame from a client, masked with a fresh random key."""
    n = len(data)
    if n < 126:
        head = bytes((FIN_TEXT, MASK_BIT | n))
    elif n < 65536:
        head = bytes((FIN_TEXT, MASK_BIT | 126)) + _LEN16.pack(n)
    else:
        head = bytes((FIN_TEXT, MASK_BIT | 127)) + n.to_bytes(8, "big")
    mask = os.urandom(4)
    return head + mask + apply_mask(data, mask)


class TextFrameReader:
    """Whole server text frames out of a byte stream; every other frame goes to the library.

    :meth:`feed` returns, in wire order, ``(True, payload)`` for each final unmasked text frame and
    ``(False, raw)`` for bytes the library must parse: one whole control frame (ping, pong, close;
    the library's parser is at a frame boundary before and after it), or, at the first frame of any
    other shape (binary, fragmented, masked, 64-bit length, over ``max_size``), everything from
    that frame's first byte on. After a close or such a frame the reader is done and passes every
    later byte through. Bytes of an unfinished frame wait for the next :meth:`feed`.
    """

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self.pending = b""
        self.active = True

    @classmethod
    def passthrough(cls) -> TextFrameReader:
        """A reader that leaves every byte to the library (the handshake was refused or unreadable)."""
        reader = cls(max_size=0)
        reader.active = False
        return reader

    def feed(self, data: bytes) -> list[tuple[bool, bytes]]:
        if not self.active:
            return [(False, data)] if data else []
        buf = self.pending + data if self.pending else data
        n = len(buf)
        pos = 0
        out: list[tuple[bool, bytes]] = []
        while n - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length = b1
            if b0 in CONTROL_FRAMES and length <= 125:  # unmasked, final, short: as the RFC requires
                end = pos + 2 + length
                if end > n:
                    break
                out.append((False, bytes(buf[pos:end])))
                pos = end
                if b0 == CLOSE_FRAME:  # the closing handshake is the library's from here
                    return self._hand_over(out, buf, pos)
                continue
            if b0 != FIN_TEXT or b1 & MASK_BIT:  # another opcode, a fragment, or a masked frame
                return self._hand_over(out, buf, pos)
            head = 2
            if length == 126:
                if n - pos < 4:
                    break
                length = _LEN16.unpack_from(buf, pos + 2)[0]
                head = 4
            elif length == 127:  # 64-bit lengths: megabytes in one message, never a media frame
                return self._hand_over(out, buf, pos)
            if length > self.max_size:
                return self._hand_over(out, buf, pos)
            end = pos + head + length
            if end > n:
                break
            out.append((True, bytes(buf[pos + head:end])))
            pos = end
        self.pending = bytes(buf[pos:])
        return out

    def _hand_over(self, out: list[tuple[bool, bytes]], buf: bytes, pos: int) -> list[tuple[bool, bytes]]:
        self.active = False
        self.pending = b""
        if pos < len(buf):
            out.append((False, bytes(buf[pos:])))
        return out
