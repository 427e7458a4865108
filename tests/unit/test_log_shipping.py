"""The kit's log shipping and monitoring's rules: records at WARNING and above are queued, never
more than the queue holds (the oldest dropped, counted), with the trace id and the RPC being
served; the shipper's own records are never shipped; levels compare in order."""
import datetime
import logging

from services.kit import logs
from services.kit.log_shipping import LogShipper, events_of
from services.monitoring import domain


def _logger(shipper: LogShipper, name: str = "services.sales.handlers") -> logging.Logger:
    logger = logging.getLogger(name)
    logger.handlers[:] = [shipper]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger


def test_warnings_and_errors_are_queued_with_their_trace_and_rpc_and_infos_are_not():
    shipper = LogShipper("sales", queue_size=10)
    logger = _logger(shipper)
    logs.trace_id_var.set("trace-1")
    logs.rpc_var.set("/autosalon.sales.v1.SalesService/CreateOrder")
    logger.info("an order was created")
    logger.warning("the pricing service is slow")
    try:
        raise ValueError("no such trim")
    except ValueError:
        logger.exception("the order failed")
    batch = shipper.next_batch()
    assert [(record.level, record.message) for record in batch.records] == [
        ("warning", "the pricing service is slow"), ("error", "the order failed")]
    assert {record.trace_id for record in batch.records} == {"trace-1"}
    assert batch.records[0].rpc == "/autosalon.sales.v1.SalesService/CreateOrder"
    assert "ValueError: no such trim" in batch.records[1].error and batch.records[0].error == ""
    assert batch.records[0].time.ToDatetime(tzinfo=datetime.timezone.utc) <= datetime.datetime.now(
        datetime.timezone.utc)
    assert shipper.next_batch() is None


def test_a_full_queue_drops_the_oldest_and_counts_them():
    shipper = LogShipper("sales", queue_size=3)
    logger = _logger(shipper)
    for number in range(5):
        logger.warning("record %d", number)
    batch = shipper.next_batch()
    assert [record.message for record in batch.records] == ["record 2", "record 3", "record 4"]
    assert batch.dropped_so_far == 2


def test_the_shippers_own_troubles_are_not_shipped():
    shipper = LogShipper("sales")
    _logger(shipper, "kit.log_shipping").warning("10 log records not shipped")
    assert shipper.next_batch() is None


def test_levels_compare_in_order_and_steps_count_the_time_since_the_one_before():
    assert domain.SEVERITY["warning"] < domain.SEVERITY["error"] < domain.SEVERITY["critical"]
    start = datetime.datetime(2026, 12, 3, tzinfo=datetime.timezone.utc)
    moments = [start, start + datetime.timedelta(milliseconds=12), start + datetime.timedelta(milliseconds=40)]
    assert domain.since_previous_ms(moments) == [0, 12, 28]
    assert domain.since_previous_ms([]) == []


def test_an_instance_is_its_worst_check_and_a_service_is_passing_only_when_every_instance_is():
    assert domain.worst(["passing", "warning", "passing"]) == "warning"
    assert domain.worst(["passing", "critical"]) == "critical" and domain.worst([]) == "critical"
    assert domain.service_status(["passing", "passing"]) == "passing"
    assert domain.service_status(["passing", "critical"]) == "warning"
    assert domain.service_status(["critical"]) == "critical" and domain.service_status([]) == "critical"


def test_a_record_of_odd_text_is_shipped_readable_and_one_that_cannot_be_written_is_counted():
    shipper = LogShipper("sales")
    logger = _logger(shipper)
    logger.warning("odd input %s", "bad\udcff\x00byte")
    logger.warning("%d items", "not a number")
    batch = shipper.next_batch()
    [record] = batch.records
    assert "\udcff" not in record.message and "\x00" not in record.message and "bad" in record.message
    assert batch.dropped_so_far == 1


def test_errors_are_shipped_as_system_error_and_the_rest_as_system_log():
    shipper = LogShipper("sales", queue_size=10)
    logger = _logger(shipper)
    logger.warning("slow")
    logger.error("broken")
    logger.critical("down")
    shipper.dropped = 4
    events = {event: ([record.message for record in part.records], part.dropped_so_far) for event, part in
              events_of(shipper.next_batch())}
    assert events == {"system.error": (["broken", "down"], 4), "system.log": (["slow"], 4)}
    only_warnings = LogShipper("sales")
    _logger(only_warnings).warning("slow")
    [(event, part)] = events_of(only_warnings.next_batch())
    assert event == "system.log" and part.dropped_so_far == 0
