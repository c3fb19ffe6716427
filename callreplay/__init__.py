"""callreplay: replay recorded Twilio call traffic against a faithful model of an AI voice-call pipeline.

The public surface is small on purpose: load scenarios, replay them under a profile, read the
trace and the findings. Everything else lives in subpackages named after what they model.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
