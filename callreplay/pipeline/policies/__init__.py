"""Policies: one small typed interface per decision point the spec names, and the built-in choices.

A :class:`~callreplay.pipeline.profiles.Profile` is a frozen composition of one policy per seam. The
model asks a policy for a *verdict* (a small frozen record), records that verdict in the trace and
carries it out, so the trace cannot describe one action while the model takes another.

=====================  ==========================  =============================================
seam (Profile field)   interface                   built-ins
=====================  ==========================  =============================================
``prompt_source``      :class:`PromptSource`       :class:`CrossDirectionFallback`, :class:`NoFallback`
``builders``           :class:`SystemBuilders`     :class:`SpecBuilders`
``prebuild_store``     :class:`PrebuildStore`      :class:`PromptOnly`, :class:`WithMetadata`
``direction``          :class:`DirectionPolicy`    :class:`SpecDirection`
``prompt_check``       :class:`PromptCheck`        :class:`SubstringCheck`, :class:`MetadataCheck`, :class:`FullCheck`
``prebuild_wait``      :class:`PrebuildWait`       :class:`NoWait`, :class:`WaitForPrebuild`
``cache``              :class:`CachePolicy`        :class:`DirectionKeyedCache`
``lifecycle``          :class:`RegistryLifecycle`  :class:`SpecLifecycle`
``settings_change``    :class:`SettingsChange`     :class:`SpecSettingsChange`
``sender``             :class:`SenderStart`        :class:`SenderAfterSession`, :class:`SenderFromStart`
=====================  ==========================  =============================================

New mechanisms (caller-audio gates, session-config validation, transmit pacing, echo, provider,
call-record lifecycle, layer caps) arrive as new seams of the same shape: a Protocol, a default
that is the spec's behaviour, and a Profile field.
"""

from __future__ import annotations

from .builder_a import Borrow, CrossDirectionFallback, NoFallback, PromptSource, Refuse, SourceVerdict
from .builders import BlankBody, SpecBuilders, SystemBuilders
from .cache import CachePolicy, DirectionKeyedCache
from .direction import DirectionPolicy, SpecDirection
from .lifecycle import RegistryLifecycle, SettingsChange, SpecLifecycle, SpecSettingsChange
from .prebuild import DontStore, PrebuildFacts, PrebuildStore, PromptOnly, Store, StoreVerdict, WithMetadata
from .prompt_check import (
    MISMATCH_ACTIONS,
    MISSING_ACTIONS,
    Checked,
    FullCheck,
    MetadataCheck,
    Missing,
    ParkedPrompt,
    PromptCheck,
    PromptVerdict,
    SubstringCheck,
)
from .sender import SenderAfterSession, SenderFromStart, SenderStart
from .wait import NoWait, PrebuildWait, WaitForPrebuild

__all__ = [
    "MISMATCH_ACTIONS", "MISSING_ACTIONS", "BlankBody", "Borrow", "CachePolicy", "Checked", "CrossDirectionFallback",
    "DirectionKeyedCache", "DirectionPolicy", "DontStore", "FullCheck", "MetadataCheck", "Missing", "NoFallback",
    "NoWait", "ParkedPrompt", "PrebuildFacts", "PrebuildStore", "PrebuildWait", "PromptCheck", "PromptOnly",
    "PromptSource", "PromptVerdict", "Refuse", "RegistryLifecycle", "SenderAfterSession", "SenderFromStart",
    "SenderStart", "SettingsChange", "SourceVerdict", "SpecBuilders", "SpecDirection", "SpecLifecycle",
    "SpecSettingsChange", "Store", "StoreVerdict", "SubstringCheck", "SystemBuilders", "WaitForPrebuild",
    "WithMetadata",
]
