"""The modelled system's constants live in one module; the model, the fingerprints and the report share them."""

from __future__ import annotations

import re
from pathlib import Path

from callreplay.detectors import fingerprint, view
from callreplay.pipeline import constants, prompt_text, prompts, sanitize, session_config
from callreplay.report import instructions

PACKAGE = Path(constants.__file__).resolve().parents[1]


def test_the_shared_names_are_the_constants_modules_objects():
    assert fingerprint.FULL_PROMPT_MAX_CHARS is session_config.FULL_PROMPT_MAX_CHARS is \
        sanitize.FULL_PROMPT_MAX_CHARS is constants.FULL_PROMPT_MAX_CHARS
    assert view.PROMPT_FIELDS is instructions.FIELD_OF is constants.FIELD_OF_DIRECTION
    assert prompts.FIELD_DIRECTION is constants.DIRECTION_OF_FIELD
    assert prompt_text.replace_placeholders is fingerprint._substitute is constants.replace_placeholders


def test_replace_placeholders_substitutes_both_spellings_only():
    assert constants.replace_placeholders("{{business_name}}/{{BUSINESS_NAME}}/{{Business_Name}}", "Acme") == \
        "Acme/Acme/{{Business_Name}}"


def test_no_copies_of_the_placeholders_or_the_cap_remain():
    copies = []
    for folder in ("pipeline", "detectors", "report"):
        for path in (PACKAGE / folder).rglob("*.py"):
            if path.name == "constants.py":
                continue
            text = path.read_text(encoding="utf-8")
            if '"{{business_name}}"' in text or re.search(r"=\s*8000\b", text):
                copies.append(str(path.relative_to(PACKAGE)))
    assert copies == []
