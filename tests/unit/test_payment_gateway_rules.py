"""The payment gateway emulator's rules: Luhn, and which cards the issuer declines."""
import pytest

from paymentgateway.v1 import gateway_pb2
from services.emulators.payment_gateway import decide
from services.kit.cards import luhn_valid


@pytest.mark.parametrize("number", ["4111111111111111", "4000000000000002", "5555555555554444"])
def test_valid_card_numbers(number):
    assert luhn_valid(number)


@pytest.mark.parametrize("number", ["4111111111111112", "1234", "4111-1111-1111-1111", ""])
def test_invalid_card_numbers(number):
    assert not luhn_valid(number)


def test_issuer_decisions():
    assert decide("4111111111111111") == (gateway_pb2.GATEWAY_STATUS_APPROVED, "")
    assert decide("4000000000000002") == (gateway_pb2.GATEWAY_STATUS_DECLINED, "card declined by issuer")
    assert decide("4000000000009995")[1] == "insufficient funds"
