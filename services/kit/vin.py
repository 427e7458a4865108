"""ISO 3779 vehicle identification numbers: validation, check digit and what a VIN tells."""
import datetime
import secrets
from dataclasses import dataclass

from services.kit.errors import INVALID_CHECK_DIGIT, INVALID_FORMAT, invalid

_VALUES = {
    **{str(digit): digit for digit in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9))),
    **dict(zip("JKLMN", range(1, 6))), "P": 7, "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10))),
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"  # 1980 ... 2009, then again from 2010

REGIONS = (
    ("ABCDEFGH", "Africa"), ("JKLMNPR", "Asia"), ("STUVWXYZ", "Europe"),
    ("12345", "North America"), ("67", "Oceania"), ("89", "South America"),
)
# A few world manufacturer identifiers common in Russian showrooms.
MANUFACTURERS = {
    "XTA": ("Russia", "AvtoVAZ (Lada)"), "X7L": ("Russia", "Renault Russia"),
    "XW8": ("Russia", "Volkswagen Group Rus"), "Z94": ("Russia", "Hyundai Motor Manufacturing Rus"),
    "XWE": ("Russia", "Avtotor"), "X9F": ("Russia", "Ford Sollers"),
    "XTT": ("Russia", "UAZ"), "X96": ("Russia", "GAZ"), "XZG": ("Russia", "Haval Motor Rus"),
    "LVV": ("China", "Chery"), "LB3": ("China", "Geely"), "L6T": ("China", "Geely"),
    "LGW": ("China", "Great Wall (Haval, Tank)"), "LS5": ("China", "Changan"),
    "LRW": ("China", "Tesla Shanghai"), "JTD": ("Japan", "Toyota"), "JTM": ("Japan", "Toyota"),
    "KNA": ("South Korea", "Kia"), "KMH": ("South Korea", "Hyundai"),
    "TMB": ("Czech Republic", "Skoda"), "WVW": ("Germany", "Volkswagen"),
    "WVG": ("Germany", "Volkswagen (SUV)"), "1HG": ("United States", "Honda"),
    "1FA": ("United States", "Ford"), "5YJ": ("United States", "Tesla"),
}
# Regions whose VINs must carry a correct check digit.
CHECKED_PREFIXES = ("1", "2", "3", "4", "5", "L")


def check_digit(vin: str) -> str:
    total = sum(_VALUES[char] * weight for char, weight in zip(vin, _WEIGHTS))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def normalize(raw: str) -> str:
    return raw.strip().upper()


def structural_problem(vin: str) -> str | None:
    if len(vin) != 17:
        return f"must be 17 characters, not {len(vin)}"
    forbidden = sorted({char for char in vin if char in "IOQ"})
    if forbidden:
        return f"must not contain {', '.join(forbidden)} (I, O and Q are never used in VINs)"
    unknown = sorted({char for char in vin if char not in _VALUES})
    if unknown:
        return f"may contain only digits and letters, not {''.join(unknown)!r}"
    return None


@dataclass(frozen=True)
class VinFacts:
    region: str
    country: str
    manufacturer_code: str
    manufacturer: str
    model_year: int
    check_digit_valid: bool
    warning: str


def _model_year(vin: str, latest: int) -> int:
    code = vin[9]
    if code not in _YEAR_CODES:
        return 0
    first = 1980 + _YEAR_CODES.index(code)
    candidates = [first, first + 30]
    if vin[0] in "12345":
        # North America: a letter in position 7 means the 2010 cycle.
        return first + 30 if vin[6].isalpha() else first
    fitting = [year for year in candidates if year <= latest]
    return max(fitting) if fitting else 0


def decode(raw: str, today: datetime.date | None = None) -> VinFacts:
    """Facts of a valid VIN; InvalidArgument on field `vin` for anything that is not one."""
    vin = normalize(raw)
    if problem := structural_problem(vin):
        raise invalid("vin", problem, INVALID_FORMAT)
    expected = check_digit(vin)
    valid = vin[8] == expected
    if not valid and vin.startswith(CHECKED_PREFIXES):
        raise invalid("vin", f"check digit (9th character) is {vin[8]} but must be {expected}", INVALID_CHECK_DIGIT)
    region = next((name for starts, name in REGIONS if vin[0] in starts), "unknown")
    country, manufacturer = MANUFACTURERS.get(vin[:3], ("", ""))
    latest = (today or datetime.date.today()).year + 1
    return VinFacts(
        region=region, country=country, manufacturer_code=vin[:3], manufacturer=manufacturer,
        model_year=_model_year(vin, latest), check_digit_valid=valid,
        warning="" if valid else f"check digit is {vin[8]}, {expected} expected; accepted for this region",
    )


_ALLOWED = sorted(_VALUES)


def with_check_digit(vin17: str) -> str:
    """The same VIN with its 9th character set to the right check digit (for test data)."""
    vin = normalize(vin17)
    return vin[:8] + check_digit(vin) + vin[9:]


def example(first_ten: str) -> str:
    """A valid VIN beginning with `first_ten`, its plant and serial drawn at random from the
    33 characters a VIN may use (for test and benchmark data: ~4e10 of them, so no repeats)."""
    return with_check_digit(first_ten + "".join(secrets.choice(_ALLOWED) for _ in range(7)))
