"""``callreplay serve``: the in-process model as a real server, a reference target for live mode.

The model runs unchanged: its scheduler is pumped by the wall clock instead of the replay engine,
webhooks arrive over HTTP, the Media Streams socket over a real WebSocket, and what the model
sends back to Twilio (audio, marks, clear) goes out on that socket. Its realtime session keeps
the model's own timing and is mirrored to the realtime URL it is given, so live mode's detectors
see exactly the session updates, audio and responses the model produced.
"""
