"""Fixture prompts and a test-side copy of builder A's layering (spec §4.1-§4.2), written for these tests."""

from __future__ import annotations

from callreplay.detectors.fingerprint import DEFAULT_SCAFFOLDING
from callreplay.pipeline.sanitize import sanitize_realtime_instructions

UNIVERSAL_RULES = DEFAULT_SCAFFOLDING[0]

OUTBOUND_HE = (
    'שָׁלוֹם, אני מתקשר מחברת "{{business_name}}" כדי להציע לך ביטוח רכב במחיר מיוחד.\n'
    "ההצעה בתוקף עד סוף החודש ואפשר לחסוך עד שלושים אחוז מהפרמיה השנתית.\n"
    "אם זה מעניין אותך, אשמח לתאם לך שיחה קצרה עם סוכן מורשה.\n"
    "אפשר גם להתקשר אלינו בטלפון 050-1234567 או להיכנס לאתר https://alpha.co.il/offer לפרטים.\n"
    "אם הלקוח לא מעוניין, הודה לו בנימוס וסיים את השיחה."
)

INBOUND_HE = (
    'שלום, הגעתם לשירות הלקוחות של "{{business_name}}". איך אפשר לעזור לך היום?\n'
    "אם הלקוח שואל על פוליסה קיימת, בקש את מספר תעודת הזהות ובדוק את סטטוס הפוליסה.\n"
    "אם הלקוח רוצה לבטל, העבר אותו בנימוס לנציג אנושי במחלקת השימור.\n"
    "שעות הפעילות הן בימים א׳ עד ה׳ בין שמונה בבוקר לחמש אחר הצהריים."
)

OUTBOUND_EN = (
    "Hi, this is Dana from {{business_name}}. We are reaching out to homeowners in your area "
    "about our new solar panel leasing program. It costs nothing upfront and most families save "
    "about a third on electricity. Ask whether they own the house and how big the monthly bill is. "
    "If they are interested, offer a free technician visit this week."
)

INBOUND_EN = (
    "You answer the support line of {{business_name}}. Greet the caller warmly and ask how you can "
    "help. For billing questions collect the account holder name and the invoice month. For "
    "technical faults ask whether the inverter display shows a red light and log the error code."
)


def layered(body: str, business_id: int, name: str, direction: str) -> str:
    """Builder A's assembly around ``body`` for the *requested* direction (spec §4.2 step 7)."""
    label = "OUTBOUND" if direction == "outbound" else "INBOUND"
    sentence = "\n\nYou initiated this call." if direction == "outbound" else "\n\nCaller contacted the business."
    who = "The customer called the business." if direction == "inbound" else "You are calling the customer."
    return (
        f"{UNIVERSAL_RULES}{sentence}\n\n"
        f"BUSINESS PROMPT (Business ID: {business_id}, Name: {name}, Call: {label}):\n"
        f"{body}\n\n"
        f"CALL TYPE: {label}. {who} Follow the business prompt for flow."
    )


def wire(body: str, business_id: int, name: str, direction: str) -> str:
    """What session.update carries: the layered prompt through the wire sanitiser."""
    return sanitize_realtime_instructions(layered(body, business_id, name, direction))


def named(text: str, name: str) -> str:
    """Builder placeholder substitution."""
    return text.replace("{{business_name}}", name).replace("{{BUSINESS_NAME}}", name)
