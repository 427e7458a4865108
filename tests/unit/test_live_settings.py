"""Hot settings (services/kit/live_settings.py): applying the values config stores, what config
is told a service declares, and kit.settings' conversion of a value's text."""
import dataclasses
import json
import logging
from decimal import Decimal

import pytest

from services.config import domain
from services.kit import settings
from services.kit.live_settings import LiveSettings, declarations, stored
from services.kit.settings import BadSetting, convert, setting

LOGGER = "services.kit.live_settings"


@dataclasses.dataclass(frozen=True)
class ShopSettings:
    hold_seconds: int = setting(1800, "SHOP_HOLD_SECONDS", "how long a confirmed order holds its car",
                                minimum=60, maximum=7200, hot=True)
    share: float = setting(0.5, "SHOP_SHARE", "the share of a deposit kept", minimum=0, maximum=1, hot=True,
                           category="tariffs")
    fee: Decimal = setting(Decimal("12.50"), "SHOP_FEE", "the fee in roubles", minimum=0, hot=True,
                           category="tariffs")
    mode: str = setting("fast", "SHOP_MODE", "how orders are checked", choices=("fast", "careful"), hot=True)
    open_late: bool = setting(False, "SHOP_OPEN_LATE", "whether the showroom opens late", hot=True)
    address: str = setting("127.0.0.1:7000", "SHOP_ADDRESS", "where the shop's peer listens")


FIELDS = {field.name: field for field in dataclasses.fields(ShopSettings)}


def _live(environ: dict[str, str] | None = None) -> LiveSettings:
    return LiveSettings("shop", settings.load(ShopSettings, environ or {}))


def _changes(live: LiveSettings) -> list:
    seen = []
    live.on_change(seen.append)
    return seen


# Reading and applying.

def test_attributes_are_the_loaded_settings_hot_or_not():
    live = _live({"SHOP_HOLD_SECONDS": "900", "SHOP_ADDRESS": "10.0.0.5:7000"})
    assert live.hold_seconds == 900
    assert live.address == "10.0.0.5:7000"
    assert live.fee == Decimal("12.50")
    assert live.hot


def test_settings_without_hot_fields_are_not_hot():
    @dataclasses.dataclass(frozen=True)
    class Cold:
        address: str = setting("x", "COLD_ADDRESS", "where")

    assert not LiveSettings("cold", Cold()).hot
    assert declarations("cold", Cold) == []
    assert declarations("cold", None) == []


@pytest.mark.parametrize("field, text, value", [
    ("hold_seconds", "900", 900), ("share", "0.25", 0.25), ("fee", "15.75", Decimal("15.75")),
    ("mode", "careful", "careful"), ("open_late", "true", True),
])
def test_a_stored_value_of_a_hot_field_is_applied_in_its_type(field, text, value):
    live = _live()
    live.heard(f"shop.{field}", stored(text, 1))
    assert getattr(live, field) == value
    assert type(getattr(live, field)) is type(value)


def test_a_false_bool_is_applied_as_false():
    live = _live({"SHOP_OPEN_LATE": "true"})
    live.heard("shop.open_late", stored("false", 1))
    assert live.open_late is False


def test_applying_leaves_the_loaded_settings_as_they_were():
    loaded = settings.load(ShopSettings, {})
    live = LiveSettings("shop", loaded)
    live.heard("shop.hold_seconds", stored("900", 1))
    assert loaded.hold_seconds == 1800 and live.hold_seconds == 900


def test_only_a_newer_revision_is_applied():
    live = _live()
    live.heard("shop.hold_seconds", stored("900", 2))
    live.heard("shop.hold_seconds", stored("1000", 2))
    live.heard("shop.hold_seconds", stored("1200", 1))
    assert live.hold_seconds == 900
    live.heard("shop.hold_seconds", stored("1000", 3))
    assert live.hold_seconds == 1000


def test_revisions_are_counted_per_key():
    live = _live()
    live.heard("shop.hold_seconds", stored("900", 7))
    live.heard("shop.mode", stored("careful", 1))
    assert (live.hold_seconds, live.mode) == (900, "careful")


def test_a_value_equal_to_the_current_one_still_counts_its_revision():
    live = _live()
    live.heard("shop.hold_seconds", stored("1800", 5))
    live.heard("shop.hold_seconds", stored("900", 4))
    assert live.hold_seconds == 1800


def test_no_value_gives_back_what_the_instance_started_with():
    """That is the environment's value, not the field's default."""
    live = _live({"SHOP_HOLD_SECONDS": "3600", "SHOP_MODE": "careful"})
    live.heard("shop.hold_seconds", stored("900", 1))
    live.heard("shop.mode", stored("fast", 1))
    live.heard("shop.hold_seconds", stored("", 2))
    live.heard("shop.mode", stored("", 2))
    assert (live.hold_seconds, live.mode) == (3600, "careful")


@pytest.mark.parametrize("key", ["shop.address", "shop.unknown", "inventory.hold_seconds", "hold_seconds", "shop"])
def test_keys_that_are_not_a_hot_field_of_the_service_are_ignored(key, caplog):
    live = _live()
    changes = _changes(live)
    live.heard(key, stored("900", 1))
    assert (live.hold_seconds, live.address) == (1800, "127.0.0.1:7000")
    assert changes == []
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


@pytest.mark.parametrize("field, text, words", [
    ("hold_seconds", "abc", "is not a valid int"),
    ("hold_seconds", "12.5", "is not a valid int"),
    ("hold_seconds", "59", "must be between 60 and 7200"),
    ("hold_seconds", "7201", "must be between 60 and 7200"),
    ("share", "1.5", "must be between 0 and 1"),
    ("share", "nan", "is not a valid float"),
    ("fee", "-0.01", "must be at least 0"),
    ("fee", "NaN", "is not a valid Decimal"),
    ("fee", "twelve", "is not a valid Decimal"),
    ("mode", "slow", "must be one of fast, careful"),
    ("open_late", "maybe", "is not a valid bool"),
])
def test_a_value_the_field_cannot_take_is_logged_and_ignored(field, text, words, caplog):
    live = _live()
    live.heard(f"shop.{field}", stored(text, 1))
    assert getattr(live, field) == getattr(ShopSettings(), field)
    [record] = [record for record in caplog.records if record.name == LOGGER]
    assert record.levelno == logging.ERROR
    assert f"shop.{field}" in record.getMessage() and words in record.getMessage()


def test_a_refused_value_keeps_the_current_one_and_a_later_revision_still_applies(caplog):
    live = _live()
    live.heard("shop.hold_seconds", stored("900", 1))
    live.heard("shop.hold_seconds", stored("30", 2))
    assert live.hold_seconds == 900
    live.heard("shop.hold_seconds", stored("600", 3))
    assert live.hold_seconds == 600
    assert [record.levelno for record in caplog.records if record.name == LOGGER].count(logging.ERROR) == 1


@pytest.mark.parametrize("record", [
    b"not json", b"", b"null", b"[1, 2]", b'{"value": "900"}', b'{"revision": 1}',
    b'{"value": "900", "revision": "first"}', b'{"value": 900, "revision": 1}',
    b'{"value": true, "revision": 1}', b"\xff\xfe",
])
def test_a_record_that_is_not_what_config_stores_is_logged_and_ignored(record, caplog):
    """Whoever writes the bucket by hand must not stop the service following it."""
    live = _live()
    changes = _changes(live)
    for field in ("hold_seconds", "open_late"):
        live.heard(f"shop.{field}", record)
    assert (live.hold_seconds, live.open_late) == (1800, False)
    assert changes == []
    errors = [entry for entry in caplog.records if entry.name == LOGGER and entry.levelno == logging.ERROR]
    assert len(errors) == 2 and "is not what the config service stores" in errors[0].getMessage()


# Listeners.

def test_listeners_hear_the_new_settings_after_each_change():
    live = _live()
    first, second = _changes(live), _changes(live)
    live.heard("shop.share", stored("0.75", 1))
    live.heard("shop.open_late", stored("true", 1))
    assert [(now.share, now.open_late) for now in first] == [(0.75, False), (0.75, True)]
    assert second == first
    assert isinstance(first[-1], ShopSettings) and first[-1].hold_seconds == 1800


def test_a_listener_sees_the_change_already_applied():
    live = _live()
    seen = []
    live.on_change(lambda now: seen.append((now.hold_seconds, live.hold_seconds)))
    live.heard("shop.hold_seconds", stored("900", 1))
    assert seen == [(900, 900)]


def test_listeners_hear_nothing_when_nothing_changed(caplog):
    live = _live()
    changes = _changes(live)
    live.heard("shop.hold_seconds", stored("1800", 1))    # the value it has
    live.heard("shop.hold_seconds", stored("", 2))        # back to the start: the same
    live.heard("shop.hold_seconds", stored("900", 2))     # not newer
    live.heard("shop.hold_seconds", stored("30", 3))      # refused
    live.heard("shop.address", stored("x", 4))            # not hot
    assert changes == []
    live.heard("shop.hold_seconds", stored("900", 4))
    assert [now.hold_seconds for now in changes] == [900]


def test_clearing_a_value_is_a_change_listeners_hear():
    live = _live()
    changes = _changes(live)
    live.heard("shop.mode", stored("careful", 1))
    live.heard("shop.mode", stored("", 2))
    assert [now.mode for now in changes] == ["careful", "fast"]


# The bucket's records.

def test_stored_is_the_json_record_the_bucket_keeps():
    assert json.loads(stored("900s", 3)) == {"value": "900s", "revision": 3}
    assert json.loads(stored("", 4)) == {"value": "", "revision": 4}
    assert isinstance(stored("x", 1), bytes)


# Declarations.

def test_declarations_list_the_hot_fields_only_in_order():
    keys = [declared["key"] for declared in declarations("shop", ShopSettings)]
    assert keys == ["shop.hold_seconds", "shop.share", "shop.fee", "shop.mode", "shop.open_late"]


def test_a_declaration_says_type_default_bounds_meaning_and_category():
    hold, share, fee, mode, open_late = declarations("shop", ShopSettings)
    assert hold == {"key": "shop.hold_seconds", "value_type": "int", "default_value": "1800", "minimum": "60",
                    "maximum": "7200", "choices": [], "description": "how long a confirmed order holds its car",
                    "category": "shop", "service": "shop"}
    assert (share["value_type"], share["default_value"], share["minimum"], share["maximum"], share["category"]) \
        == ("decimal", "0.5", "0", "1", "tariffs")
    assert (fee["value_type"], fee["default_value"], fee["minimum"], fee["maximum"]) \
        == ("decimal", "12.50", "0", "")
    assert (mode["value_type"], mode["default_value"], mode["choices"], mode["minimum"], mode["maximum"]) \
        == ("string", "fast", ["fast", "careful"], "", "")
    assert (open_late["value_type"], open_late["default_value"], open_late["category"]) == ("bool", "false", "shop")


def test_config_takes_every_declaration_and_its_default():
    """What a service declares passes config's own rules, and a value config stores is one the
    service applies."""
    live = _live({"SHOP_HOLD_SECONDS": "900", "SHOP_SHARE": "0.1", "SHOP_FEE": "1", "SHOP_MODE": "careful",
                  "SHOP_OPEN_LATE": "on"})
    for revision, declared in enumerate(declarations("shop", ShopSettings), start=1):
        rules = domain.definition(declared["value_type"], declared["minimum"], declared["maximum"],
                                  tuple(declared["choices"]), "")
        assert domain.check_value(declared["default_value"], rules) == declared["default_value"]
        live.heard(declared["key"], stored(declared["default_value"], revision))
    for name in ("hold_seconds", "share", "fee", "mode", "open_late"):
        assert getattr(live, name) == getattr(ShopSettings(), name)


# kit.settings.convert.

@pytest.mark.parametrize("raw", ["true", "TRUE", " yes ", "1", "on", "On"])
def test_a_bool_setting_reads_the_words_for_true(raw):
    assert convert(FIELDS["open_late"], raw, "SHOP_OPEN_LATE") is True


@pytest.mark.parametrize("raw", ["false", "False", " no ", "0", "off", "OFF"])
def test_a_bool_setting_reads_the_words_for_false(raw):
    """bool("false") would be True."""
    assert convert(FIELDS["open_late"], raw, "SHOP_OPEN_LATE") is False


@pytest.mark.parametrize("raw", ["maybe", "2", "t", "enabled", ""])
def test_any_other_bool_text_is_a_bad_setting_naming_its_source(raw):
    with pytest.raises(BadSetting) as error:
        convert(FIELDS["open_late"], raw, "SHOP_OPEN_LATE")
    assert str(error.value) == f"SHOP_OPEN_LATE={raw!r} is not a valid bool"


def test_loading_reads_a_bool_from_the_environment():
    assert settings.load(ShopSettings, {"SHOP_OPEN_LATE": "off"}).open_late is False
    assert settings.load(ShopSettings, {"SHOP_OPEN_LATE": "yes"}).open_late is True
    with pytest.raises(BadSetting, match="SHOP_OPEN_LATE='sometimes' is not a valid bool"):
        settings.load(ShopSettings, {"SHOP_OPEN_LATE": "sometimes"})


@pytest.mark.parametrize("field, raw, value", [
    ("hold_seconds", "60", 60), ("hold_seconds", "7200", 7200), ("share", "0", 0.0), ("share", "1", 1.0),
    ("fee", "0", Decimal("0")), ("fee", "99.99", Decimal("99.99")), ("mode", "careful", "careful"),
])
def test_convert_takes_a_value_within_bounds_and_choices(field, raw, value):
    assert convert(FIELDS[field], raw, "X") == value


@pytest.mark.parametrize("field, raw, message", [
    ("hold_seconds", "59", "X='59' must be between 60 and 7200"),
    ("fee", "-1", "X='-1' must be at least 0"),
    ("mode", "slow", "X='slow' must be one of fast, careful"),
    ("hold_seconds", "1e3", "X='1e3' is not a valid int"),
])
def test_convert_refuses_a_value_outside_bounds_or_choices(field, raw, message):
    with pytest.raises(BadSetting) as error:
        convert(FIELDS[field], raw, "X")
    assert str(error.value) == message


@pytest.mark.parametrize("field, raw", [("share", "nan"), ("share", "-nan"), ("fee", "NaN"), ("fee", "sNaN"),
                                        ("fee", "Infinity"), ("share", "inf")])
def test_not_a_number_and_infinity_are_bad_settings(field, raw):
    """nan is neither below nor above any bound, and a Decimal NaN cannot even be compared."""
    with pytest.raises(BadSetting, match="is not a valid"):
        convert(FIELDS[field], raw, "X")

