"""Domain errors: what a rule says went wrong, in words a caller can act on.

Pure Python on purpose: domain code raises these without knowing about gRPC; the kit's
per-call policy (kit.server) turns each into its gRPC status (and HTTP code at the edge).

Every error carries a reason, a stable UPPER_SNAKE_CASE word a program can act on (sent as
google.rpc.ErrorInfo.reason), and every field violation one too (FieldViolation.reason). A raise
site that names no reason gets its class's (NotFound: NOT_FOUND); the generic reasons are the
constants below, each service's own are in its domain module. proto/autosalon/ERRORS.md lists
them all, and a unit test keeps that list and the code in step.
"""

# google.rpc.ErrorInfo.domain of every error the platform gives, the edge's own too.
ERROR_DOMAIN = "autosalon"

# Reasons any service may give: each class's own, then the kit's specific ones.
UNKNOWN = "UNKNOWN"
INVALID_ARGUMENT = "INVALID_ARGUMENT"
NOT_FOUND = "NOT_FOUND"
ALREADY_EXISTS = "ALREADY_EXISTS"
FAILED_PRECONDITION = "FAILED_PRECONDITION"
PERMISSION_DENIED = "PERMISSION_DENIED"
UNAUTHENTICATED = "UNAUTHENTICATED"
CONFLICT = "CONFLICT"
UNAVAILABLE = "UNAVAILABLE"
RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
INTERNAL = "INTERNAL"
TOKEN_INVALID = "TOKEN_INVALID"
TOKEN_EXPIRED = "TOKEN_EXPIRED"
TOKEN_REVOKED = "TOKEN_REVOKED"
ETAG_MISMATCH = "ETAG_MISMATCH"
DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
BUSY = "BUSY"
IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
RESOURCE_DELETED = "RESOURCE_DELETED"
NOT_YOUR_CUSTOMER = "NOT_YOUR_CUSTOMER"

# Reasons of one field's violation.
INVALID = "INVALID"
REQUIRED = "REQUIRED"
INVALID_FORMAT = "INVALID_FORMAT"
TOO_LONG = "TOO_LONG"
OUT_OF_RANGE = "OUT_OF_RANGE"
INVALID_PAGE_TOKEN = "INVALID_PAGE_TOKEN"
UNKNOWN_FIELD = "UNKNOWN_FIELD"
INVALID_CHECK_DIGIT = "INVALID_CHECK_DIGIT"


class DomainError(Exception):
    default_reason = UNKNOWN

    def __init__(self, message: str, reason: str = "", metadata: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.reason = reason or self.default_reason
        # What the reason is about (a resource's name, a status), for a program to read.
        self.metadata = metadata or {}


class Violation(tuple):
    """One field's problem: the (field, description) pair every caller unpacks, with its reason
    beside it. A description of exactly "is required" is REQUIRED unless the site says otherwise;
    any other is INVALID."""

    reason: str

    def __new__(cls, field: str, description: str, reason: str = ""):
        violation = super().__new__(cls, (field, description))
        violation.reason = reason or (REQUIRED if description == "is required" else INVALID)
        return violation

    @property
    def field(self) -> str:
        return self[0]

    @property
    def description(self) -> str:
        return self[1]


class InvalidArgument(DomainError):
    """Bad input. Carries every offending field at once, so a form can show them all."""

    default_reason = INVALID_ARGUMENT

    def __init__(
        self,
        violations: dict[str, str] | list[tuple[str, str]],
        message: str = "invalid request",
        reason: str = "",
    ):
        super().__init__(message, reason)
        items = violations.items() if isinstance(violations, dict) else violations
        self.violations: list[Violation] = [
            item if isinstance(item, Violation) else Violation(*item) for item in items]


def invalid(field: str, description: str, reason: str) -> InvalidArgument:
    """The refusal of one field, with the violation's reason."""
    return InvalidArgument([Violation(field, description, reason)])


def prefixed(violations: list[Violation], prefix: str) -> list[Violation]:
    """The violations of a nested message named from its parent (`quote.` + `year`), reasons kept."""
    return [Violation(prefix + violation.field, violation.description, violation.reason) for violation in violations]


def each_field(readers: dict, names) -> dict:
    """`{name: readers[name]()}` for each of `names`, every InvalidArgument among them raised as
    one, so that a form learns all its problems at once."""
    values, problems = {}, []
    for name in sorted(names):
        try:
            values[name] = readers[name]()
        except InvalidArgument as error:
            problems.extend(error.violations)
    if problems:
        raise InvalidArgument(problems)
    return values


class NotFound(DomainError):
    default_reason = NOT_FOUND


class AlreadyExists(DomainError):
    default_reason = ALREADY_EXISTS


class FailedPrecondition(DomainError):
    """The resource is not in a state that allows the change."""

    default_reason = FAILED_PRECONDITION


class PermissionDenied(DomainError):
    default_reason = PERMISSION_DENIED


class Unauthenticated(DomainError):
    default_reason = UNAUTHENTICATED


class Conflict(DomainError):
    """A concurrent change won (optimistic concurrency); retrying may succeed."""

    default_reason = CONFLICT


class Unavailable(DomainError):
    """A dependency is down or its breaker is open."""

    default_reason = UNAVAILABLE


class ResourceExhausted(DomainError):
    default_reason = RESOURCE_EXHAUSTED
