"""insurance's client: a policy as insurance has it; and the numbers insurance's policies and
claims carry, which the insurer issues (its emulator makes them here)."""
import re
from dataclasses import dataclass

from autosalon.insurance.v1 import insurance_pb2, insurance_pb2_grpc
from services.kit.calls import Peers
from services.kit.errors import InvalidArgument


async def get_policy(peers: Peers, name: str) -> insurance_pb2.Policy:
    """The policy "policies/{uuid}" as the caller may see it (a client only their own)."""
    return await peers.call("insurance", insurance_pb2_grpc.InsuranceServiceStub, "GetPolicy",
                            insurance_pb2.GetPolicyRequest(name=name))


# Numbers (§3)

@dataclass(frozen=True)
class PolicyNumbering:
    """OSAGO's series: the ones one site listed as active in 2025 (another differs [conflict]);
    e-policies are issued in ХХХ."""
    osago_series: tuple[str, ...] = ("РРР", "ННН", "ХХХ", "ТТТ", "ААВ", "ААМ", "ААК")
    e_policy_series: str = "ХХХ"


NUMBERING = PolicyNumbering()
OSAGO_NUMBER = re.compile(r"[АВЕКМНОРСТУХ]{3}[0-9]{10}")
# Typed on a Latin keyboard, a series looks the same and is not: fold it to Cyrillic.
_LATIN_LOOK_ALIKES = str.maketrans("ABEKMHOPCTYX", "АВЕКМНОРСТУХ")
_PREFIXES = {"kasko": "KASKO", "life": "LIFE", "health": "HEALTH"}


def _checked_sequence(sequence: int, digits: int) -> int:
    if not 0 < sequence < 10 ** digits:
        raise ValueError(f"a sequence number from 1 to {10 ** digits - 1}, not {sequence}")
    return sequence


def osago_policy_number(sequence: int, numbering: PolicyNumbering = NUMBERING) -> str:
    """An e-policy's series and ten-digit number, e.g. ХХХ0000000042 (the reference's form, no space)."""
    return f"{numbering.e_policy_series}{_checked_sequence(sequence, 10):010d}"


def normalize_osago_policy_number(text: str, numbering: PolicyNumbering = NUMBERING) -> str:
    """A typed OSAGO number in its stored form: spaces dropped, upper case, Latin look-alikes
    folded to Cyrillic; refused unless three letters of a series in use and ten digits."""
    number = "".join(text.split()).upper().translate(_LATIN_LOOK_ALIKES)
    if not OSAGO_NUMBER.fullmatch(number):
        raise InvalidArgument({"policy_number": "a series of three letters (А В Е К М Н О Р С Т У Х) "
                                                "and ten digits, e.g. ХХХ0123456789"})
    if number[:3] not in numbering.osago_series:
        raise InvalidArgument({"policy_number": f"series {number[:3]} is not in use; "
                                                f"it is one of {', '.join(numbering.osago_series)}"})
    return number


def policy_number(product: str, year: int, sequence: int) -> str:
    """KASKO, life and health policies: PRODUCT-YYYY-NNNNNNNN, e.g. KASKO-2026-00000042; unique as
    long as the sequence is unique within product and year (a single sequence will do)."""
    if product not in _PREFIXES:
        raise ValueError(f"no policy numbers for {product!r} here (OSAGO's come from osago_policy_number)")
    return f"{_PREFIXES[product]}-{year:04d}-{_checked_sequence(sequence, 8):08d}"


def claim_number(year: int, sequence: int) -> str:
    """CLM-YYYY-NNNNNNNN, e.g. CLM-2026-00000007, whatever the product."""
    return f"CLM-{year:04d}-{_checked_sequence(sequence, 8):08d}"
