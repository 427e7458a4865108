"""The sale order aggregate: folding events, legal and illegal transitions, saga reports, and
until when a confirmed order's car is held."""
import datetime
import functools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.kit import errors
from services.sales import domain
from services.sales.convert import order_to_proto

T0 = datetime.datetime(2026, 11, 25, 10, tzinfo=datetime.timezone.utc)
CREATED = {
    "id": "7d3c9c8e-8c1e-4a36-9d9e-2d8a7c1f0a11", "customer": "users/u1", "vehicle": "vehicles/v1",
    "trim": "models/m1/trims/t1", "vehicle_title": "Lada Vesta 2026, VIN X", "promo_code": "",
    "options": [], "notes": "", "price": {"total": {"currency_code": "RUB", "amount": "1459900.00"}},
}


def events(*steps: tuple[str, dict]) -> list[domain.Event]:
    return [domain.Event(version, kind, data, "users/u1", T0 + datetime.timedelta(minutes=version))
            for version, (kind, data) in enumerate((("created", CREATED), *steps), start=1)]


def order_after(*steps) -> domain.Order:
    return domain.fold(events(*steps))


def test_fold_rebuilds_state_and_version():
    order = order_after(("updated", {"notes": "Friday"}), ("confirmed", {}), ("vehicle_reserved", {}))
    assert order.status == domain.CONFIRMED
    assert order.version == 4
    assert order.notes == "Friday"
    assert order.ready_for_payment
    assert order.created_at == T0 + datetime.timedelta(minutes=1)
    assert order.updated_at == T0 + datetime.timedelta(minutes=4)
    assert str(order.total) == "1459900.00"


def test_nothing_folds_to_nothing_and_unknown_events_are_refused():
    assert domain.fold([]) is None
    with pytest.raises(ValueError):
        domain.fold(events(("teleported", {})))


def test_a_promo_code_must_be_taken_before_payment():
    with_code = dict(CREATED, promo_code="SPRING")
    base = [domain.Event(1, "created", with_code, "users/u1", T0), domain.Event(2, "confirmed", {}, "u", T0),
            domain.Event(3, "vehicle_reserved", {}, "inventory", T0)]
    assert not domain.fold(base).ready_for_payment
    taken = domain.fold([*base, domain.Event(4, "promo_code_redeemed", {}, "pricing", T0)])
    assert taken.ready_for_payment


@pytest.mark.parametrize("steps, decide, words", [
    ((), domain.complete, "order is draft; it can be completed only once paid"),
    ((("confirmed", {}),), domain.confirm, "order is confirmed; it cannot become confirmed"),
    ((("confirmed", {}),), functools.partial(domain.edit, changes={}), "only a draft can be changed"),
    ((("confirmed", {}),), domain.delete, "only a draft can be deleted"),
    ((("confirmed", {}), ("paid", {"payment": "payments/p"})),
     functools.partial(domain.cancel, reason="no"), "order is paid; it cannot become cancelled"),
    ((("cancelled", {"reason": "x"}),), domain.confirm, "order is cancelled; it cannot become confirmed"),
])
def test_illegal_transitions_name_the_current_and_wanted_state(steps, decide, words):
    with pytest.raises(errors.FailedPrecondition, match=words):
        decide(order_after(*steps))


def test_the_happy_path_of_transitions():
    order = order_after()
    assert domain.confirm(order) == [("confirmed", {})]
    confirmed = order_after(("confirmed", {}))
    assert domain.cancel(confirmed, " changed my mind ") == [("cancelled", {"reason": "changed my mind"})]
    paid = order_after(("confirmed", {}), ("paid", {"payment": "payments/p"}))
    assert paid.payment == "payments/p"
    assert domain.complete(paid) == [("completed", {})]


def test_a_cancel_needs_a_short_reason():
    with pytest.raises(errors.InvalidArgument):
        domain.cancel(order_after(), "  ")
    with pytest.raises(errors.InvalidArgument):
        domain.cancel(order_after(), "x" * 501)


def test_saga_reports_apply_once_and_only_while_they_matter():
    confirmed = order_after(("confirmed", {}))
    assert domain.vehicle_reserved(confirmed) == [("vehicle_reserved", {})]
    assert domain.vehicle_reserved(order_after(("confirmed", {}), ("vehicle_reserved", {}))) == []
    assert domain.vehicle_reserved(order_after(("cancelled", {"reason": "x"}))) == []
    paid = order_after(("confirmed", {}), ("paid", {"payment": "payments/p"}))
    assert domain.paid(paid, "payments/p") == []
    assert domain.saga_cancel(paid, "payment failed") == []
    assert domain.saga_cancel(confirmed, "r" * 900) == [("cancelled", {"reason": "r" * 500})]


def test_a_refund_after_cancellation_is_told_once_in_the_history():
    cancelled = order_after(("confirmed", {}), ("cancelled", {"reason": "reservation expired"}))
    changes = domain.payment_refunded(cancelled, "payments/p", "RF-1")
    assert changes == [("payment_refunded", {"payment": "payments/p", "refund_reference": "RF-1"})]
    refunded = order_after(("confirmed", {}), ("cancelled", {"reason": "reservation expired"}), *changes)
    assert refunded.status == domain.CANCELLED and refunded.version == 4
    assert domain.payment_refunded(refunded, "payments/p", "RF-1") == []
    assert domain.payment_refunded(order_after(("confirmed", {})), "payments/p", "RF-1") == []
    assert domain.describe(events(*changes)[-1]) == "payments/p refunded, bank reference RF-1"


STEPS = st.sampled_from(["confirm", "cancel", "complete", "reserved", "redeemed", "paid", "edit", "delete"])


@given(st.lists(STEPS, max_size=12))
def test_any_sequence_of_commands_keeps_the_state_machine(commands):
    """Whatever is tried, a refused command changes nothing and an order never leaves a
    final state; versions always count the events."""
    decisions = {
        "confirm": domain.confirm, "cancel": lambda o: domain.cancel(o, "why"),
        "complete": domain.complete, "reserved": domain.vehicle_reserved,
        "redeemed": domain.promo_code_redeemed, "paid": lambda o: domain.paid(o, "payments/p"),
        "edit": lambda o: domain.edit(o, {"notes": "n"}), "delete": domain.delete,
    }
    history = events()
    for command in commands:
        before = domain.fold(history)
        try:
            changes = decisions[command](before)
        except errors.FailedPrecondition:
            continue
        for kind, data in changes:
            history.append(domain.Event(len(history) + 1, kind, data, "u", T0))
        after = domain.fold(history)
        assert after.version == len(history)
        if before.status in (domain.COMPLETED, domain.CANCELLED):
            assert after.status == before.status
        if after.status == domain.PAID:
            assert before.status in (domain.CONFIRMED, domain.PAID)


def test_a_customer_holds_at_most_so_many_cars_unpaid():
    domain.may_hold_another([], 2)
    domain.may_hold_another(["orders/a"], 2)
    with pytest.raises(errors.AlreadyExists, match=r"already hold 2 cars .*\(orders/a, orders/b\); pay for or cancel"):
        domain.may_hold_another(["orders/b", "orders/a"], 2)


def test_an_order_shows_until_when_its_car_is_held_only_while_it_is():
    until = T0 + datetime.timedelta(minutes=30)
    reserved = (("confirmed", {}), *domain.vehicle_reserved(order_after(("confirmed", {})), held_until=until))
    held = order_after(*reserved)
    assert held.held_until == until
    assert order_to_proto(held).held_until.ToDatetime(tzinfo=datetime.timezone.utc) == until
    paid = order_after(*reserved, ("paid", {"payment": "payments/p"}))
    cancelled = order_after(*reserved, ("cancelled", {"reason": "changed my mind"}))
    # A reservation recorded before its end was: nothing to show.
    unsaid = order_after(("confirmed", {}), ("vehicle_reserved", {}))
    for no_longer in (paid, cancelled, unsaid):
        assert not order_to_proto(no_longer).HasField("held_until")
