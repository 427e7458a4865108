"""OSAGO's tariff tables as plain data (insurance.md §1); tariffs.py assembles them into versions.

Values exactly as the reference prints them. A later directive is more data of this shape and
one more TariffVersion, not a code change.
"""
from decimal import Decimal

# TB corridor (lowest, highest) by (vehicle category, owner), §1.3. "B" is category B/BE not used
# as a taxi; a taxi's corridor does not depend on who owns it.
BASE_RATES_2022_09_13 = {
    ("B", "individual"): (Decimal("1646"), Decimal("7535")),
    ("B", "legal_entity"): (Decimal("852"), Decimal("5722")),
    ("B_TAXI", "individual"): (Decimal("1490"), Decimal("15756")),
    ("B_TAXI", "legal_entity"): (Decimal("1490"), Decimal("15756")),
}
# 7204-U: the legal entities' corridor was not found, so they are not priced under it.
BASE_RATES_2025_12_09 = {
    ("B", "individual"): (Decimal("1399"), Decimal("8665")),
    ("B_TAXI", "individual"): (Decimal("1267"), Decimal("18119")),
    ("B_TAXI", "legal_entity"): (Decimal("1267"), Decimal("18119")),
}

# KT by the territory of the owner's registration, §1.4. The 2022–2025 values were not found: this
# is the older insurer dump (pre-Sep 2022, inferred), standing in until Annex 2 of 6209-U is
# loaded [unconfirmed].
TERRITORY_2022_09_13 = {
    "moscow": Decimal("1.80"),
    "saint_petersburg": Decimal("1.64"),
    "tomsk": Decimal("1.48"),
    "moscow_oblast": Decimal("1.56"),
    "novosibirsk": Decimal("1.63"),
    "chelyabinsk": Decimal("1.88"),
    "murmansk": Decimal("1.88"),
}
# From 09.12.2025 (7204-U). Tomsk and Moscow oblast were not found, so they are not priced.
TERRITORY_2025_12_09 = {
    "moscow": Decimal("1.80"),
    "saint_petersburg": Decimal("1.64"),
    # 1.56 × 2 in a high-fraud area, per the press; a calculator says 2.34 [conflict].
    "novosibirsk": Decimal("3.12"),
    "chelyabinsk": Decimal("1.77"),
    # The press; a calculator says 1.78 [conflict].
    "murmansk": Decimal("1.77"),
}

# KBM by bonus–malus class, the scale in force from 01.04.2022, §1.5.
BONUS_MALUS = {
    "M": Decimal("3.92"), "0": Decimal("2.94"), "1": Decimal("2.25"), "2": Decimal("1.76"),
    "3": Decimal("1.17"), "4": Decimal("1.00"), "5": Decimal("0.91"), "6": Decimal("0.83"),
    "7": Decimal("0.78"), "8": Decimal("0.74"), "9": Decimal("0.68"), "10": Decimal("0.63"),
    "11": Decimal("0.57"), "12": Decimal("0.52"), "13": Decimal("0.46"),
}

# The class after a year with 0, 1, 2, 3 and 4 or more at-fault payouts: the 3384-U matrix,
# assumed unchanged [unconfirmed], §1.5.
BONUS_MALUS_NEXT = {
    "M": ("0", "M", "M", "M", "M"),
    "0": ("1", "M", "M", "M", "M"),
    "1": ("2", "M", "M", "M", "M"),
    "2": ("3", "1", "M", "M", "M"),
    "3": ("4", "1", "M", "M", "M"),
    "4": ("5", "2", "1", "M", "M"),
    "5": ("6", "3", "1", "M", "M"),
    "6": ("7", "4", "2", "M", "M"),
    "7": ("8", "4", "2", "M", "M"),
    "8": ("9", "5", "2", "M", "M"),
    "9": ("10", "5", "2", "1", "M"),
    "10": ("11", "6", "3", "1", "M"),
    "11": ("12", "6", "3", "1", "M"),
    "12": ("13", "6", "3", "1", "M"),
    "13": ("13", "7", "3", "1", "M"),
}

# KVS, §1.6: a row by the age it starts at, a column by the full years of experience it starts
# at; None where the reference has "–" (impossible: refused).
EXPERIENCE_FROM = (0, 1, 2, 3, 5, 7, 10, 15)
AGE_EXPERIENCE = {
    16: (Decimal("2.27"), Decimal("1.92"), Decimal("1.84"), Decimal("1.65"), Decimal("1.62"), None, None, None),
    22: (Decimal("1.88"), Decimal("1.72"), Decimal("1.71"), Decimal("1.13"), Decimal("1.10"), Decimal("1.09"),
         None, None),
    25: (Decimal("1.72"), Decimal("1.60"), Decimal("1.54"), Decimal("1.09"), Decimal("1.08"), Decimal("1.07"),
         Decimal("1.02"), None),
    30: (Decimal("1.56"), Decimal("1.50"), Decimal("1.48"), Decimal("1.05"), Decimal("1.04"), Decimal("1.01"),
         Decimal("0.97"), Decimal("0.95")),
    35: (Decimal("1.54"), Decimal("1.47"), Decimal("1.46"), Decimal("1.00"), Decimal("0.97"), Decimal("0.95"),
         Decimal("0.94"), Decimal("0.93")),
    40: (Decimal("1.50"), Decimal("1.44"), Decimal("1.43"), Decimal("0.96"), Decimal("0.95"), Decimal("0.94"),
         Decimal("0.93"), Decimal("0.91")),
    50: (Decimal("1.46"), Decimal("1.40"), Decimal("1.39"), Decimal("0.93"), Decimal("0.92"), Decimal("0.91"),
         Decimal("0.90"), Decimal("0.86")),
    60: (Decimal("1.43"), Decimal("1.36"), Decimal("1.35"), Decimal("0.91"), Decimal("0.90"), Decimal("0.89"),
         Decimal("0.88"), Decimal("0.83")),
}

# KM by engine power: (hp up to and including, factor); None: no upper bound, §1.7.
POWER = (
    (Decimal("50"), Decimal("0.6")),
    (Decimal("70"), Decimal("1.0")),
    (Decimal("100"), Decimal("1.1")),
    (Decimal("120"), Decimal("1.2")),
    (Decimal("150"), Decimal("1.4")),
    (None, Decimal("1.6")),
)

# KS by months of use a year; seasonal use is at least 3 months, §1.7.
MONTHS_OF_USE = {
    3: Decimal("0.5"), 4: Decimal("0.6"), 5: Decimal("0.65"), 6: Decimal("0.7"), 7: Decimal("0.8"),
    8: Decimal("0.9"), 9: Decimal("0.95"), 10: Decimal("1.0"), 11: Decimal("1.0"), 12: Decimal("1.0"),
}

# KO of a policy any driver may use, by owner (a named list is 1.00); two calculators use
# 1.94 / 3.16 [conflict], §1.7.
UNLIMITED_DRIVERS = {"individual": Decimal("2.32"), "legal_entity": Decimal("1.97")}
