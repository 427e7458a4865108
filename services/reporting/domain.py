"""reporting's rules: the ranges a report may be asked for, the calendar it counts in, and the
step an order had reached. Pure. A report's periods are PostgreSQL's `date_trunc` units (weeks
start on Monday, quarters in January, April, July and October)."""
import datetime

from services.kit.errors import InvalidArgument
from services.kit.protos import date_from

DAY, WEEK, MONTH, QUARTER = "day", "week", "month", "quarter"
PERIODS = (DAY, WEEK, MONTH, QUARTER)
BRANCH, BRAND, MODEL, SALESPERSON = "branch", "brand", "model", "salesperson"
DIMENSIONS = (BRANCH, BRAND, MODEL, SALESPERSON)
LONGEST_RANGE = datetime.timedelta(days=3 * 366)
# The saga's steps in order, as the order events name them.
CREATED, CONFIRMED, PAID, COMPLETED, CANCELLED = "created", "confirmed", "paid", "completed", "cancelled"
STEPS = (CREATED, CONFIRMED, PAID)

# Why reporting refuses a request (google.rpc.ErrorInfo.reason; proto/autosalon/ERRORS.md lists them).
REBUILD_RUNNING = "REBUILD_RUNNING"


def date_range(start_text: str, end_text: str, prefix: str = "") -> tuple[datetime.date, datetime.date]:
    """The days from `start_text` to `end_text`, both included; InvalidArgument naming the field
    (`<prefix>start_date`, `<prefix>end_date`) that is missing, unreadable or out of order, or a
    range longer than three years."""
    start_field, end_field = f"{prefix}start_date", f"{prefix}end_date"
    start, end = date_from(start_text, start_field), date_from(end_text, end_field)
    missing = {field: "is required, a date like 2026-12-31" for field, day in ((start_field, start),
                                                                              (end_field, end)) if day is None}
    if missing:
        raise InvalidArgument(missing)
    if end < start:
        raise InvalidArgument({end_field: "must not be before start_date"})
    if end - start > LONGEST_RANGE:
        raise InvalidArgument({end_field: "must be at most three years after start_date"})
    return start, end


def step_reached(confirmed: bool, paid: bool) -> str:
    """The last step of the saga an order had reached (where a cancellation stopped it)."""
    return PAID if paid else CONFIRMED if confirmed else CREATED


def local_day(moment: datetime.datetime, zone: datetime.tzinfo) -> datetime.date:
    """The dealership's calendar day of a moment."""
    return moment.astimezone(zone).date()


def title_of(start: datetime.date, end: datetime.date, period: str, split: str) -> str:
    """A kept sales report's title: "Sales 2026-01-01 to 2026-12-31, by month, by brand"."""
    return f"Sales {start.isoformat()} to {end.isoformat()}, by {period}" + (f", by {split}" if split else "")
