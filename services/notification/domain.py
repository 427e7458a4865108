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


# financing's reason codes that count against an application (the others say what passed), and
# the name its rules decide under (a manager's rejection carries their own words instead).
REFUSAL_REASONS = ("overdue_debt", "age_outside_policy", "score_very_poor", "score_poor", "pti_high_score_too_low",
                   "pti_above_limit", "full_cost_above_cap")
CREDIT_RULES = "financing"

# Account messages: one email to the address the event names, whatever the preferences (the
# link proves that address; a change is told to the old one). Those carrying a link's token
# keep no copy of their text once sent.
ACCOUNT_KINDS = ("email_verification", "password_reset", "password_changed", "email_changed")
WITH_SECRETS = ("email_verification", "password_reset")

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
STATUSES = (PENDING, SENT, FAILED)
# Channels whose provider takes a message once by its id: sending again after a crash is safe.
RESENDABLE = ("sms", "push")
LONGEST_WAIT = 3600.0


def retry_wait(attempts: int, first_wait: float, chance: float) -> float:
    """Seconds before attempt `attempts + 1`: `first_wait` doubled each attempt, at most an hour,
    scattered by a quarter either way (`chance` in [0, 1)) so that a provider back from an outage
    is not met by every retry at once."""
    wait = min(first_wait * 2 ** (attempts - 1), LONGEST_WAIT)
    return wait * (0.75 + chance / 2)


def channels_for(message_kind: str, choices: dict[str, bool], email: str, phone: str) -> dict[str, str]:
    """The chosen channels that have somewhere to go, each with its recipient: the address, the
    phone, or (push) the customer's account."""
    where = {"email": email, "sms": phone, "push": "account"}
    return {channel: where[channel] for channel in CHANNELS if choices.get(channel) and where[channel]}
