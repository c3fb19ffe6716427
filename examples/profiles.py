"""A user's own pipeline profile, built by subclassing a built-in one.

Run it with::

    callreplay run scenarios/incident --pipeline examples.profiles:NoFallbackRebuildOnMismatch

(from the repository root, so that ``examples`` is importable). A profile is a class of switches
(see :mod:`callreplay.pipeline.profiles`); a subclass flips only what differs from its base.
"""

from __future__ import annotations

from callreplay.pipeline.profiles import Legacy


class NoFallbackRebuildOnMismatch(Legacy):
    """The incident's code with fix options 1 and 3 applied together, and nothing else.

    * option 1: builder A raises ``MissingPromptError`` instead of borrowing the other direction's
      prompt, so an inbound call with an empty ``ai_prompt`` never parks the outbound script;
    * option 3: when the HARD LOCK heuristic (``'outbound' in prompt.lower()``) flags a mismatch,
      the handler rebuilds the prompt for the call's direction without the cache instead of
      continuing with it.

    Unlike the shipped fix (``fixed``) it keeps legacy's missing-prompt path: with nothing parked,
    the WebSocket binds the greeting sentence (hazard H3) rather than rebuilding through the cache.
    On the incident this yields no contamination, only ``missing-prompt`` warnings.
    """

    name = "no-fallback-rebuild-on-mismatch"
    summary = "legacy + fix options 1 and 3: no cross-direction fallback, rebuild on a HARD LOCK mismatch"
    cross_direction_fallback = False
    mismatch_action = "rebuild"
