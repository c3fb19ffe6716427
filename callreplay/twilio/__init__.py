"""Twilio's side of a call, one home for both targets.

What Twilio sends and how it judges what comes back is the same whether the application is the
in-process model (virtual time) or the user's own server over real sockets (live mode): the
Media Streams messages and their numbering (``stream``), the fixed identifiers (``ids``), the
request signatures (``signature``), the standard voice webhook parameters (``voice_params``) and
the TwiML rules (``twiml``).
"""
