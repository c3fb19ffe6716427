"""Offline stand-ins for the services a voice agent talks to, served on loopback for live mode.

``realtime`` speaks the OpenAI Realtime API (beta and GA) and Gemini Live; ``twilio_rest`` is
Twilio's REST API; ``tls`` makes a throw-away certificate authority so clients that insist on
``wss://`` / ``https://`` can be pointed at them. Each emulator records every request it gets.
"""
