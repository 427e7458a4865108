"""payment's rules: the status machine, manual changes, card numbers."""
import pytest

from services.kit import errors
from services.payment import domain


@pytest.mark.parametrize("current, wanted", [
    ("pending", "processing"), ("pending", "cancelled"), ("processing", "completed"),
    ("processing", "failed"), ("processing", "cancelled"), ("completed", "refunding"),
    ("cancelled", "refunding"), ("refunding", "refunded"),
])
def test_legal_transitions(current, wanted):
    domain.check_transition(current, wanted)


@pytest.mark.parametrize("current, wanted", [
    ("pending", "completed"), ("completed", "cancelled"), ("failed", "processing"),
    ("cancelled", "pending"), ("completed", "failed"), ("completed", "refunded"),
    ("refunded", "refunding"), ("refunding", "completed"), ("pending", "refunding"),
])
def test_illegal_transitions_name_both_statuses(current, wanted):
    with pytest.raises(errors.FailedPrecondition, match=f"payment is {current}; it cannot become {wanted}"):
        domain.check_transition(current, wanted)


def test_staff_move_bank_transfers_but_only_cancel_a_pending_card_payment():
    assert domain.check_manual_change("bank_transfer", "pending", "processing", "") == ""
    assert domain.check_manual_change("card", "pending", "cancelled", " stuck ") == "stuck"
    with pytest.raises(errors.FailedPrecondition, match="gateway"):
        domain.check_manual_change("card", "processing", "completed", "")
    with pytest.raises(errors.InvalidArgument):
        domain.check_manual_change("cash", "pending", "cancelled", "")


def test_refunds_start_from_a_cancelled_order_never_by_hand():
    for method in ("card", "cash"):
        with pytest.raises(errors.FailedPrecondition, match="starts when the order is cancelled"):
            domain.check_manual_change(method, "completed", "refunding", "customer asked")


def test_staff_record_a_cash_refund_and_a_card_refund_only_once_the_gateway_refused_it():
    assert domain.check_manual_change("cash", "refunding", "refunded", "cash returned") == "cash returned"
    with pytest.raises(errors.InvalidArgument) as refused:
        domain.check_manual_change("cash", "refunding", "refunded", " ")
    assert refused.value.violations[0][0] == "reason"
    with pytest.raises(errors.FailedPrecondition, match="gateway is refunding"):
        domain.check_manual_change("card", "refunding", "refunded", "done by hand")
    assert domain.check_manual_change("card", "refunding", "refunded", "bank transfer back",
                                      refund_refused=True) == "bank transfer back"


def test_card_numbers_are_digits_passing_luhn_and_only_for_cards():
    assert domain.card_number("card", "4111 1111-1111 1111") == "4111111111111111"
    for bad in ("4111111111111112", "", "4111abcd11111111", "4111"):
        with pytest.raises(errors.InvalidArgument) as refused:
            domain.card_number("card", bad)
        assert refused.value.violations[0][0] == "card_number"
        assert "4111" not in refused.value.violations[0][1]
    assert domain.card_number("cash", "") == ""
    with pytest.raises(errors.InvalidArgument):
        domain.card_number("cash", "4111111111111111")
