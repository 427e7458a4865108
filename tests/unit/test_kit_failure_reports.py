"""Failed passes of background work: PostgreSQL being away is one line, anything else a traceback."""
import logging

import psycopg
import sqlalchemy as sa

from services.kit.failures import database_trouble, report_failure

log = logging.getLogger("failure-reports")


def _database_away() -> sa.exc.OperationalError:
    return sa.exc.OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused"))


def test_database_away_is_one_warning_line(caplog):
    report_failure(log, "reservation sweep failed; trying again", _database_away())
    [record] = caplog.records
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert record.getMessage() == "reservation sweep failed; trying again: the database did not answer (OperationalError)"


def test_any_other_failure_keeps_its_traceback(caplog):
    try:
        {}["missing"]
    except KeyError as error:
        report_failure(log, "payment queue pass failed; trying again", error)
    [record] = caplog.records
    assert record.levelno == logging.ERROR and record.exc_info[0] is KeyError
    assert record.getMessage() == "payment queue pass failed; trying again"


def test_only_the_database_kinds_count_as_trouble():
    assert database_trouble(_database_away()) == "OperationalError"
    assert database_trouble(sa.exc.TimeoutError()) == "TimeoutError"
    assert database_trouble(sa.exc.IntegrityError("INSERT", {}, Exception("duplicate"))) is None
    assert database_trouble(ValueError("no")) is None
