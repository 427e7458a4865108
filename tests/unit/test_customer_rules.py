"""customer's rules: profiles, who changes what, segments from rule data."""
import datetime
from decimal import Decimal

import pytest

from services.customer import domain
from services.kit import errors

RULES = [  # as the first migration seeds them
    domain.SegmentRule("vip", 10, 1, Decimal("10000000"), 0),
    domain.SegmentRule("repeat", 20, 2, Decimal("0"), 0),
    domain.SegmentRule("buyer", 30, 1, Decimal("0"), 0),
    domain.SegmentRule("prospect", 40, 0, Decimal("0"), 1),
    domain.SegmentRule("new", 50, 0, Decimal("0"), 0),
]


@pytest.mark.parametrize(
    "purchases, spent, interactions, segment",
    [
        (0, "0", 0, "new"),
        (0, "0", 3, "prospect"),
        (1, "1500000", 0, "buyer"),
        (2, "3000000", 5, "repeat"),
        (1, "12000000", 0, "vip"),
        (3, "15000000", 9, "vip"),
    ],
)
def test_segments_follow_the_rules(purchases, spent, interactions, segment):
    assert domain.segment_for(domain.History(purchases, Decimal(spent), interactions), RULES) == segment


def test_rules_are_data_changing_them_changes_segments():
    stricter = [rule if rule.segment != "vip" else domain.SegmentRule("vip", 10, 1, Decimal("20000000"), 0)
                for rule in RULES]
    history = domain.History(1, Decimal("12000000"), 0)
    assert domain.segment_for(history, stricter) == "buyer"
    assert domain.segment_for(history, []) == "new"


PROFILE = domain.Profile("Anna", "anna@example.ru", "", {}, {"channels": ["email"]}, [])


@pytest.mark.parametrize(
    "change, field",
    [
        ({"full_name": " "}, "customer.full_name"),
        ({"email": "nope"}, "customer.email"),
        ({"phone": "8-916"}, "customer.phone"),
        ({"email": "", "phone": ""}, "customer.phone"),
        ({"preferences": {"channels": ["pigeon"]}}, "customer.preferences.channels"),
        ({"preferences": {"budget": "-1"}}, "customer.preferences.budget"),
        ({"tags": [" "]}, "customer.tags"),
    ],
)
def test_profile_fields(change, field):
    with pytest.raises(errors.InvalidArgument) as error:
        domain.validate_profile(domain.Profile(**{**PROFILE.__dict__, **change}))
    assert field in {name for name, _ in error.value.violations}


def test_tags_are_normalised():
    profile = domain.validate_profile(domain.Profile(**{**PROFILE.__dict__, "tags": ["Fleet", " fleet", "VIP-call"]}))
    assert profile.tags == ["fleet", "vip-call"]


def test_only_staff_set_tags():
    assert domain.check_update(["full_name", "address.city"], is_staff=False) == {"full_name", "address"}
    with pytest.raises(errors.PermissionDenied):
        domain.check_update(["tags"], is_staff=False)
    assert domain.check_update(["tags"], is_staff=True) == {"tags"}
    for mask in ([], ["segment"], ["purchase_count"]):
        with pytest.raises(errors.InvalidArgument):
            domain.check_update(mask, is_staff=True)


ACCOUNT = "users/5f0c6a55-7f3e-4d8e-9a52-0b6f0f6b1c11"


@pytest.mark.parametrize("change, refused", [
    ({"full_name": "Anna K."}, "full_name"),
    ({"email": "other@example.ru"}, "email"),
    ({"phone": "+79161234567", "full_name": "Anna K."}, "full_name,phone"),
])
def test_a_customer_with_an_account_keeps_its_name_email_and_phone(change, refused):
    changes = domain.Profile(**{**PROFILE.__dict__, **change})
    with pytest.raises(errors.FailedPrecondition) as error:
        domain.check_account_fields_kept(ACCOUNT, PROFILE, changes, set(domain.ACCOUNT_FIELDS) | {"address"})
    assert error.value.reason == domain.OWNED_BY_ACCOUNT
    assert error.value.metadata == {"owner": ACCOUNT, "fields": refused}
    assert ACCOUNT in error.value.message


def test_the_account_fields_may_be_named_unchanged_and_a_walk_in_changes_them():
    same = domain.Profile(**{**PROFILE.__dict__, "full_name": " Anna ", "address": {"city": "Kazan"}})
    domain.check_account_fields_kept(ACCOUNT, PROFILE, same, {"full_name", "email", "phone", "address"})
    renamed = domain.Profile(**{**PROFILE.__dict__, "full_name": "Anna K."})
    domain.check_account_fields_kept(ACCOUNT, PROFILE, renamed, {"address"})  # outside the mask
    domain.check_account_fields_kept("", PROFILE, renamed, {"full_name"})  # a walk-in's own


def test_interactions():
    now = datetime.datetime(2026, 11, 24, 12, tzinfo=datetime.timezone.utc)
    assert domain.check_interaction("call", " asked about Haval ", now, now) == "asked about Haval"
    with pytest.raises(errors.InvalidArgument) as error:
        domain.check_interaction(None, "", now + datetime.timedelta(days=1), now)
    assert {f for f, _ in error.value.violations} == {
        "interaction.type", "interaction.note", "interaction.occur_time"}
    assert domain.check_interaction("visit", "test drive", now - datetime.timedelta(days=3650), now)
    with pytest.raises(errors.InvalidArgument) as error:
        domain.check_interaction("visit", "test drive", datetime.datetime(1, 1, 1, tzinfo=datetime.timezone.utc), now)
    assert [f for f, _ in error.value.violations] == ["interaction.occur_time"]
