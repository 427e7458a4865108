"""monitoring's rules: the levels in order, and what a search may ask. Pure."""
from services.kit.errors import InvalidArgument

LEVELS = ("warning", "error", "critical")
# A record's severity as a number, so that "at least error" is a comparison.
SEVERITY = {level: number for number, level in enumerate(LEVELS, start=1)}
TEXT_LONGEST, TRACE_ID_LONGEST = 200, 100


def check_search(text: str, trace_id: str, service: str) -> None:
    """InvalidArgument naming each filter that is too long to be one."""
    problems = {field: f"must be at most {longest} characters" for field, value, longest in (
        ("text", text, TEXT_LONGEST), ("trace_id", trace_id, TRACE_ID_LONGEST), ("service", service, 60))
        if len(value) > longest}
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
