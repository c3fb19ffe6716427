"""The trace's vocabulary: every event kind, the component(s) that emit it and the fields its data may carry.

Detectors, results and the report read trace events by kind; the catalogue makes that contract
explicit and a test keeps it honest (``tests/scenarios/test_trace_kinds.py``): every kind read is
declared and emitted by some shipped scenario, and every kind emitted is declared with its fields.

Other packages add their own kinds through :func:`declare` (live mode's ``live.*``, ``realtime.*``
and ``twilio.rest*`` kinds, for instance); a kind is declared once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TraceKind:
    """One event kind: its name, who emits it, the data fields it may carry, and what it means."""

    name: str
    components: tuple[str, ...]
    fields: tuple[str, ...]
    summary: str


KINDS: dict[str, TraceKind] = {}


def declare(name: str, components: tuple[str, ...], fields: tuple[str, ...], summary: str) -> TraceKind:
    """Add a kind to the catalogue (the extension point); declaring a taken name differently is an error."""
    kind = TraceKind(name, components, fields, summary)
    known = KINDS.get(name)
    if known is not None and known != kind:
        raise ValueError(f"trace kind {name!r} is already declared differently")
    KINDS[name] = kind
    return kind


declare('audio.profile', ('audio',),
        ('bin_us', 'forwarded', 'frames', 'max', 'mean', 't0_us'),
        "the call's RMS over time, downsampled for the report's plot")
declare('cache.clear', ('prompt_cache',),
        ('entries',),
        'the prompt cache was emptied')
declare('cache.get', ('prompt_cache',),
        ('age_us', 'business_id', 'direction', 'entry_business_id', 'entry_direction', 'key', 'prompt_id',
         'result', 'ttl_us'),
        "a prompt-cache lookup: hit, miss or expired, with the entry's age")
declare('cache.invalidate', ('prompt_cache',),
        ('business_id', 'direction', 'existed', 'key'),
        'a prompt-cache key was invalidated (existed: whether it held an entry)')
declare('cache.set', ('prompt_cache',),
        ('business_id', 'direction', 'key', 'prompt_id', 'ttl_us'),
        'a prompt was stored in the cache')
declare('call.business_identified', ('media_ws',),
        ('business_id',),
        "the WebSocket resolved the call's business")
declare('call.direction_change_blocked', ('media_ws',),
        ('attempted', 'current'),
        'a later start tried to change the locked direction')
declare('call.direction_locked', ('media_ws',),
        ('changed', 'direction'),
        "the call's direction was set (changed: a later start changed it)")
declare('call.ended', ('media_ws',),
        ('appended_frames', 'audio_sha256', 'business_id', 'counters', 'direction', 'duration_us', 'reason',
         'status', 'turns', 'tx_frames'),
        "run()'s finally: the call's end, counters and audio digest")
declare('call.hard_limit', ('media_ws',),
        ('at_us', 'reason', 'sender_start_us'),
        'the usage guard tripped and the call was hung up')
declare('call.rejected', ('media_ws',),
        ('reason',),
        'the WebSocket could not identify the business and closed')
declare('call.session_closed', ('media_ws',),
        ('reason',),
        'close_session ran')
declare('call.started', ('media_ws',),
        ('custom_parameters', 'direction', 'from_', 'stream_sid', 'to'),
        "Twilio's start event was handled")
declare('calllog.upsert', ('webhook',),
        ('business_id', 'direction', 'twilio_direction'),
        'the webhook wrote the call_log row')
declare('http.request', ('http',),
        ('form', 'method', 'note', 'status', 'url'),
        'an outbound HTTP request (Twilio REST) and its mocked answer')
declare('lead.created', ('leads',),
        ('lead_id', 'tenant_id'),
        'the lead-creation thread wrote a lead')
declare('log', ('app', 'audio', 'media_ws', 'prebuild', 'prompt_builder', 'prompt_cache', 'recording', 'webhook'),
        ('level', 'message'),
        'a log line of the modelled system (level: INFO/WARNING/ERROR/DEBUG/PRINT/OUT...)')
declare('prebuild.finished', ('prebuild',),
        ('key_sid', 'prompt_id', 'reason', 'stored', 'task'),
        "the webhook's pre-build thread ended (stored: whether it parked a prompt)")
declare('prompt.built', ('prompts',),
        ('builder', 'built_at_us', 'business_id', 'fallback', 'length', 'path', 'prompt_id', 'requested_direction',
         'settings_version', 'source_direction', 'source_field', 'text'),
        'a builder produced a prompt, with its provenance')
declare('prompt.failed', ('media_ws',),
        ('reason',),
        'no prompt could be built; the call ends instead of improvising')
declare('prompt.loaded', ('media_ws',),
        ('path', 'prompt_id'),
        'the prompt the session is about to be bound to')
declare('prompt.mismatch_check', ('media_ws',),
        ('action', 'detected', 'expected', 'method', 'mismatch', 'prompt_id', 'reasons'),
        "the prompt check's verdict on the parked prompt")
declare('prompt.missing', ('media_ws',),
        ('action', 'prompt_id'),
        'nothing was parked; the verdict says what the call binds instead')
declare('prompt.registry_read', ('media_ws',),
        ('found', 'prebuild_pending', 'prompt_id'),
        'the realtime thread read _prebuilt_full_prompt')
declare('prompt.wait_for_prebuild', ('media_ws',),
        ('timeout_us',),
        'the realtime thread waits for a pending pre-build (hardened)')
declare('realtime.audio_append', ('realtime',),
        ('first_seq', 'first_us', 'frames', 'last_seq', 'prompt_id', 'total_frames'),
        'caller frames appended to the realtime input buffer')
declare('realtime.audio_before_instructions', ('realtime',),
        ('conn', 'first_us', 'frames', 'instructions_set'),
        'audio reached the session before any instructions')
declare('realtime.prompt_revalidated', ('realtime',),
        ('prompt_id', 'reason'),
        'a refresh found the bound prompt unchanged')
declare('realtime.respond_ignored', ('media_ws',),
        ('reason',),
        'a scripted realtime step found no session (or a closed call)')
declare('realtime.response_audio', ('realtime',),
        ('duration_us', 'prompt_id', 'reason', 'turn'),
        'a response turn started playing')
declare('realtime.response_created', ('realtime',),
        ('conn', 'duration_us', 'instructions', 'prompt_id', 'reason', 'response_id', 'turn'),
        'a response turn was created')
declare('realtime.response_done', ('realtime',),
        ('audio_ms', 'cancelled', 'conn', 'played_us', 'reason', 'response_id', 'status', 'transcript', 'turn', 'why'),
        'a response turn ended (cancelled: by barge-in)')
declare('realtime.session_closed', ('realtime',),
        ('appended_frames', 'audio_sha256', 'turns', 'updates'),
        'the realtime session closed')
declare('realtime.session_failed', ('realtime',),
        ('reason',),
        'no session.updated within 8 s (H14)')
declare('realtime.session_update', ('realtime',),
        ('accepted', 'conn', 'input_audio_format', 'instructions', 'modalities', 'noise_reduction',
         'output_audio_format', 'problems', 'prompt_id', 'reason', 'temperature', 'tool_specs', 'tools',
         'turn_detection', 'update_number', 'voice'),
        'a session.update was sent, with what it carried')
declare('realtime.session_updated', ('realtime',),
        ('conn', 'update_number'),
        'the service confirmed the session.update')
declare('realtime.speech_started', ('media_ws',),
        ('audio_ms', 'conn', 'onset_us', 'trigger_us'),
        "the session's server VAD heard the caller start")
declare('realtime.speech_stopped', ('media_ws',),
        ('audio_ms', 'conn'),
        "the session's server VAD heard the caller stop")
declare('registry.clear', ('stream_registry',),
        ('existed', 'keys', 'reason', 'sid'),
        'a stream-registry entry was removed')
declare('registry.create', ('stream_registry',),
        ('sid',),
        'a stream-registry entry was created')
declare('registry.final', ('stream_registry',),
        ('entries',),
        "the stream registry's entries when the replay ended")
declare('registry.get', ('stream_registry',),
        ('found', 'key', 'length', 'prompt_id', 'sid', 'value'),
        'a stream-registry read of one key')
declare('registry.get_copy', ('stream_registry',),
        ('sid',),
        'a shallow copy of a stream-registry entry was taken')
declare('registry.set', ('stream_registry',),
        ('atomic', 'key', 'length', 'prompt_id', 'sid', 'value'),
        'a stream-registry write of one key')
declare('registry.write_to_copy', ('webhook',),
        ('key', 'sid'),
        'a write to a copy that never reaches the registry (H11)')
declare('replay.end', ('replay',),
        ('open_calls',),
        'the replay ended (calls still open)')
declare('replay.start', ('replay',),
        ('businesses', 'clock', 'clock_start', 'mode', 'profile', 'profile_class', 'prompt_cache_ttl_us',
         'scenario', 'target'),
        'the replay started: scenario, profile, clock')
declare('replay.step', ('replay',),
        ('action', 'index', 'line', 'path'),
        'the engine started a scenario step')
declare('settings.changed', ('store',),
        ('business_id', 'changes', 'invalidate_cache', 'version'),
        "a settings step changed a business's configuration")
declare('task.scheduled', ('prebuild',),
        ('direction', 'due_us', 'task'),
        'a background thread was scheduled')
declare('webhook.business_resolved', ('webhook',),
        ('business_id', 'to', 'via'),
        'the webhook resolved the business for the dialled number')
declare('webhook.request', ('webhook',),
        ('direction', 'form', 'method', 'path', 'purpose', 'query', 'route', 'url'),
        'a webhook request')
declare('webhook.response', ('webhook',),
        ('body', 'content_type', 'purpose', 'route', 'status', 'stream_parameters'),
        'its response (TwiML and the stream parameters)')
declare('ws.closed', ('twilio',),
        ('by', 'code', 'reason'),
        'the Media Streams socket closed')
declare('ws.dropped', ('twilio',),
        ('step',),
        'a scenario step for a closed socket was dropped')
declare('ws.dtmf', ('media_ws',),
        ('digit',),
        'the handler received a DTMF digit')
declare('ws.ignored', ('twilio',),
        ('event', 'reason', 'step'),
        'Twilio ignored a step (e.g. media after stop)')
declare('ws.in', ('twilio',),
        ('event', 'message', 'raw', 'seq'),
        'a non-media message Twilio sent the application')
declare('ws.mark_echo', ('media_ws',),
        ('name',),
        'the handler received a mark echo')
declare('ws.media', ('twilio',),
        ('first_us', 'frames', 'last_us', 'noise_spans', 'speech_spans', 'step', 'stream_sid'),
        'a run of media frames Twilio sent')
declare('ws.open', ('twilio',),
        ('bidirectional', 'stream_sid', 'url'),
        'Twilio opened the Media Streams socket')
declare('ws.out', ('twilio',),
        ('bytes', 'dropped_us', 'echoed_marks', 'event', 'frames', 'name', 'plays_from_us', 'plays_until_us',
         'rms', 'sig', 'turn', 'whole_frames'),
        'what the application sent back: media, mark or clear')
declare('ws.protocol', ('twilio',),
        ('at_us', 'count', 'first_seq', 'previous_seq', 'problem', 'step', 'stream_sid'),
        'a Media Streams protocol problem (sequence gaps, duplicates...)')
declare('ws.unhandled', ('media_ws',),
        ('event',),
        'the handler received an event it does not handle')


declare('replay.step_skipped', ('replay',), ('path', 'reason'), 'in-process: a step only live mode can carry out')
declare('probe.result', ('probe',),
        ('business', 'call_log_business', 'direction', 'elapsed_us', 'found', 'http_status', 'lead_business', 'raw',
         'raw_truncated', 'status', 'step', 'target', 'via'),
        "a probe step read the call's stored state (live: the target; in-process: the model's store), typed fields")


# -- live mode (callreplay.live): what crosses the sockets between Twilio, the server and the model ----------
# Every kind declared below this line is emitted only by live mode (and serve); LIVE_ONLY_KINDS is derived
# from that, at the end of the file.
_IN_PROCESS_KINDS = frozenset(KINDS)
declare('app.request', ('replay',), ('form', 'json', 'method', 'path'), "live: an http step's request to the server's own API")
declare('app.response', ('replay',), ('body', 'status'), "live: the server's answer to an http step")
declare('app.failed', ('replay',), ('message',), "live: an http step's request failed")
declare('call.answered', ('twilio',), (), 'live: TwiML began executing (the call is in progress)')
declare('call.business_expected', ('replay',), ('business_id', 'direction', 'rule', 'twilio_direction'),
        'live: the business of the dialled number, the ground truth contamination is judged against')
declare('call.hangup_requested', ('twilio',), ('by', 'status'), 'live: the app hung up (<Hangup>, REST Status=completed)')
declare('callback.failed', ('twilio',), ('event', 'http_status', 'url'), 'live: a status callback answered non-2xx')
declare('callback.scripted', ('twilio',), ('delay_us', 'effect', 'event'),
        "live: the scenario made an automatic status callback late, missing or out of order (effect: dropped, "
        "held, delayed, sent-out-of-order)")
declare('realtime.audio_in', ('realtime',), ('bytes', 'conn', 'frames', 'rms', 'sig'),
        'live: caller audio the model received (sig: its sign signature, callreplay.audio.signature)')
declare('realtime.audio_out', ('realtime',), ('bytes', 'conn', 'duration_us', 'response_id'), 'live: model audio sent')
declare('realtime.client_event', ('realtime',), ('audio', 'conn', 'event_id', 'item', 'response', 'session', 'type'),
        'live: every event the server sent the model (audio summarised)')
declare('realtime.closed', ('realtime',), ('by', 'code', 'conn', 'reason'), 'live: the model session closed')
declare('realtime.connected', ('realtime',), ('conn', 'headers', 'interface', 'model', 'path', 'provider'),
        'live: the server opened a model session')
declare('realtime.error', ('realtime',), ('code', 'conn', 'event_id', 'message', 'param'), 'live: the model answered an error')
declare('realtime.item_created', ('realtime',), ('conn', 'content', 'item_id', 'role', 'type'),
        'live: a conversation item the server created')
declare('realtime.rejected_handshake', ('realtime',), ('code', 'path', 'reason'), 'live: a connection the emulator refused')
declare('realtime.server_event', ('realtime',),
        ('audio_end_ms', 'audio_start_ms', 'conn', 'content_index', 'conversation', 'delta', 'error', 'event_id', 'item',
         'item_id', 'output_index', 'part', 'previous_item_id', 'rate_limits', 'response', 'response_id', 'session',
         'transcript', 'type'), 'live: every event the model sent (audio summarised)')
declare('realtime.mirror_problem', ('realtime',), ('message',), 'serve: the mirrored realtime session failed')
declare('twilio.rest', ('twilio_rest',), ('error_code', 'method', 'params', 'path', 'resource', 'sid', 'status'),
        'live: a request to the Twilio REST emulator')
declare('twiml.problem', ('twilio',), ('code', 'http_status', 'level', 'location', 'message', 'purpose'),
        "live: TwiML that breaks Twilio's rules")
declare('twiml.unsupported', ('twilio',), ('verb',), 'live: a verb callreplay does not emulate')
declare('twiml.verb', ('twilio',),
        ('action', 'digits', 'input', 'length', 'loop', 'method', 'name', 'parameters', 'reason', 'seconds',
         'status_callback', 'status_callback_method', 'text', 'timeout', 'track', 'url', 'verb', 'voice', 'language'),
        'live: a TwiML verb Twilio executed')
declare('webhook.failed', ('webhook',), ('code', 'message', 'purpose', 'reason', 'url'), 'live: a webhook got no answer')
declare('webhook.refused_host', ('twilio',), ('purpose', 'url'), 'live: a URL callreplay may not request')
declare('ws.app_problem', ('twilio',), ('app_event', 'code', 'expected', 'problem', 'sample', 'size', 'stream_sid'),
        'live: a message from the server that Twilio rejects')
declare('ws.media_late', ('twilio',), ('late_us', 'step'),
        "live: a media step's stream opened late; its frames start then, at real time")
declare('ws.pacing', ('twilio',), ('frames', 'max_us', 'p50_us', 'p99_us'), "live: how late one stream's frames left")
declare('ws.refused', ('twilio',), ('code', 'message', 'status', 'url'), 'live: a media stream that could not be opened')
declare('probe.failed', ('probe',), ('elapsed_us', 'http_status', 'message', 'reason', 'step', 'target', 'via'),
        'live: a probe step could not read the state (timeout, error answer, not JSON, not configured)')
declare('live.step_unsupported', ('replay',), ('action', 'path', 'reason'), 'live: a step live mode skipped')

LIVE_ONLY_KINDS = frozenset(KINDS) - _IN_PROCESS_KINDS
