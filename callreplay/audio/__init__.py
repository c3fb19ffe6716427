"""The audio-frame path: mu-law frames, their sources and faults, and the gate model (spec 8).

``AudioPath`` is the fast implementation; ``ReferenceAudioPath`` is the plain per-frame one it is
tested against.
"""

from .config import AudioConfig
from .fast import FastAudioPath
from .frames import FrameBatch
from .path import AudioPath as AudioPathBase
from .path import LogLine, SliceResult
from .reference import ReferenceAudioPath

AudioPath = FastAudioPath

__all__ = ["AudioConfig", "AudioPath", "AudioPathBase", "FastAudioPath", "FrameBatch", "LogLine",
           "ReferenceAudioPath", "SliceResult"]
