"""customer's rules: valid profiles, who may change what, and segments from rule data."""
import datetime
import re
import uuid
from dataclasses import dataclass, field, replace
from decimal import Decimal

from services.kit.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from services.kit.masks import masked_fields

# Why the CRM refuses a request (google.rpc.ErrorInfo.reason; proto/autosalon/ERRORS.md lists them).
OWNED_BY_ACCOUNT = "OWNED_BY_ACCOUNT"

CHANNELS = ("email", "sms", "push")
INTERACTION_TYPES = ("call", "email", "visit", "test_drive")
EDITABLE = {"full_name", "email", "phone", "address", "preferences", "tags"}
STAFF_ONLY = {"tags"}
# What a customer with an account holds as a copy of it: auth owns them, the CRM mirrors its events.
ACCOUNT_FIELDS = ("full_name", "email", "phone")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_PHONE = re.compile(r"^\+[0-9]{10,15}$")


@dataclass(frozen=True)
class Account:
    """An account as auth's event tells it, with the moment auth last changed it."""
    user_id: uuid.UUID
    full_name: str
    email: str
    phone: str
    updated_at: datetime.datetime


@dataclass(frozen=True)
class Profile:
    full_name: str
    email: str
    phone: str
    address: dict
    preferences: dict
    tags: list[str] = field(default_factory=list)


def validate_profile(profile: Profile, prefix: str = "customer") -> Profile:
    problems = []
    name = profile.full_name.strip()
    if not name or len(name) > 200:
        problems.append((f"{prefix}.full_name", "is required, at most 200 characters"))
    email, phone = profile.email.strip(), profile.phone.strip()
    if email and (len(email) > 254 or not _EMAIL.match(email)):
        problems.append((f"{prefix}.email", "must be a valid email address"))
    if phone and not _PHONE.match(phone):
        problems.append((f"{prefix}.phone", "must be + and 10 to 15 digits, e.g. +79161234567"))
    if not email and not phone:
        problems.append((f"{prefix}.phone", "give an email or a phone to reach the customer by"))
    for key in ("city", "street", "postal_code"):
        if len(profile.address.get(key, "")) > 200:
            problems.append((f"{prefix}.address.{key}", "must be at most 200 characters"))
    unknown_channels = [c for c in profile.preferences.get("channels", []) if c not in CHANNELS]
    if unknown_channels:
        problems.append((f"{prefix}.preferences.channels", "must be email, sms or push"))
    budget = Decimal(profile.preferences.get("budget", "0"))
    if budget < 0:
        problems.append((f"{prefix}.preferences.budget", "must not be negative"))
    tags = [tag.strip() for tag in profile.tags]
    if any(not tag or len(tag) > 40 for tag in tags) or len(tags) > 50:
        problems.append((f"{prefix}.tags", "at most 50 tags of 1 to 40 characters"))
    if problems:
        raise InvalidArgument(problems, "customer has invalid fields")
    return replace(
        profile, full_name=name, email=email, phone=phone,
        tags=sorted({tag.lower() for tag in tags}),
    )


def check_update(mask: list[str], is_staff: bool) -> set[str]:
    fields = masked_fields(mask, EDITABLE)
    if not is_staff and fields & STAFF_ONLY:
        raise PermissionDenied("only managers and admins set tags")
    return fields


def check_account_fields_kept(user_name: str, current, changes: Profile, fields: set[str]) -> None:
    """FailedPrecondition (OWNED_BY_ACCOUNT) when an update would give a customer with an account
    (`user_name`, "users/{uuid}") another name, email or phone than the account's: those are
    changed in the account, and the CRM follows. Naming them with their current values is fine."""
    if not user_name:
        return
    differing = [name for name in ACCOUNT_FIELDS
                 if name in fields and getattr(changes, name).strip() != getattr(current, name)]
    if differing:
        raise FailedPrecondition(
            f"{' and '.join(differing)} of a customer with an account are the account's ({user_name}): "
            "change them there (auth's UpdateUser, PATCH /auth/users/me for oneself; the email with "
            "POST /auth/me:changeEmail) and the profile follows",
            OWNED_BY_ACCOUNT, {"owner": user_name, "fields": ",".join(differing)})


@dataclass(frozen=True)
class SegmentRule:
    """A row of segment_rules: the first rule (by priority) a customer meets names them."""
    segment: str
    priority: int
    min_purchases: int
    min_spend: Decimal
    min_interactions: int


@dataclass(frozen=True)
class History:
    purchases: int
    spent: Decimal
    interactions: int


def segment_for(history: History, rules: list[SegmentRule]) -> str:
    for rule in sorted(rules, key=lambda rule: rule.priority):
        if (history.purchases >= rule.min_purchases and history.spent >= rule.min_spend
                and history.interactions >= rule.min_interactions):
            return rule.segment
    return "new"


# Logged after the fact, but not from before any CRM of this dealership could have seen it.
OLDEST_INTERACTION = datetime.timedelta(days=3653)


def check_interaction(kind: str | None, note: str, when: datetime.datetime, now: datetime.datetime) -> str:
    problems = []
    if kind not in INTERACTION_TYPES:
        problems.append(("interaction.type", "is required: call, email, visit or test_drive"))
    if not note.strip() or len(note.strip()) > 2000:
        problems.append(("interaction.note", "is required, at most 2000 characters"))
    if when > now + datetime.timedelta(minutes=5):
        problems.append(("interaction.occur_time", "must not be in the future"))
    elif when < now - OLDEST_INTERACTION:
        problems.append(("interaction.occur_time", "must be within the last 10 years"))
    if problems:
        raise InvalidArgument(problems, "interaction has invalid fields")
    return note.strip()
