"""How a failed request, pass of background work or event is reported: PostgreSQL being away
is one line (it is over once the database answers; the caller or the next pass tries again),
anything else its traceback."""
import logging

import sqlalchemy as sa


# PostgreSQL down or unreachable, a connection lost, every pooled connection busy past the
# pool's timeout, a deadlock or a serialization failure: over once it answers again.
DATABASE_TROUBLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)


def database_trouble(error: BaseException) -> str | None:
    """The driver's name for the trouble when `error` is PostgreSQL being away, else None."""
    if not isinstance(error, DATABASE_TROUBLE):
        return None
    return type(getattr(error, "orig", None) or error).__name__


def report_failure(logger: logging.Logger, what: str, error: Exception) -> None:
    """A failed request, pass of background work or event: one line when the database is away
    (over once it answers; the caller or the next pass tries again), the traceback for anything
    else."""
    trouble = database_trouble(error)
    if trouble:
        logger.warning("%s: the database did not answer (%s)", what, trouble)
    else:
        logger.error("%s", what, exc_info=error)
