"""The TwiML voice grammar as data: which element may hold which, and which attributes each has.

Derived once from twilio-python's ``twilio.twiml.voice_response`` (9.13): each builder method
``Parent.child(attr=..., **kwargs)`` that nests ``Child(...)`` gives an edge Parent -> Child and
the child's attribute names, converted to XML the way ``twilio.twiml.TwiML`` converts them
(snake_case -> lowerCamel, plus its MAP: ``from_`` -> ``from``, ``xml_lang`` -> ``xml:lang``,
``interpret_as`` -> ``interpret-as``, ``for_`` -> ``for``, ``break_`` -> ``break``). Element and
attribute names are case-sensitive, as Twilio treats them (``<say>`` is 12200).

An element's text content (``<Say>`` text, ``<Play>``/``<Redirect>`` URL, ``<Number>`` digits) is
not an attribute and is not listed. Attributes are kept per element name: where twilio-python
builds one element name under two parents (``<Stream>`` under ``<Start>``/``<Stop>``/``<Connect>``,
``<Sip>`` under ``<Dial>``/``<Refer>``) the union is listed.
"""

from __future__ import annotations

ROOT = "Response"


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


CHILDREN: dict[str, frozenset[str]] = {
    "AiSession": frozenset(),
    "Application": _names("ApplicationSid Parameter"),
    "ApplicationSid": frozenset(),
    "Autopilot": frozenset(),
    "Client": _names("Identity Parameter"),
    "Conference": frozenset(),
    "Config": frozenset(),
    "Connect": _names(
        "AiSession Autopilot Conversation ConversationRelay ConversationRelaySession Room Stream VirtualAgent"
    ),
    "Conversation": frozenset(),
    "ConversationRelay": _names("Language Parameter"),
    "ConversationRelaySession": frozenset(),
    "Dial": _names("Application Client Conference Number Queue Sim Sip WhatsApp"),
    "Echo": frozenset(),
    "Enqueue": _names("Task"),
    "Gather": _names("Pause Play Say"),
    "Hangup": _names("Parameter"),
    "Header": frozenset(),
    "Headers": _names("Header"),
    "Identity": frozenset(),
    "Language": frozenset(),
    "Leave": frozenset(),
    "Number": frozenset(),
    "Parameter": frozenset(),
    "Pause": frozenset(),
    "Pay": _names("Parameter Prompt"),
    "Play": frozenset(),
    "Prompt": _names("Pause Play Say"),
    "Queue": frozenset(),
    "Record": frozenset(),
    "Recording": frozenset(),
    "Redirect": frozenset(),
    "Refer": _names("Sip"),
    "Reject": _names("Parameter"),
    "Response": _names(
        "Connect Dial Echo Enqueue Gather Hangup Leave Pause Pay Play Prompt Queue Record Redirect Refer Reject "
        "Say Sms Start Stop"
    ),
    "Room": frozenset(),
    "Say": _names("break emphasis lang p phoneme prosody s say-as sub w"),
    "Sim": frozenset(),
    "Sip": _names("Headers Uri"),
    "Siprec": _names("Parameter"),
    "Sms": frozenset(),
    "Start": _names("Recording Siprec Stream Transcription"),
    "Stop": _names("Siprec Stream Transcription"),
    "Stream": _names("Parameter"),
    "Task": frozenset(),
    "Transcription": _names("Config Parameter"),
    "Uri": frozenset(),
    "VirtualAgent": _names("Config Parameter"),
    "WhatsApp": frozenset(),
    "break": frozenset(),
    "emphasis": _names("break emphasis lang phoneme prosody say-as sub w"),
    "lang": _names("break emphasis lang p phoneme prosody s say-as sub w"),
    "p": _names("break emphasis lang phoneme prosody s say-as sub w"),
    "phoneme": frozenset(),
    "prosody": _names("break emphasis lang p phoneme prosody s say-as sub w"),
    "s": _names("break emphasis lang phoneme prosody say-as sub w"),
    "say-as": frozenset(),
    "sub": frozenset(),
    "w": _names("break emphasis phoneme prosody say-as sub"),
}
ATTRIBUTES: dict[str, frozenset[str]] = {
    "AiSession": _names("aiConnector aiSessionConfiguration"),
    "Application": _names(
        "copyParentTo customerId method statusCallback statusCallbackEvent statusCallbackMethod url"
    ),
    "ApplicationSid": frozenset(),
    "Autopilot": frozenset(),
    "Client": _names("method statusCallback statusCallbackEvent statusCallbackMethod url"),
    "Conference": _names(
        "beep coach endConferenceOnExit eventCallbackUrl jitterBufferSize maxParticipants muted participantLabel "
        "record recordingConfigurationId recordingStatusCallback recordingStatusCallbackEvent "
        "recordingStatusCallbackMethod region startConferenceOnEnter statusCallback statusCallbackEvent "
        "statusCallbackMethod trim waitMethod waitUrl"
    ),
    "Config": _names("name value"),
    "Connect": _names("action method"),
    "Conversation": _names(
        "inboundAutocreation inboundTimeout method record recordingStatusCallback recordingStatusCallbackEvent "
        "recordingStatusCallbackMethod routingAssignmentTimeout serviceInstanceSid statusCallback "
        "statusCallbackEvent statusCallbackMethod trim url"
    ),
    "ConversationRelay": _names(
        "applicationReconnect asrSmartFormat backgroundNoiseReduction customerName debug deepgramSmartFormat "
        "dtmfDetection eagerEotThreshold echoPromptFiltering elevenlabsLanguageTextNormalization "
        "elevenlabsTextNormalization events hints ignoreBackchannel includeInPrompt intelligenceService "
        "interruptSensitivity interruptible language partialPromptOnHangup partialPrompts preemptible "
        "profanityFilter reportInputDuringAgentSpeech speechModel speechTimeout transcriptionLanguage "
        "transcriptionProvider ttsLanguage ttsLanguageTextNormalization ttsProvider ttsTextNormalization "
        "turnDetection url voice welcomeGreeting welcomeGreetingInterruptible"
    ),
    "ConversationRelaySession": _names("connector sessionConfiguration"),
    "Dial": _names(
        "action answerOnBridge callerId events hangupOnStar method passports record recordingConfigurationId "
        "recordingStatusCallback recordingStatusCallbackEvent recordingStatusCallbackMethod recordingTrack "
        "referMethod referUrl ringTone sequential timeLimit timeout trim"
    ),
    "Echo": frozenset(),
    "Enqueue": _names("action maxQueueSize method waitUrl waitUrlMethod workflowSid"),
    "Gather": _names(
        "action actionOnEmptyResult bargeIn debug enhanced finishOnKey hints input language maxSpeechTime method "
        "numDigits partialResultCallback partialResultCallbackMethod profanityFilter speechModel speechTimeout "
        "timeout"
    ),
    "Hangup": frozenset(),
    "Header": _names("name value"),
    "Headers": frozenset(),
    "Identity": frozenset(),
    "Language": _names(
        "asrSmartFormat code hints speechModel transcriptionProvider ttsLanguageTextNormalization ttsProvider "
        "ttsTextNormalization voice"
    ),
    "Leave": frozenset(),
    "Number": _names(
        "amdStatusCallback amdStatusCallbackMethod byoc machineDetection machineDetectionSilenceTimeout "
        "machineDetectionSpeechEndThreshold machineDetectionSpeechThreshold machineDetectionTimeout method "
        "sendDigits statusCallback statusCallbackEvent statusCallbackMethod url"
    ),
    "Parameter": _names("name value"),
    "Pause": _names("length"),
    "Pay": _names(
        "action bankAccountType chargeAmount currency description input language maxAttempts minPostalCodeLength "
        "paymentConnector paymentMethod postalCode securityCode statusCallback statusCallbackMethod timeout "
        "tokenType validCardTypes"
    ),
    "Play": _names("digits loop"),
    "Prompt": _names("attempt cardType errorType for requireMatchingInputs"),
    "Queue": _names("method postWorkActivitySid reservationSid url"),
    "Record": _names(
        "action finishOnKey maxLength method playBeep recordingConfigurationId recordingStatusCallback "
        "recordingStatusCallbackEvent recordingStatusCallbackMethod timeout transcribe transcribeCallback trim"
    ),
    "Recording": _names(
        "channels recordingConfigurationId recordingStatusCallback recordingStatusCallbackEvent "
        "recordingStatusCallbackMethod track trim"
    ),
    "Redirect": _names("method"),
    "Refer": _names("action method"),
    "Reject": _names("reason"),
    "Room": _names("participantIdentity"),
    "Say": _names("language loop voice"),
    "Sim": frozenset(),
    "Sip": _names(
        "amdStatusCallback amdStatusCallbackMethod machineDetection machineDetectionSilenceTimeout "
        "machineDetectionSpeechEndThreshold machineDetectionSpeechThreshold machineDetectionTimeout method "
        "password statusCallback statusCallbackEvent statusCallbackMethod url username"
    ),
    "Siprec": _names("connectorName name statusCallback statusCallbackMethod track"),
    "Sms": _names("action from method statusCallback to"),
    "Start": _names("action method"),
    "Stop": frozenset(),
    "Stream": _names("audioFormat connectorName name sampleRate statusCallback statusCallbackMethod track url"),
    "Task": _names("priority timeout"),
    "Transcription": _names(
        "enableAutomaticPunctuation hints inboundTrackLabel intelligenceService languageCode name "
        "outboundTrackLabel partialResults profanityFilter speechModel statusCallbackMethod statusCallbackUrl "
        "track transcriptionEngine"
    ),
    "Uri": _names("password priority username weight"),
    "VirtualAgent": _names("connectorName language sentimentAnalysis statusCallback statusCallbackMethod"),
    "WhatsApp": _names("method statusCallback statusCallbackEvent statusCallbackMethod url"),
    "break": _names("strength time"),
    "emphasis": _names("level"),
    "lang": _names("xml:lang"),
    "p": frozenset(),
    "phoneme": _names("alphabet ph"),
    "prosody": _names("pitch rate volume"),
    "s": frozenset(),
    "say-as": _names("format interpret-as"),
    "sub": _names("alias"),
    "w": _names("role"),
}

# Verbs are the children of <Response>; everything else is a noun or SSML nested inside one.
VERBS: frozenset[str] = CHILDREN[ROOT]
KNOWN_ELEMENTS: frozenset[str] = frozenset(CHILDREN) | frozenset(ATTRIBUTES)
