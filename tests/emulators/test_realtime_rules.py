"""The session rules, pinned by exact values: (input, expected first problem) tables per interface."""

from __future__ import annotations

import pytest

from callreplay.emulators.realtime.catalogue import OPENAI_AUDIO_FORMATS, gemini_voices_for, parse_gemini_mime
from callreplay.emulators.realtime.rules import ConfigProblem, gemini_close_for, validate_session
from callreplay.pipeline.session_config import session_update_payload

VOICE_LIST = ("'alloy', 'ash', 'ballad', 'coral', 'echo', 'sage', 'shimmer', 'verse', 'marin', and 'cedar'")


def first(session, interface):
    problems = validate_session(session, interface)
    assert problems, f"expected a problem for {session!r}"
    return problems[0]


BETA_BAD = [
    ({"temperature": 0.3}, "session.temperature", "decimal_below_min_value",
     "Invalid 'session.temperature': decimal below minimum value. Expected a value ≥ 0.6, but got 0.3 instead."),
    ({"temperature": 1.5}, "session.temperature", "decimal_above_max_value",
     "Invalid 'session.temperature': decimal above maximum value. Expected a value ≤ 1.2, but got 1.5 instead."),
    ({"temperature": "hot"}, "session.temperature", "invalid_type",
     "Invalid type for 'session.temperature': expected a decimal, but got string instead."),
    ({"voice": "fable"}, "session.voice", "invalid_value", f"Invalid value: 'fable'. Supported values are: {VOICE_LIST}."),
    ({"input_audio_noise_reduction": {"type": "loud_room"}}, "session.input_audio_noise_reduction.type",
     "invalid_value", "Invalid value: 'loud_room'. Supported values are: 'near_field' and 'far_field'."),
    ({"input_audio_format": "mp3"}, "session.input_audio_format", "invalid_value",
     "Invalid value: 'mp3'. Supported values are: 'pcm16', 'g711_ulaw', and 'g711_alaw'."),
    ({"output_audio_format": "g711_ulaw_8k"}, "session.output_audio_format", "invalid_value",
     "Invalid value: 'g711_ulaw_8k'. Supported values are: 'pcm16', 'g711_ulaw', and 'g711_alaw'."),
    ({"custom_voice_id": "x"}, "session.custom_voice_id", "unknown_parameter",
     "Unknown parameter: 'session.custom_voice_id'."),
    ({"modalities": ["audio"]}, "session.modalities", "invalid_value",
     "Invalid modalities: ['audio']. Supported combinations are: ['text'] and ['audio', 'text']."),
    ({"turn_detection": {"type": "server_vad", "threshold": 1.5}}, "session.turn_detection.threshold",
     "decimal_above_max_value", "Invalid 'session.turn_detection.threshold': decimal above maximum value. "
     "Expected a value ≤ 1.0, but got 1.5 instead."),
    ({"turn_detection": {"type": "push_to_talk"}}, "session.turn_detection.type", "invalid_value",
     "Invalid value: 'push_to_talk'. Supported values are: 'server_vad' and 'semantic_vad'."),
    ({"turn_detection": {"type": "semantic_vad", "eagerness": "eager"}}, "session.turn_detection.eagerness",
     "invalid_value", "Invalid value: 'eager'. Supported values are: 'low', 'medium', 'high', and 'auto'."),
    ({"turn_detection": {"idle_timeout_ms": 1000}}, "session.turn_detection.idle_timeout_ms",
     "integer_below_min_value", "Invalid 'session.turn_detection.idle_timeout_ms': integer below minimum value. "
     "Expected a value ≥ 5000, but got 1000 instead."),
    ({"tools": [{"type": "function", "name": "f", "description": "d" * 2473}]}, "session.tools[0].description",
     "string_above_max_length", "Invalid 'session.tools[0].description': string too long. Expected a string with "
     "maximum length 1024, but got a string with length 2473 instead."),
    ({"tools": [{"type": "function", "name": "f", "meta": 1}]}, "session.tools[0].meta", "unknown_parameter",
     "Unknown parameter: 'session.tools[0].meta'."),
    ({"tool_choice": "always"}, "session.tool_choice", "invalid_value",
     "Invalid value: 'always'. Supported values are: 'auto', 'none', and 'required'."),
    ({"max_response_output_tokens": 5000}, "session.max_response_output_tokens", "integer_above_max_value",
     "Invalid 'session.max_response_output_tokens': integer above maximum value. Expected a value ≤ 4096, "
     "but got 5000 instead."),
    ({"speed": 2}, "session.speed", "decimal_above_max_value",
     "Invalid 'session.speed': decimal above maximum value. Expected a value ≤ 1.5, but got 2 instead."),
    ({"instructions": 42}, "session.instructions", "invalid_type",
     "Invalid type for 'session.instructions': expected a string, but got integer instead."),
]


@pytest.mark.parametrize(("session", "param", "code", "message"), BETA_BAD)
def test_beta_rejections(session, param, code, message):
    problem = first(session, "beta")
    assert (problem.param, problem.code, problem.message) == (param, code, message)


GA_BAD = [
    ({"instructions": "hi"}, "session.type", "missing_required_parameter", "Missing required parameter: 'session.type'."),
    ({"type": "session"}, "session.type", "invalid_value",
     "Invalid value: 'session'. Supported values are: 'realtime' and 'transcription'."),
    ({"type": "realtime", "modalities": ["audio"]}, "session.modalities", "unknown_parameter",
     "Unknown parameter: 'session.modalities'."),
    ({"type": "realtime", "temperature": 0.8}, "session.temperature", "unknown_parameter",
     "Unknown parameter: 'session.temperature'."),
    ({"type": "realtime", "audio": {"output": {"voice": "nova"}}}, "session.audio.output.voice", "invalid_value",
     f"Invalid value: 'nova'. Supported values are: {VOICE_LIST}."),
    ({"type": "realtime", "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}}},
     "session.audio.input.format.rate", "invalid_value", "Invalid value: '16000'. Supported values are: '24000'."),
    ({"type": "realtime", "audio": {"input": {"format": {"type": "g711_ulaw"}}}}, "session.audio.input.format.type",
     "invalid_value", "Invalid value: 'g711_ulaw'. Supported values are: 'audio/pcm', 'audio/pcmu', and 'audio/pcma'."),
    ({"type": "realtime", "audio": {"input": {"noise_reduction": {"type": "quiet"}}}},
     "session.audio.input.noise_reduction.type", "invalid_value",
     "Invalid value: 'quiet'. Supported values are: 'near_field' and 'far_field'."),
    ({"type": "realtime", "output_modalities": ["audio", "text"]}, "session.output_modalities", "invalid_value",
     "Invalid 'session.output_modalities': expected ['audio'] or ['text']."),
    ({"type": "realtime", "audio": {"input": {"transcription": {"prompt": "p" * 1100}}}},
     "session.audio.input.transcription.prompt", "string_above_max_length",
     "Invalid 'session.audio.input.transcription.prompt': string too long. Expected a string with maximum length "
     "1024, but got a string with length 1100 instead."),
]


@pytest.mark.parametrize(("session", "param", "code", "message"), GA_BAD)
def test_ga_rejections(session, param, code, message):
    problem = first(session, "ga")
    assert (problem.param, problem.code, problem.message) == (param, code, message)


def test_the_pipelines_own_session_update_is_valid_beta():
    from callreplay.pipeline.context import BuiltPrompt

    prompt = BuiltPrompt(text="You are the assistant of Alpha Insurance.", provenance=None)
    payload, _ = session_update_payload(prompt, "ash", None)
    assert validate_session(payload["session"], "beta") == []
    assert validate_session(payload["session"], "ga")[0].param == "session.type"  # beta shape sent to GA


def test_valid_ga_session_passes():
    session = {"type": "realtime", "model": "gpt-realtime", "output_modalities": ["audio"], "instructions": "hi",
               "audio": {"input": {"format": {"type": "audio/pcmu"}, "noise_reduction": {"type": "far_field"},
                                   "turn_detection": {"type": "semantic_vad", "eagerness": "high"}},
                         "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": {"id": "voice_123"},
                                    "speed": 1.2}},
               "tools": [{"type": "function", "name": "book", "parameters": {"type": "object"}}],
               "tool_choice": {"type": "function", "name": "book"}, "max_output_tokens": "inf"}
    assert validate_session(session, "ga") == []


def test_every_problem_is_listed_in_order():
    problems = validate_session({"voice": "fable", "temperature": 0.1}, "beta")
    assert [p.param for p in problems] == ["session.voice", "session.temperature"]
    assert problems[0] == ConfigProblem("session.voice", "fable", "invalid_value", problems[0].message)


def test_non_object_session_and_unknown_interface():
    assert first("x", "beta").code == "invalid_type"
    with pytest.raises(ValueError, match="interface must be one of beta, ga, gemini"):
        validate_session({}, "azure")


GEMINI_OK = {"model": "models/gemini-2.0-flash-live-001",
             "generationConfig": {"responseModalities": ["AUDIO"],
                                  "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}}},
             "systemInstruction": {"parts": [{"text": "Be brief."}]},
             "realtimeInputConfig": {"automaticActivityDetection": {"disabled": False,
                                                                    "startOfSpeechSensitivity": "START_SENSITIVITY_LOW"}}}


def test_gemini_valid_setup_and_snake_case():
    assert validate_session(GEMINI_OK, "gemini") == []
    snake = {"model": "models/x", "generation_config": {"response_modalities": ["AUDIO"]}}
    assert validate_session(snake, "gemini") == []


GEMINI_BAD = [
    ({**GEMINI_OK, "generationConfig": {"speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "alloy"}}}}},
     (1007, "Request contains an invalid argument.")),
    ({"model": "gpt-4o"}, (1008, "models/gpt-4o is not found for API version v1beta, or is not supported for "
                                 "bidiGenerateContent. Call ListModels to see the ")),  # cut at 123 bytes
    ({"model": "models/x", "generationConfig": {"outputAudioTranscription": {}}},
     (1007, "Invalid JSON payload received. Unknown name \"outputAudioTranscription\" at 'setup.generation_config': "
            "Cannot find field.")),
    ({"model": "models/gemini-2.5-flash-native-audio", "generationConfig": {"responseModalities": ["TEXT"]}},
     (1007, "Cannot extract voices from a non-audio request.")),
    ({"model": "models/x", "realtimeInputConfig": {"automaticActivityDetection": {
        "startOfSpeechSensitivity": "START_SENSITIVITY_MEDIUM"}}},
     (1007, "Invalid value at 'setup.realtime_input_config.automatic_activity_detection.start_of_speech_sensitivity' "
            "('START_SENSITIVITY")),
]


@pytest.mark.parametrize(("setup", "close"), GEMINI_BAD)
def test_gemini_rejections_close_like_the_service(setup, close):
    assert gemini_close_for(first(setup, "gemini")) == close


def test_catalogue_data():
    assert OPENAI_AUDIO_FORMATS["g711_ulaw"].bytes_for_ms(20) == 160
    assert OPENAI_AUDIO_FORMATS["pcm16"].bytes_for_ms(20) == 960
    assert len(gemini_voices_for("models/gemini-2.5-flash-native-audio-preview")) == 30
    assert "Sulafat" not in gemini_voices_for("models/gemini-2.0-flash-live-001")
    assert parse_gemini_mime("audio/pcm;rate=16000") == 16000
    assert parse_gemini_mime("audio/pcm") == 16000
    assert parse_gemini_mime("audio/wav") is None
