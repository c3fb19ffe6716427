"""Sign signatures of mu-law audio: one bit per sample, the sample's sign, packed and base64-encoded.

Echo detection has to recognise the model's audio in what reached the model as caller audio. An echo is
the same waveform later and quieter, so its samples keep their signs: a gain change, mu-law requantisation
and any whole-sample delay leave the sign sequence intact, while two unrelated signals agree on about half
of their signs. The sign is the top bit of a mu-law code, so a signature costs no decoding: 20 bytes per
160-byte frame, small enough for the trace to carry for every frame on both sides of the bridge.
"""

from __future__ import annotations

import base64
import binascii

import numpy as np


def mulaw_signature(audio: bytes) -> str:
    """The packed sign bits (1: positive) of 8 kHz mu-law ``audio``, base64 text for the trace."""
    codes = np.frombuffer(audio, dtype=np.uint8)
    return base64.b64encode(np.packbits(codes >> 7).tobytes()).decode("ascii")


def signs(signature: object, samples: int) -> np.ndarray | None:
    """The +1/-1 sample signs of a signature (``samples`` of them); None when it is not one."""
    if not isinstance(signature, str) or samples <= 0:
        return None
    try:
        packed = np.frombuffer(base64.b64decode(signature, validate=True), dtype=np.uint8)
    except (binascii.Error, ValueError):
        return None
    bits = np.unpackbits(packed)[:samples]
    if len(bits) < samples:
        return None
    return bits.astype(np.int8) * 2 - 1
