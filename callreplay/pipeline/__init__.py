"""The faithful model of the call pipeline described in ``shared/pipeline-spec.md``.

Modules are named after the parts of the real system they model: ``store`` (Business,
BusinessSettings, CallLog), ``prompts`` (builders A-D and the fallback chains), ``sanitize`` (the
wire sanitiser), ``cache`` (PromptCache), ``registry`` (StreamRegistry), ``webhooks``,
``media_handler`` (MediaStreamHandler), ``realtime`` (the OpenAI Realtime session), ``callreplay.twilio.stream``
(what Twilio does with what the application sends back) and ``profiles`` (legacy, fixed, ...).
"""
