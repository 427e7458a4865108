"""notification's rules: which kind of message each template is, and a customer's choices of
channels (transactional email is always on; marketing is off until chosen). Pure."""
from services.kit.errors import InvalidArgument

from .templates import KINDS, LANGUAGES

TRANSACTIONAL, REMINDERS, MARKETING = "transactional", "reminders", "marketing"
MESSAGE_KINDS = (TRANSACTIONAL, REMINDERS, MARKETING)
CHANNELS = ("email", "sms", "push")
# Every template's kind of message: reminders are about something coming; the rest answers
# something the customer did or asked for.
MESSAGE_KIND = {kind: REMINDERS if kind in ("booking_reminder", "policy_expiring") else TRANSACTIONAL
                for kind in KINDS}
DEFAULTS = {
    "language": "ru",
    TRANSACTIONAL: {"email": True, "sms": False, "push": False},
    REMINDERS: {"email": True, "sms": False, "push": False},
    MARKETING: {"email": False, "sms": False, "push": False},
}


def check_language(language: str, field: str = "preferences.language") -> str:
    if language not in LANGUAGES:
        raise InvalidArgument({field: f"must be one of {', '.join(LANGUAGES)}"})
    return language


def check_choices(message_kind: str, choices: dict[str, bool]) -> dict[str, bool]:
    if message_kind == TRANSACTIONAL and not choices["email"]:
        raise InvalidArgument({"preferences.transactional.email": "cannot be turned off: orders, payments and the "
                                                                  "account are always confirmed by email"})
    return choices
