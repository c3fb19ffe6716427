"""What the realtime services offer, as data: voices per provider and interface, audio formats and rates.

Facts from ``shared/realtime-protocols.md`` (1.2, 1.3, 1.9, 2.3, 2.6). Kept apart from the checks in
:mod:`.rules` so a detector or the in-process model can read the catalogue without the validator.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

OPENAI_VOICES: tuple[str, ...] = ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse",
                                  "marin", "cedar")
"""Built-in Realtime voices, the same for beta and GA (``marin``/``cedar`` arrived with gpt-realtime)."""

GEMINI_HALF_CASCADE_VOICES: tuple[str, ...] = ("Puck", "Charon", "Kore", "Fenrir", "Aoede", "Leda", "Orus", "Zephyr")
GEMINI_NATIVE_AUDIO_VOICES: tuple[str, ...] = (
    "Zephyr", "Kore", "Orus", "Autonoe", "Umbriel", "Erinome", "Laomedeia", "Schedar", "Achird", "Sadachbia",
    "Puck", "Fenrir", "Aoede", "Enceladus", "Algieba", "Algenib", "Achernar", "Gacrux", "Zubenelgenubi",
    "Sadaltager", "Charon", "Leda", "Callirrhoe", "Iapetus", "Despina", "Rasalgethi", "Alnilam", "Pulcherrima",
    "Vindemiatrix", "Sulafat")

VOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("openai", "beta"): OPENAI_VOICES,
    ("openai", "ga"): OPENAI_VOICES,
    ("gemini", "half_cascade"): GEMINI_HALF_CASCADE_VOICES,
    ("gemini", "native_audio"): GEMINI_NATIVE_AUDIO_VOICES,
}


def gemini_voices_for(model: str) -> tuple[str, ...]:
    """Native-audio models have 30 voices, the half-cascade ones 8 (sheet 2.3)."""
    return GEMINI_NATIVE_AUDIO_VOICES if "native-audio" in model else GEMINI_HALF_CASCADE_VOICES


@dataclass(frozen=True, slots=True)
class AudioFormat:
    """One wire audio format: its beta name, its GA ``type``, and how many bytes a second of it takes."""

    name: str
    ga_type: str
    codec: str  # "pcm16", "ulaw" or "alaw"
    sample_rate: int
    bytes_per_sample: int

    @property
    def bytes_per_second(self) -> int:
        return self.sample_rate * self.bytes_per_sample

    def bytes_for_ms(self, ms: float) -> int:
        """Bytes covering ``ms`` milliseconds (20 ms: 960 for pcm16 at 24 kHz, 160 for G.711)."""
        return int(round(self.bytes_per_second * ms / 1000))

    def duration_us(self, n_bytes: int) -> int:
        return n_bytes * 1_000_000 // self.bytes_per_second


OPENAI_AUDIO_FORMATS: dict[str, AudioFormat] = {
    "pcm16": AudioFormat("pcm16", "audio/pcm", "pcm16", 24_000, 2),
    "g711_ulaw": AudioFormat("g711_ulaw", "audio/pcmu", "ulaw", 8_000, 1),
    "g711_alaw": AudioFormat("g711_alaw", "audio/pcma", "alaw", 8_000, 1),
}
"""Beta names; 8 kHz for G.711 follows from the codec (the spec does not state it)."""

GA_TYPE_TO_FORMAT: dict[str, AudioFormat] = {f.ga_type: f for f in OPENAI_AUDIO_FORMATS.values()}
GA_PCM_RATES: tuple[int, ...] = (24_000,)

GEMINI_INPUT_RATE = 16_000
GEMINI_OUTPUT_RATE = 24_000
GEMINI_OUTPUT_MIME = "audio/pcm;rate=24000"


@functools.lru_cache(maxsize=16)
def gemini_pcm(rate: int) -> AudioFormat:
    """Gemini Live audio: raw 16-bit little-endian mono PCM at the rate its MIME type declares.

    Cached: every audio message asks for its format, and the answer is an immutable value."""
    return AudioFormat(f"audio/pcm;rate={rate}", "audio/pcm", "pcm16", rate, 2)


def parse_gemini_mime(mime: str) -> int | None:
    """The sample rate of ``audio/pcm;rate=N`` (``audio/pcm`` alone means 16 kHz); None if not raw PCM."""
    parts = [p.strip() for p in mime.split(";")]
    if parts[0].lower() != "audio/pcm":
        return None
    rate = GEMINI_INPUT_RATE
    for part in parts[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "rate":
            if not value.strip().isdigit() or int(value) <= 0:
                return None
            rate = int(value)
    return rate
