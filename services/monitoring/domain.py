"""monitoring's rules: the levels in order, and what a search may ask. Pure."""
from services.kit.errors import InvalidArgument

# "info" is a trace's step (kit.tracing); a search shows it only when asked to.
LEVELS = ("info", "warning", "error", "critical")
# A record's severity as a number, so that "at least error" is a comparison.
SEVERITY = {level: number for number, level in enumerate(LEVELS)}
LEAST_SEARCHED = "warning"
TEXT_LONGEST, TRACE_ID_LONGEST = 200, 100


def check_search(text: str, trace_id: str, service: str) -> None:
    """InvalidArgument naming each filter that is too long to be one."""
    problems = {field: f"must be at most {longest} characters" for field, value, longest in (
        ("text", text, TEXT_LONGEST), ("trace_id", trace_id, TRACE_ID_LONGEST), ("service", service, 60))
        if len(value) > longest}
    if problems:
        raise InvalidArgument(problems)


def check_metrics_filter(service: str, prefix: str, services: list[str]) -> None:
    """InvalidArgument unless `service` is empty or one the mesh runs and `prefix` is short."""
    problems = {}
    if service and service not in services:
        problems["service"] = f"must be one of {', '.join(sorted(services))}"
    if len(prefix) > 100:
        problems["prefix"] = "must be at most 100 characters"
    if problems:
        raise InvalidArgument(problems)


def check_trace_id(trace_id: str) -> str:
    if not trace_id or len(trace_id) > TRACE_ID_LONGEST:
        raise InvalidArgument({"trace_id": f"is required, 1 to {TRACE_ID_LONGEST} characters"})
    return trace_id


def since_previous_ms(times) -> list[int]:
    """For moments in order, the milliseconds since the one before (0 for the first)."""
    if not times:
        return []
    return [0] + [round((later - earlier).total_seconds() * 1000) for earlier, later in zip(times, times[1:])]


CHECK_STATUSES = ("passing", "warning", "critical")


def worst(statuses) -> str:
    """The worst of Consul check statuses ("critical" for none: nothing vouches for it)."""
    ranked = [CHECK_STATUSES.index(status) if status in CHECK_STATUSES else 2 for status in statuses]
    return CHECK_STATUSES[max(ranked)] if ranked else "critical"


def service_status(instance_statuses: list[str]) -> str:
    """passing when every instance passes; critical when none is there or none passes; else warning."""
    if not instance_statuses or "passing" not in instance_statuses:
        return "critical"
    return "passing" if set(instance_statuses) == {"passing"} else "warning"
