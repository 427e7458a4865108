"""Domain errors: what a rule says went wrong, in words a caller can act on.

Pure Python on purpose: domain code raises these without knowing about gRPC; the kit's
per-call policy (kit.server) turns each into its gRPC status (and HTTP code at the edge).
"""


class DomainError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidArgument(DomainError):
    """Bad input. Carries every offending field at once, so a form can show them all."""

    def __init__(
        self,
        violations: dict[str, str] | list[tuple[str, str]],
        message: str = "invalid request",
    ):
        super().__init__(message)
        items = violations.items() if isinstance(violations, dict) else violations
        self.violations: list[tuple[str, str]] = list(items)


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
    pass


class AlreadyExists(DomainError):
    pass


class FailedPrecondition(DomainError):
    """The resource is not in a state that allows the change."""


class PermissionDenied(DomainError):
    pass


class Unauthenticated(DomainError):
    pass


class Conflict(DomainError):
    """A concurrent change won (optimistic concurrency); retrying may succeed."""


class Unavailable(DomainError):
    """A dependency is down or its breaker is open."""


class ResourceExhausted(DomainError):
    pass
