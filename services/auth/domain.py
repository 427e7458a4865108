"""auth's rules: who may register, which passwords pass, who may change what. No I/O here."""
import enum
import re
from dataclasses import dataclass, replace

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.kit.errors import (
    INVALID_FORMAT, FailedPrecondition, InvalidArgument, PermissionDenied, Violation, invalid, prefixed,
)
from services.kit.masks import masked_fields

# Why auth refuses a request (google.rpc.ErrorInfo.reason; proto/autosalon/ERRORS.md lists them).
EMAIL_TAKEN = "EMAIL_TAKEN"
EMAIL_ALREADY_VERIFIED = "EMAIL_ALREADY_VERIFIED"
WRONG_CREDENTIALS = "WRONG_CREDENTIALS"
WRONG_PASSWORD = "WRONG_PASSWORD"
WEAK_PASSWORD = "WEAK_PASSWORD"
ACCOUNT_DEACTIVATED = "ACCOUNT_DEACTIVATED"
REFRESH_TOKEN_REUSED = "REFRESH_TOKEN_REUSED"
REFRESH_TOKEN_INVALID = "REFRESH_TOKEN_INVALID"
LINK_UNUSABLE = "LINK_UNUSABLE"
SELF_DEMOTION = "SELF_DEMOTION"


class Role(str, enum.Enum):
    CLIENT = "client"
    MANAGER = "manager"
    ADMIN = "admin"


MIN_PASSWORD = 10
# Bounds the hashing work one request can cause.
MAX_PASSWORD = 128
MAX_EMAIL = 254
MAX_NAME = 200
_EMAIL_LOCAL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$")
_DOMAIN_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_PHONE = re.compile(r"^\+[0-9]{10,15}$")
PROFILE_FIELDS = {"full_name", "phone", "role", "active"}
SELF_SERVICE_FIELDS = {"full_name", "phone"}


def normalize_email(raw: str) -> str:
    return raw.strip().lower()


def email_problem(email: str) -> str | None:
    if not email:
        return "is required"
    if len(email) > MAX_EMAIL or " " in email or email.count("@") != 1:
        return "must be a valid email address, like name@example.ru"
    local, domain = email.split("@")
    labels = domain.split(".")
    if (
        not _EMAIL_LOCAL.match(local)
        or local.startswith(".")
        or local.endswith(".")
        or ".." in local
        or len(labels) < 2
        or not all(_DOMAIN_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        return "must be a valid email address, like name@example.ru"
    return None


def password_problems(password: str, email: str) -> list[tuple[str, str]]:
    """Every rule the password breaks, one violation each, so the user can fix all at once."""
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append(f"must be at least {MIN_PASSWORD} characters long")
    if len(password) > MAX_PASSWORD:
        problems.append(f"must be at most {MAX_PASSWORD} characters long")
    if not any(c.islower() for c in password):
        problems.append("must contain a lower-case letter")
    if not any(c.isupper() for c in password):
        problems.append("must contain an upper-case letter")
    if not any(c.isdigit() for c in password):
        problems.append("must contain a digit")
    local_part = normalize_email(email).split("@")[0]
    if email and (
        password.lower() == normalize_email(email)
        or (len(local_part) >= 4 and local_part in password.lower())
    ):
        problems.append("must not contain your email address")
    return [Violation("password", problem, WEAK_PASSWORD) for problem in problems]


@dataclass(frozen=True)
class Registration:
    email: str
    full_name: str
    phone: str


def _name_problem(full_name: str) -> str | None:
    if not full_name.strip():
        return "is required"
    if len(full_name.strip()) > MAX_NAME:
        return f"must be at most {MAX_NAME} characters"
    return None


def _phone_problem(phone: str) -> str | None:
    if phone and not _PHONE.match(phone):
        return "must be in international form: + and 10 to 15 digits, e.g. +79161234567"
    return None


def validate_registration(
    email: str, password: str, confirm_password: str, full_name: str, phone: str
) -> Registration:
    """The cleaned-up registration, or InvalidArgument naming every bad field."""
    email = email.strip()
    violations: list[tuple[str, str]] = []
    if problem := email_problem(email):
        violations.append(Violation("email", problem, INVALID_FORMAT))
    violations += password_problems(password, email)
    if confirm_password != password:
        violations.append(("confirm_password", "must match password"))
    if problem := _name_problem(full_name):
        violations.append(("full_name", problem))
    if problem := _phone_problem(phone.strip()):
        violations.append(("phone", problem))
    if violations:
        raise InvalidArgument(violations, "registration has invalid fields")
    return Registration(email=email, full_name=full_name.strip(), phone=phone.strip())


def check_new_password(new_password: str, confirm_password: str, email: str, current_password: str = "") -> None:
    """InvalidArgument naming `new_password` for every rule it breaks (and for being the current
    one), or `confirm_password` when it differs."""
    violations = prefixed(password_problems(new_password, email), "new_")
    if current_password and new_password == current_password:
        violations.append(Violation("new_password", "must differ from the current password", WEAK_PASSWORD))
    if confirm_password != new_password:
        violations.append(("confirm_password", "must match new_password"))
    if violations:
        raise InvalidArgument(violations, "the new password is not accepted")


def check_new_email(new_email: str, current_email: str) -> str:
    """The new sign-in address, trimmed; InvalidArgument naming `new_email` when it is malformed
    or the current one."""
    new_email = new_email.strip()
    if problem := email_problem(new_email):
        raise invalid("new_email", problem, INVALID_FORMAT)
    if normalize_email(new_email) == normalize_email(current_email):
        raise InvalidArgument({"new_email": "is your current email"})
    return new_email


EMAIL_VERIFICATION, PASSWORD_RESET = "email_verification", "password_reset"
UNUSABLE_LINK = "is unknown, expired or already used; ask for a new link"


@dataclass(frozen=True)
class UserProfile:
    id: str
    email: str
    full_name: str
    phone: str
    role: Role
    active: bool


def can_read_user(actor_id: str, actor_role: Role, target_id: str) -> bool:
    return actor_id == target_id or actor_role in (Role.MANAGER, Role.ADMIN)


def apply_profile_update(
    actor_id: str, actor_role: Role, target: UserProfile, changes: dict, mask: list[str]
) -> UserProfile:
    """The profile after replacing the masked fields, if the actor may make that change."""
    fields = masked_fields(mask, PROFILE_FIELDS)
    is_self = actor_id == target.id
    # The front desk corrects a customer's name or phone; a staff member's profile is an admin's.
    desk_for_client = actor_role is Role.MANAGER and target.role is Role.CLIENT
    if actor_role is not Role.ADMIN:
        if not (is_self or desk_for_client):
            raise PermissionDenied("only an admin may change another staff member or admin")
        if fields - SELF_SERVICE_FIELDS:
            raise PermissionDenied("only an admin may change role or active")
    violations = []
    if "full_name" in fields and (problem := _name_problem(changes.get("full_name") or "")):
        violations.append(("user.full_name", problem))
    if "phone" in fields and (problem := _phone_problem((changes.get("phone") or "").strip())):
        violations.append(("user.phone", problem))
    if "role" in fields and not isinstance(changes.get("role"), Role):
        violations.append(("user.role", "must be ROLE_CLIENT, ROLE_MANAGER or ROLE_ADMIN"))
    if violations:
        raise InvalidArgument(violations)
    updated = replace(
        target,
        full_name=(changes["full_name"] or "").strip() if "full_name" in fields else target.full_name,
        phone=(changes["phone"] or "").strip() if "phone" in fields else target.phone,
        role=changes["role"] if "role" in fields else target.role,
        active=bool(changes["active"]) if "active" in fields else target.active,
    )
    # An admin who demotes or deactivates themselves could lock everyone out.
    if is_self and (updated.role is not Role.ADMIN or not updated.active) and actor_role is Role.ADMIN:
        raise FailedPrecondition("an admin cannot demote or deactivate themselves", SELF_DEMOTION)
    return updated


# argon2id at OWASP's minimum (19 MiB, 2 passes, 1 lane): about 20 ms on these cores, which
# keeps guessing expensive while a 2-core server can still serve a busy showroom.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY_HASH = _hasher.hash("a password nobody has, for unknown emails")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def dummy_verify() -> None:
    """The work of one verification, for logins with an unknown email."""
    verify_password(_DUMMY_HASH, "not the password")
