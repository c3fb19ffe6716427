"""The one place session configuration is checked: OpenAI Realtime (beta and GA) and Gemini Live setup.

``validate_session(session, interface)`` returns every problem found, each with the parameter path, the
offending value, the service's error code and a message worded like the service's (sheet 1.8); the
emulator reports the first, as the service does. Pure: no I/O, no state, so the in-process model and
detectors can import it. Values come from ``shared/realtime-protocols.md``; where the sheet marks a
code or message as unverified (temperature above 1.2, type errors, GA ``temperature``) the wording
follows OpenAI's generic pattern and the docs say so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .catalogue import (
    GA_PCM_RATES,
    GA_TYPE_TO_FORMAT,
    GEMINI_HALF_CASCADE_VOICES,
    GEMINI_NATIVE_AUDIO_VOICES,
    OPENAI_AUDIO_FORMATS,
    OPENAI_VOICES,
    VOICES,
    AudioFormat,
    gemini_voices_for,
)

__all__ = ["ConfigProblem", "validate_session", "missing_parameter", "INTERFACES", "VOICES", "OPENAI_VOICES",
           "OPENAI_AUDIO_FORMATS", "GA_TYPE_TO_FORMAT", "GEMINI_HALF_CASCADE_VOICES", "GEMINI_NATIVE_AUDIO_VOICES", "AudioFormat",
           "TEMPERATURE_RANGE", "SPEED_RANGE", "MAX_OUTPUT_TOKENS_RANGE", "TOOL_DESCRIPTION_MAX",
           "GEMINI_CLOSE_CODES", "gemini_close_for"]

INTERFACES = ("beta", "ga", "gemini")
TEMPERATURE_RANGE = (0.6, 1.2)
SPEED_RANGE = (0.25, 1.5)
MAX_OUTPUT_TOKENS_RANGE = (1, 4096)
THRESHOLD_RANGE = (0.0, 1.0)
IDLE_TIMEOUT_RANGE = (5_000, 30_000)
TOOL_DESCRIPTION_MAX = 1024
TRANSCRIPTION_PROMPT_MAX = 1024
NOISE_REDUCTION_TYPES = ("near_field", "far_field")
TURN_DETECTION_TYPES = ("server_vad", "semantic_vad")
EAGERNESS = ("low", "medium", "high", "auto")
TOOL_CHOICE_MODES = ("auto", "none", "required")
REASONING_EFFORT = ("minimal", "low", "medium", "high", "xhigh")
TRANSCRIPTION_DELAY = ("minimal", "low", "medium", "high", "xhigh")
INCLUDE_VALUES = ("item.input_audio_transcription.logprobs",)
GA_SESSION_TYPES = ("realtime", "transcription")


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One violation: where (``session.temperature``), what was sent, the service's code and message."""

    param: str
    value: Any
    code: str
    message: str


def missing_parameter(param: str) -> ConfigProblem:
    """A required field left out, as OpenAI reports it."""
    return ConfigProblem(param, None, "missing_required_parameter", f"Missing required parameter: '{param}'.")


def _quoted_list(values: Sequence[object]) -> str:
    """``'a', 'b', and 'c'`` the way OpenAI's enum errors list the choices."""
    items = [f"'{v}'" for v in values]
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


_JSON_TYPE_NAMES = {bool: "boolean", int: "integer", float: "decimal", str: "string", list: "array",
                    dict: "object", type(None): "null"}


def _type_name(value: object) -> str:
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


class _Checker:
    """Accumulates problems while walking one session object."""

    def __init__(self) -> None:
        self.problems: list[ConfigProblem] = []

    def add(self, param: str, value: object, code: str, message: str) -> None:
        self.problems.append(ConfigProblem(param, value, code, message))

    def unknown(self, obj: dict, allowed: Sequence[str], where: str) -> None:
        for key in obj:
            if key not in allowed:
                self.add(f"{where}.{key}", obj[key], "unknown_parameter", f"Unknown parameter: '{where}.{key}'.")

    def type_is(self, param: str, value: object, expected: str, ok: bool) -> bool:
        if not ok:
            self.add(param, value, "invalid_type",
                     f"Invalid type for '{param}': expected {expected}, but got {_type_name(value)} instead.")
        return ok

    def obj(self, param: str, value: object) -> bool:
        return self.type_is(param, value, "an object", isinstance(value, dict))

    def string(self, param: str, value: object, max_len: int | None = None) -> bool:
        if not self.type_is(param, value, "a string", isinstance(value, str)):
            return False
        assert isinstance(value, str)
        if max_len is not None and len(value) > max_len:
            self.add(param, value, "string_above_max_length",
                     f"Invalid '{param}': string too long. Expected a string with maximum length {max_len}, "
                     f"but got a string with length {len(value)} instead.")
            return False
        return True

    def boolean(self, param: str, value: object) -> bool:
        return self.type_is(param, value, "a boolean", isinstance(value, bool))

    def enum(self, param: str, value: object, allowed: Sequence[object]) -> bool:
        if value in allowed and not isinstance(value, bool):
            return True
        self.add(param, value, "invalid_value", f"Invalid value: '{value}'. Supported values are: {_quoted_list(allowed)}.")
        return False

    def decimal(self, param: str, value: object, low: float | None, high: float | None) -> bool:
        if not self.type_is(param, value, "a decimal", isinstance(value, (int, float)) and not isinstance(value, bool)):
            return False
        assert isinstance(value, (int, float))
        return self._in_range(param, value, low, high, "decimal")

    def integer(self, param: str, value: object, low: int | None, high: int | None) -> bool:
        if not self.type_is(param, value, "an integer", isinstance(value, int) and not isinstance(value, bool)):
            return False
        assert isinstance(value, int)
        return self._in_range(param, value, low, high, "integer")

    def _in_range(self, param: str, value: float, low: float | None, high: float | None, kind: str) -> bool:
        """Bounds of a number already known to be a ``kind`` (``decimal``/``integer``), in OpenAI's words."""
        if low is not None and value < low:
            self.add(param, value, f"{kind}_below_min_value", f"Invalid '{param}': {kind} below minimum value. "
                     f"Expected a value ≥ {low}, but got {value} instead.")
            return False
        if high is not None and value > high:
            self.add(param, value, f"{kind}_above_max_value", f"Invalid '{param}': {kind} above maximum value. "
                     f"Expected a value ≤ {high}, but got {value} instead.")
            return False
        return True

    def missing(self, param: str) -> None:
        self.problems.append(missing_parameter(param))

    def nullable(self, param: str, value: object, check: Callable[[str, object], object]) -> None:
        if value is not None:
            check(param, value)


# -- shared pieces (both OpenAI interfaces) ---------------------------------------------------------------

def _check_voice(c: _Checker, param: str, value: object) -> None:
    if isinstance(value, dict):
        c.unknown(value, ("id",), param)
        if "id" not in value:
            c.missing(f"{param}.id")
        else:
            c.string(f"{param}.id", value["id"])
        return
    if c.string(param, value):
        c.enum(param, value, OPENAI_VOICES)


def _check_turn_detection(c: _Checker, param: str, td: object, ga: bool) -> None:
    if not c.obj(param, td):
        return
    assert isinstance(td, dict)
    kind = td.get("type", "server_vad")
    c.enum(f"{param}.type", kind, TURN_DETECTION_TYPES)
    common = ("type", "create_response", "interrupt_response")
    if kind == "semantic_vad":
        c.unknown(td, (*common, "eagerness"), param)
        if "eagerness" in td:
            c.enum(f"{param}.eagerness", td["eagerness"], EAGERNESS)
    else:
        c.unknown(td, (*common, "threshold", "prefix_padding_ms", "silence_duration_ms", "idle_timeout_ms"), param)
        if "threshold" in td:
            c.decimal(f"{param}.threshold", td["threshold"], *THRESHOLD_RANGE)
        for name in ("prefix_padding_ms", "silence_duration_ms"):
            if name in td:
                c.integer(f"{param}.{name}", td[name], 0, None)
        if "idle_timeout_ms" in td and td["idle_timeout_ms"] is not None:
            c.integer(f"{param}.idle_timeout_ms", td["idle_timeout_ms"], *IDLE_TIMEOUT_RANGE)
    for name in ("create_response", "interrupt_response"):
        if name in td:
            c.boolean(f"{param}.{name}", td[name])


def _check_noise_reduction(c: _Checker, param: str, value: object) -> None:
    if not c.obj(param, value):
        return
    assert isinstance(value, dict)
    c.unknown(value, ("type",), param)
    if "type" not in value:
        c.missing(f"{param}.type")
    else:
        c.enum(f"{param}.type", value["type"], NOISE_REDUCTION_TYPES)


def _check_transcription(c: _Checker, param: str, value: object, ga: bool) -> None:
    if not c.obj(param, value):
        return
    assert isinstance(value, dict)
    allowed = ("model", "language", "prompt", *(("delay", "languages", "keywords") if ga else ()))
    c.unknown(value, allowed, param)
    if "model" in value:
        c.string(f"{param}.model", value["model"])  # the model list grows (sheet 1.2): type only
    if "language" in value:
        c.string(f"{param}.language", value["language"])
    if "prompt" in value:
        c.string(f"{param}.prompt", value["prompt"], TRANSCRIPTION_PROMPT_MAX)
    if "delay" in value:
        c.enum(f"{param}.delay", value["delay"], TRANSCRIPTION_DELAY)
    for name in ("languages", "keywords"):
        if name in value and c.type_is(f"{param}.{name}", value[name], "an array", isinstance(value[name], list)):
            for i, item in enumerate(value[name]):
                c.string(f"{param}.{name}[{i}]", item)


def _check_tools(c: _Checker, param: str, tools: object, ga: bool) -> None:
    if not c.type_is(param, tools, "an array", isinstance(tools, list)):
        return
    assert isinstance(tools, list)
    kinds = ("function", "mcp") if ga else ("function",)
    for i, tool in enumerate(tools):
        where = f"{param}[{i}]"
        if not c.obj(where, tool):
            continue
        kind = tool.get("type", "function")
        if not c.enum(f"{where}.type", kind, kinds):
            continue
        if kind == "mcp":
            continue  # MCP tool objects carry server fields the sheet does not list: accepted as given
        c.unknown(tool, ("type", "name", "description", "parameters"), where)
        if "name" not in tool:
            c.missing(f"{where}.name")
        else:
            c.string(f"{where}.name", tool["name"])
        if "description" in tool:
            c.string(f"{where}.description", tool["description"], TOOL_DESCRIPTION_MAX)
        if "parameters" in tool:
            c.obj(f"{where}.parameters", tool["parameters"])


def _check_tool_choice(c: _Checker, param: str, value: object, ga: bool) -> None:
    if isinstance(value, str):
        c.enum(param, value, TOOL_CHOICE_MODES)
        return
    if not c.type_is(param, value, "a string or an object", isinstance(value, dict)):
        return
    assert isinstance(value, dict)
    kinds = ("function", "mcp") if ga else ("function",)
    if c.enum(f"{param}.type", value.get("type"), kinds) and value.get("type") == "function":
        c.unknown(value, ("type", "name"), param)
        if "name" not in value:
            c.missing(f"{param}.name")
        else:
            c.string(f"{param}.name", value["name"])


def _check_max_tokens(c: _Checker, param: str, value: object) -> None:
    if value == "inf":
        return
    if isinstance(value, str):
        c.enum(param, value, ("inf",))
        return
    c.integer(param, value, *MAX_OUTPUT_TOKENS_RANGE)


def _check_tracing(c: _Checker, param: str, value: object) -> None:
    if value is None or value == "auto":
        return
    if isinstance(value, str):
        c.enum(param, value, ("auto",))
        return
    if c.obj(param, value):
        assert isinstance(value, dict)
        c.unknown(value, ("workflow_name", "group_id", "metadata"), param)


def _check_truncation(c: _Checker, param: str, value: object) -> None:
    if isinstance(value, str):
        c.enum(param, value, ("auto", "disabled"))
        return
    if not c.obj(param, value):
        return
    assert isinstance(value, dict)
    c.unknown(value, ("type", "retention_ratio", "token_limits"), param)
    c.enum(f"{param}.type", value.get("type"), ("retention_ratio",))
    if "retention_ratio" in value:
        c.decimal(f"{param}.retention_ratio", value["retention_ratio"], 0.0, 1.0)


def _check_include(c: _Checker, param: str, value: object) -> None:
    if value is None or not c.type_is(param, value, "an array", isinstance(value, list)):
        return
    assert isinstance(value, list)
    for i, item in enumerate(value):
        c.enum(f"{param}[{i}]", item, INCLUDE_VALUES)


def _check_common(c: _Checker, s: dict, ga: bool) -> None:
    if "instructions" in s:
        c.string("session.instructions", s["instructions"])
    if "model" in s:
        c.string("session.model", s["model"])
    if "tools" in s:
        _check_tools(c, "session.tools", s["tools"], ga)
    if "tool_choice" in s:
        _check_tool_choice(c, "session.tool_choice", s["tool_choice"], ga)
    if "tracing" in s:
        _check_tracing(c, "session.tracing", s["tracing"])
    if "truncation" in s:
        _check_truncation(c, "session.truncation", s["truncation"])
    if "include" in s:
        _check_include(c, "session.include", s["include"])
    if "prompt" in s and s["prompt"] is not None:
        c.obj("session.prompt", s["prompt"])


# -- beta -------------------------------------------------------------------------------------------------

BETA_FIELDS = ("modalities", "instructions", "voice", "input_audio_format", "output_audio_format",
               "input_audio_transcription", "turn_detection", "input_audio_noise_reduction", "tools", "tool_choice",
               "temperature", "max_response_output_tokens", "speed", "tracing", "model", "truncation", "prompt",
               "include")
BETA_MODALITY_SETS = (("text",), ("audio", "text"))


def _check_modalities(c: _Checker, value: object) -> None:
    param = "session.modalities"
    if not c.type_is(param, value, "an array", isinstance(value, list)):
        return
    assert isinstance(value, list)
    for i, item in enumerate(value):
        if not c.enum(f"{param}[{i}]", item, ("text", "audio")):
            return
    if tuple(sorted(set(value))) not in BETA_MODALITY_SETS:
        c.add(param, value, "invalid_value", f"Invalid modalities: {value}. Supported combinations are: "
              "['text'] and ['audio', 'text'].")


def _validate_beta(c: _Checker, s: dict) -> None:
    c.unknown(s, BETA_FIELDS, "session")
    _check_common(c, s, ga=False)
    if "modalities" in s:
        _check_modalities(c, s["modalities"])
    if "voice" in s:
        _check_voice(c, "session.voice", s["voice"])
    for name in ("input_audio_format", "output_audio_format"):
        if name in s and c.string(f"session.{name}", s[name]):
            c.enum(f"session.{name}", s[name], tuple(OPENAI_AUDIO_FORMATS))
    if "input_audio_transcription" in s:
        c.nullable("session.input_audio_transcription", s["input_audio_transcription"],
                   lambda p, v: _check_transcription(c, p, v, ga=False))
    if "turn_detection" in s:
        c.nullable("session.turn_detection", s["turn_detection"], lambda p, v: _check_turn_detection(c, p, v, ga=False))
    if "input_audio_noise_reduction" in s:
        c.nullable("session.input_audio_noise_reduction", s["input_audio_noise_reduction"],
                   lambda p, v: _check_noise_reduction(c, p, v))
    if "temperature" in s:
        c.decimal("session.temperature", s["temperature"], *TEMPERATURE_RANGE)
    if "max_response_output_tokens" in s:
        _check_max_tokens(c, "session.max_response_output_tokens", s["max_response_output_tokens"])
    if "speed" in s:
        c.decimal("session.speed", s["speed"], *SPEED_RANGE)


# -- GA ---------------------------------------------------------------------------------------------------

GA_FIELDS = ("type", "model", "output_modalities", "instructions", "audio", "tools", "tool_choice",
             "max_output_tokens", "tracing", "prompt", "include", "truncation", "parallel_tool_calls", "reasoning")


def _check_ga_format(c: _Checker, param: str, value: object) -> None:
    if not c.obj(param, value):
        return
    assert isinstance(value, dict)
    c.unknown(value, ("type", "rate"), param)
    if "type" not in value:
        c.missing(f"{param}.type")
        return
    if not c.enum(f"{param}.type", value["type"], tuple(GA_TYPE_TO_FORMAT)):
        return
    if "rate" in value:
        if value["type"] != "audio/pcm":
            c.add(f"{param}.rate", value["rate"], "unknown_parameter", f"Unknown parameter: '{param}.rate'.")
        elif c.integer(f"{param}.rate", value["rate"], None, None):
            c.enum(f"{param}.rate", value["rate"], GA_PCM_RATES)


def _check_ga_audio(c: _Checker, audio: object) -> None:
    if not c.obj("session.audio", audio):
        return
    assert isinstance(audio, dict)
    c.unknown(audio, ("input", "output"), "session.audio")
    inp = audio.get("input")
    if inp is not None and c.obj("session.audio.input", inp):
        where = "session.audio.input"
        c.unknown(inp, ("format", "transcription", "noise_reduction", "turn_detection"), where)
        if "format" in inp:
            _check_ga_format(c, f"{where}.format", inp["format"])
        if "transcription" in inp:
            c.nullable(f"{where}.transcription", inp["transcription"], lambda p, v: _check_transcription(c, p, v, ga=True))
        if "noise_reduction" in inp:
            c.nullable(f"{where}.noise_reduction", inp["noise_reduction"], lambda p, v: _check_noise_reduction(c, p, v))
        if "turn_detection" in inp:
            c.nullable(f"{where}.turn_detection", inp["turn_detection"],
                       lambda p, v: _check_turn_detection(c, p, v, ga=True))
    out = audio.get("output")
    if out is not None and c.obj("session.audio.output", out):
        where = "session.audio.output"
        c.unknown(out, ("format", "voice", "speed"), where)
        if "format" in out:
            _check_ga_format(c, f"{where}.format", out["format"])
        if "voice" in out:
            _check_voice(c, f"{where}.voice", out["voice"])
        if "speed" in out:
            c.decimal(f"{where}.speed", out["speed"], *SPEED_RANGE)


def _validate_ga(c: _Checker, s: dict) -> None:
    if "type" not in s:
        c.missing("session.type")
    else:
        c.enum("session.type", s["type"], GA_SESSION_TYPES)
    c.unknown(s, GA_FIELDS, "session")
    _check_common(c, s, ga=True)
    if "output_modalities" in s:
        value = s["output_modalities"]
        if c.type_is("session.output_modalities", value, "an array", isinstance(value, list)):
            if len(value) != 1:
                c.add("session.output_modalities", value, "invalid_value",
                      "Invalid 'session.output_modalities': expected ['audio'] or ['text'].")
            else:
                c.enum("session.output_modalities[0]", value[0], ("audio", "text"))
    if "audio" in s:
        _check_ga_audio(c, s["audio"])
    if "max_output_tokens" in s:
        _check_max_tokens(c, "session.max_output_tokens", s["max_output_tokens"])
    if "parallel_tool_calls" in s:
        c.boolean("session.parallel_tool_calls", s["parallel_tool_calls"])
    if "reasoning" in s and c.obj("session.reasoning", s["reasoning"]):
        c.unknown(s["reasoning"], ("effort",), "session.reasoning")
        if "effort" in s["reasoning"]:
            c.enum("session.reasoning.effort", s["reasoning"]["effort"], REASONING_EFFORT)


# -- Gemini Live setup ------------------------------------------------------------------------------------

GEMINI_SETUP_FIELDS = ("model", "generationConfig", "systemInstruction", "tools", "realtimeInputConfig",
                       "inputAudioTranscription", "outputAudioTranscription", "sessionResumption",
                       "contextWindowCompression", "proactivity")
GEMINI_GENERATION_FIELDS = ("responseModalities", "speechConfig", "candidateCount", "maxOutputTokens", "temperature",
                            "topP", "topK", "presencePenalty", "frequencyPenalty", "mediaResolution",
                            "thinkingConfig", "enableAffectiveDialog")
GEMINI_MODALITIES = ("TEXT", "AUDIO", "IMAGE", "VIDEO")
GEMINI_START_SENSITIVITY = ("START_SENSITIVITY_UNSPECIFIED", "START_SENSITIVITY_HIGH", "START_SENSITIVITY_LOW")
GEMINI_END_SENSITIVITY = ("END_SENSITIVITY_UNSPECIFIED", "END_SENSITIVITY_HIGH", "END_SENSITIVITY_LOW")
GEMINI_ACTIVITY_HANDLING = ("ACTIVITY_HANDLING_UNSPECIFIED", "START_OF_ACTIVITY_INTERRUPTS", "NO_INTERRUPTION")
GEMINI_TURN_COVERAGE = ("TURN_COVERAGE_UNSPECIFIED", "TURN_INCLUDES_ONLY_ACTIVITY", "TURN_INCLUDES_ALL_INPUT")

GEMINI_CLOSE_CODES = {"invalid_argument": 1007, "unknown_name": 1007, "model_not_found": 1008}
"""Gemini reports setup problems by closing the socket (sheet 2.7): bad fields 1007, bad model 1008."""


def snake_to_camel(name: str) -> str:
    """``response_modalities`` -> ``responseModalities`` (proto-JSON's two spellings of a field)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def camel_keys(value: Any) -> Any:
    """Proto-JSON accepts snake_case and lowerCamelCase field names: normalise to camelCase."""
    if isinstance(value, dict):
        return {snake_to_camel(k) if isinstance(k, str) else k: camel_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel_keys(v) for v in value]
    return value


def _proto_path(camel_path: str) -> str:
    """``setup.generationConfig.x`` as the service writes it in reasons: ``setup.generation_config``."""
    out = []
    for part in camel_path.split("."):
        out.append("".join("_" + ch.lower() if ch.isupper() else ch for ch in part))
    return ".".join(out)


class _GeminiChecker(_Checker):
    def unknown(self, obj: dict, allowed: Sequence[str], where: str) -> None:
        for key in obj:
            if key not in allowed:
                self.add(f"{where}.{key}", obj[key], "unknown_name",
                         f"Invalid JSON payload received. Unknown name \"{key}\" at '{_proto_path(where)}': "
                         "Cannot find field.")

    def bad(self, param: str, value: object, message: str | None = None) -> None:
        self.add(param, value, "invalid_argument", message or "Request contains an invalid argument.")

    def enum(self, param: str, value: object, allowed: Sequence[object]) -> bool:
        if value in allowed:
            return True
        self.add(param, value, "invalid_argument",
                 f"Invalid value at '{_proto_path(param)}' ({value!r}), expected one of {', '.join(map(str, allowed))}")
        return False


def _validate_gemini(c: _GeminiChecker, raw: dict) -> None:
    s = camel_keys(raw)
    c.unknown(s, GEMINI_SETUP_FIELDS, "setup")
    model = s.get("model")
    if not isinstance(model, str) or not model.startswith("models/") or len(model) <= len("models/"):
        c.add("setup.model", model, "model_not_found",
              f"models/{model} is not found for API version v1beta, or is not supported for bidiGenerateContent. "
              "Call ListModels to see the list of available models and their supported methods.")
        model = ""
    gen = s.get("generationConfig", {})
    modalities: list = ["AUDIO"]
    if c.obj("setup.generationConfig", gen):
        c.unknown(gen, GEMINI_GENERATION_FIELDS, "setup.generationConfig")
        if "responseModalities" in gen:
            modalities = gen["responseModalities"]
            if not isinstance(modalities, list) or len(modalities) != 1:
                c.bad("setup.generationConfig.responseModalities", modalities)
                modalities = []
            elif c.enum("setup.generationConfig.responseModalities[0]", modalities[0], GEMINI_MODALITIES):
                if "native-audio" in model and modalities[0] != "AUDIO":
                    c.bad("setup.generationConfig.responseModalities", modalities,
                          "Cannot extract voices from a non-audio request.")
        speech = gen.get("speechConfig")
        if speech is not None and c.obj("setup.generationConfig.speechConfig", speech):
            _check_gemini_speech(c, speech, model)
        if "temperature" in gen:
            c.decimal("setup.generationConfig.temperature", gen["temperature"], 0.0, 2.0)
    if "systemInstruction" in s:
        _check_gemini_content(c, "setup.systemInstruction", s["systemInstruction"])
    if "realtimeInputConfig" in s and c.obj("setup.realtimeInputConfig", s["realtimeInputConfig"]):
        _check_gemini_input_config(c, s["realtimeInputConfig"])
    if "tools" in s:
        c.type_is("setup.tools", s["tools"], "an array", isinstance(s["tools"], list))
    for name in ("inputAudioTranscription", "outputAudioTranscription"):
        if name in s and c.obj(f"setup.{name}", s[name]):
            c.unknown(s[name], ("languageCodes",), f"setup.{name}")


def _check_gemini_speech(c: _GeminiChecker, speech: dict, model: str) -> None:
    where = "setup.generationConfig.speechConfig"
    c.unknown(speech, ("voiceConfig", "languageCode", "multiSpeakerVoiceConfig"), where)
    if "languageCode" in speech:
        c.string(f"{where}.languageCode", speech["languageCode"])
    voice_config = speech.get("voiceConfig")
    if voice_config is None or not c.obj(f"{where}.voiceConfig", voice_config):
        return
    c.unknown(voice_config, ("prebuiltVoiceConfig",), f"{where}.voiceConfig")
    prebuilt = voice_config.get("prebuiltVoiceConfig")
    if prebuilt is None or not c.obj(f"{where}.voiceConfig.prebuiltVoiceConfig", prebuilt):
        return
    param = f"{where}.voiceConfig.prebuiltVoiceConfig.voiceName"
    c.unknown(prebuilt, ("voiceName",), f"{where}.voiceConfig.prebuiltVoiceConfig")
    name = prebuilt.get("voiceName")
    if name is not None and name not in gemini_voices_for(model):
        c.bad(param, name)  # the sheet leaves the exact reason unverified: the generic 1007 text


def _check_gemini_content(c: _GeminiChecker, param: str, value: object) -> None:
    if isinstance(value, str):
        return  # the SDKs accept a bare string and wrap it
    if not c.obj(param, value):
        return
    assert isinstance(value, dict)
    c.unknown(value, ("parts", "role"), param)
    parts = value.get("parts", [])
    if not isinstance(parts, list):
        c.bad(f"{param}.parts", parts)
        return
    for i, part in enumerate(parts):
        if c.obj(f"{param}.parts[{i}]", part) and "text" in part:
            c.string(f"{param}.parts[{i}].text", part["text"])


def _check_gemini_input_config(c: _GeminiChecker, cfg: dict) -> None:
    where = "setup.realtimeInputConfig"
    c.unknown(cfg, ("automaticActivityDetection", "activityHandling", "turnCoverage"), where)
    if "activityHandling" in cfg:
        c.enum(f"{where}.activityHandling", cfg["activityHandling"], GEMINI_ACTIVITY_HANDLING)
    if "turnCoverage" in cfg:
        c.enum(f"{where}.turnCoverage", cfg["turnCoverage"], GEMINI_TURN_COVERAGE)
    aad = cfg.get("automaticActivityDetection")
    if aad is None or not c.obj(f"{where}.automaticActivityDetection", aad):
        return
    w = f"{where}.automaticActivityDetection"
    c.unknown(aad, ("disabled", "startOfSpeechSensitivity", "endOfSpeechSensitivity", "prefixPaddingMs",
                    "silenceDurationMs"), w)
    if "disabled" in aad:
        c.boolean(f"{w}.disabled", aad["disabled"])
    if "startOfSpeechSensitivity" in aad:
        c.enum(f"{w}.startOfSpeechSensitivity", aad["startOfSpeechSensitivity"], GEMINI_START_SENSITIVITY)
    if "endOfSpeechSensitivity" in aad:
        c.enum(f"{w}.endOfSpeechSensitivity", aad["endOfSpeechSensitivity"], GEMINI_END_SENSITIVITY)
    for name in ("prefixPaddingMs", "silenceDurationMs"):
        if name in aad:
            c.integer(f"{w}.{name}", aad[name], 0, None)


def gemini_close_for(problem: ConfigProblem) -> tuple[int, str]:
    """The close code and reason (cut to 123 bytes, as the service does) for a setup problem."""
    code = GEMINI_CLOSE_CODES.get(problem.code, 1007)
    reason = problem.message.encode()[:123].decode(errors="ignore")
    return code, reason


# -- entry point ------------------------------------------------------------------------------------------

def validate_session(session: Any, interface: str) -> list[ConfigProblem]:
    """Every problem in a ``session.update``'s ``session`` (``beta``/``ga``) or a Gemini ``setup`` (``gemini``).

    An empty list means the service would accept it. Beta and GA updates are partial: absent fields
    are not problems (except GA's required ``session.type``).
    """
    if interface not in INTERFACES:
        raise ValueError(f"interface must be one of {', '.join(INTERFACES)}, got {interface!r}")
    if interface == "gemini":
        g = _GeminiChecker()
        if not isinstance(session, dict):
            g.bad("setup", session)
        else:
            _validate_gemini(g, session)
        return g.problems
    c = _Checker()
    if not isinstance(session, dict):
        c.type_is("session", session, "an object", False)
        return c.problems
    (_validate_ga if interface == "ga" else _validate_beta)(c, session)
    return c.problems
