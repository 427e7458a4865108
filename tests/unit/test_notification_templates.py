"""notification's templates: every kind in every language renders its sample in full, amounts,
days and moments as the language writes them, missing data refused by name, and an HTML part
that escapes the data and says what the text says."""
import copy
import datetime
import re
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st
from markupsafe import escape

from services.kit.errors import InvalidArgument
from services.notification import templates
from services.notification.samples import SAMPLES

NBSP, NARROW = "\u00a0", "\u202f"
UTC = datetime.timezone.utc
EVERY = [(kind, language) for kind in templates.KINDS for language in templates.LANGUAGES]
WITHOUT_BUTTON = {"order_completed"}


def _fields(error: InvalidArgument) -> set[str]:
    return {field for field, _ in error.violations}


def _words(error: InvalidArgument) -> str:
    return " ".join(message for _, message in error.violations)


def _sample(kind: str, **changes) -> dict:
    return {**copy.deepcopy(SAMPLES[kind]), **changes}


def _leaves(data: dict, path: tuple = ()) -> list[tuple]:
    """The path to every datum in `data`, nested dicts followed, `action_url` left out."""
    paths = []
    for key, value in data.items():
        if isinstance(value, dict):
            paths.extend(_leaves(value, (*path, key)))
        elif key != "action_url":
            paths.append((*path, key))
    return paths


def _without(data: dict, path: tuple) -> dict:
    data = copy.deepcopy(data)
    holder = data
    for key in path[:-1]:
        holder = holder[key]
    del holder[path[-1]]
    return data


def _paragraphs(text: str) -> list[list[str]]:
    return [paragraph.split("\n") for paragraph in re.split(r"\n\s*\n", text) if paragraph.strip()]


def test_there_is_a_sample_and_a_template_for_every_kind_and_language_and_nothing_else():
    assert set(SAMPLES) == set(templates.KINDS)
    files = {path.name for path in templates.FOLDER.glob("*.j2")} - {"layout.html.j2"}
    assert files == {f"{kind}.{language}.j2" for kind, language in EVERY}


@pytest.mark.parametrize("kind, language", EVERY)
def test_every_kind_and_language_renders_its_sample_with_every_part_filled_and_no_leaks(kind, language):
    rendered = templates.render(kind, language, SAMPLES[kind])
    for part in ("subject", "text", "html", "sms", "push_title", "push_body"):
        value = getattr(rendered, part)
        assert value.strip(), part
        for leak in ("{{", "}}", "{%", "None", "Undefined", "..", " ,", " ."):
            assert leak not in value, (part, leak)
    assert "\n" not in rendered.subject
    assert "\n" not in rendered.sms and "\n" not in rendered.push_title and "\n" not in rendered.push_body


@pytest.mark.parametrize("kind, language", EVERY)
def test_a_message_greets_the_customer_by_name(kind, language):
    text = templates.render(kind, language, SAMPLES[kind]).text
    name = SAMPLES[kind]["customer_name"]
    greeting = f"Здравствуйте, {name}!" if language == "ru" else f"Hello {name},"
    assert text.split("\n")[0] == greeting


@pytest.mark.parametrize("kind, language", EVERY)
def test_every_sms_and_push_title_of_the_samples_fits(kind, language):
    rendered = templates.render(kind, language, SAMPLES[kind])
    assert len(rendered.sms) <= 300
    assert len(rendered.push_title) <= 50


@pytest.mark.parametrize("amount, language, expected", [
    (Decimal("2450000.00"), "ru", f"2{NARROW}450{NARROW}000,00{NBSP}₽"),
    (Decimal("2450000.00"), "en", f"RUB{NBSP}2,450,000.00"),
    (2450000, "ru", f"2{NARROW}450{NARROW}000,00{NBSP}₽"),
    ("1459900.5", "en", f"RUB{NBSP}1,459,900.50"),
    (Decimal("999.99"), "ru", f"999,99{NBSP}₽"),
    (Decimal("1000"), "ru", f"1{NARROW}000,00{NBSP}₽"),
    (Decimal("0"), "ru", f"0,00{NBSP}₽"),
    (Decimal("0"), "en", f"RUB{NBSP}0.00"),
    (Decimal("-1234.5"), "ru", f"-1{NARROW}234,50{NBSP}₽"),
    (Decimal("-1234.5"), "en", f"-RUB{NBSP}1,234.50"),
    (Decimal("123456789012.34"), "ru", f"123{NARROW}456{NARROW}789{NARROW}012,34{NBSP}₽"),
    (Decimal("123456789012.34"), "en", f"RUB{NBSP}123,456,789,012.34"),
])
def test_money_is_written_as_the_language_writes_roubles(amount, language, expected):
    assert templates.money(amount, language) == expected


@pytest.mark.parametrize("amount, expected", [
    ("0.005", f"0,01{NBSP}₽"), ("2.675", f"2,68{NBSP}₽"), ("1.004", f"1,00{NBSP}₽"), ("999.995", f"1{NARROW}000,00{NBSP}₽"),
    ("-0.005", f"-0,01{NBSP}₽"), ("-2.675", f"-2,68{NBSP}₽"), ("-0.004", f"0,00{NBSP}₽"),
])
def test_money_rounds_half_up_to_the_kopeck_and_never_shows_a_negative_zero(amount, expected):
    assert templates.money(Decimal(amount), "ru") == expected


def _unformat(text: str, language: str) -> Decimal:
    if language == "ru":
        assert text.endswith(f"{NBSP}₽")
        return Decimal(text.removesuffix(f"{NBSP}₽").replace(NARROW, "").replace(",", "."))
    assert f"RUB{NBSP}" in text
    return Decimal(text.replace(f"RUB{NBSP}", "").replace(",", ""))


@given(st.decimals(min_value=-10**12, max_value=10**12, places=2, allow_nan=False, allow_infinity=False),
       st.sampled_from(templates.LANGUAGES))
def test_removing_the_formatting_of_money_gives_back_the_amount(amount, language):
    assert _unformat(templates.money(amount, language), language) == amount


@pytest.mark.parametrize("value, language, expected", [
    (datetime.date(2026, 12, 3), "ru", f"3 декабря 2026{NBSP}г."),
    (datetime.date(2026, 12, 3), "en", "3 December 2026"),
    (datetime.date(2027, 1, 31), "ru", f"31 января 2027{NBSP}г."),
    (datetime.date(2027, 5, 1), "ru", f"1 мая 2027{NBSP}г."),
    (datetime.date(2027, 5, 1), "en", "1 May 2027"),
])
def test_a_day_is_written_as_the_language_writes_it(value, language, expected):
    assert templates.day(value, language) == expected


@pytest.mark.parametrize("value, zone, language, expected", [
    (datetime.datetime(2026, 12, 3, 6, 30, tzinfo=UTC), "Europe/Moscow", "ru", f"3 декабря 2026{NBSP}г., 09:30"),
    (datetime.datetime(2026, 12, 3, 6, 30, tzinfo=UTC), "Europe/Moscow", "en", "3 December 2026, 09:30"),
    (datetime.datetime(2026, 12, 31, 22, 30, tzinfo=UTC), "Europe/Moscow", "ru", f"1 января 2027{NBSP}г., 01:30"),
    (datetime.datetime(2026, 12, 31, 22, 30, tzinfo=UTC), "Europe/Moscow", "en", "1 January 2027, 01:30"),
    (datetime.datetime(2026, 3, 1, 15, 0, tzinfo=UTC), "Asia/Vladivostok", "ru", f"2 марта 2026{NBSP}г., 01:00"),
    (datetime.datetime(2026, 12, 3, 2, 0, tzinfo=UTC), "America/New_York", "en", "2 December 2026, 21:00"),
    (datetime.datetime(2026, 12, 3, 9, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=3))), "Asia/Yekaterinburg",
     "en", "3 December 2026, 11:30"),
])
def test_a_moment_is_shown_on_the_clock_of_the_zone(value, zone, language, expected):
    assert templates.moment(value, zone, language) == expected


def test_a_booking_is_shown_on_the_clock_of_its_branch_even_past_midnight():
    booking = {**SAMPLES["booking_created"]["booking"], "start": datetime.datetime(2026, 12, 3, 21, 30, tzinfo=UTC),
               "time_zone": "Asia/Novosibirsk"}
    rendered = templates.render("booking_created", "ru", _sample("booking_created", booking=booking))
    assert f"4 декабря 2026{NBSP}г., 04:30" in rendered.text
    assert f"4 декабря 2026{NBSP}г., 04:30" in rendered.sms


def test_amounts_in_a_message_are_formatted_for_its_language():
    data = SAMPLES["order_paid"]
    assert f"2{NARROW}450{NARROW}000,00{NBSP}₽" in templates.render("order_paid", "ru", data).text
    assert f"RUB{NBSP}2,450,000.00" in templates.render("order_paid", "en", data).text


def test_an_approved_loan_shows_its_rate_as_per_cent():
    data = SAMPLES["loan_approved"]
    assert f"14,5{NBSP}% годовых" in templates.render("loan_approved", "ru", data).text
    assert "14.5% a year" in templates.render("loan_approved", "en", data).text


@pytest.mark.parametrize("language, dash", [("ru", "— "), ("en", "- ")])
def test_a_rejected_loan_lists_every_reason_on_its_own_line_with_a_dash(language, dash):
    reasons = ["Первая причина", "Вторая причина", "Третья причина"]
    application = {**SAMPLES["loan_rejected"]["application"], "reasons": reasons}
    text = templates.render("loan_rejected", language, _sample("loan_rejected", application=application)).text
    lines = text.split("\n")
    assert [line for line in lines if line.startswith(dash)] == [dash + reason for reason in reasons]


@pytest.mark.parametrize("kind, language", [("order_cancelled", "ru"), ("order_cancelled", "en"),
                                            ("payment_failed", "ru"), ("booking_cancelled", "en")])
def test_a_cancellation_or_failure_states_its_reason(kind, language):
    reason = "особая причина 42"
    data = copy.deepcopy(SAMPLES[kind])
    holder = next(value for value in data.values() if isinstance(value, dict) and "reason" in value)
    holder["reason"] = reason
    rendered = templates.render(kind, language, data)
    assert reason in rendered.text and reason in rendered.sms


@pytest.mark.parametrize("kind, language", [("welcome", "fr"), ("welcome", ""), ("order_shipped", "ru"), ("", "en")])
def test_an_unknown_kind_or_language_is_refused_by_name(kind, language):
    with pytest.raises(InvalidArgument) as refused:
        templates.render(kind, language, SAMPLES["welcome"])
    assert _fields(refused.value) == {"language" if kind == "welcome" else "kind"}


@pytest.mark.parametrize("kind, language, path", [
    (kind, language, path) for kind, language in EVERY for path in _leaves(SAMPLES[kind])])
def test_data_missing_what_a_template_uses_is_refused_naming_it(kind, language, path):
    with pytest.raises(InvalidArgument) as refused:
        templates.render(kind, language, _without(SAMPLES[kind], path))
    assert path[-1] in _words(refused.value)


def test_a_customer_name_is_escaped_in_the_html_and_verbatim_in_the_text():
    name = "<script>alert(1)</script>"
    rendered = templates.render("welcome", "en", _sample("welcome", customer_name=name))
    assert name in rendered.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "<script" not in rendered.html


def test_everything_the_data_carries_is_escaped_in_the_html_subject_and_link():
    order = {"number": "<b>A&1</b>", "vehicle": "Haval Jolion 2024", "reason": '"><img src=x onerror=alert(1)>'}
    rendered = templates.render("order_cancelled", "ru",
                                _sample("order_cancelled", order=order, action_url='https://a.example/"onclick="x'))
    assert "<b>" not in rendered.html and "<img" not in rendered.html and '"onclick' not in rendered.html
    assert "<h1 style=\"font-size: 20px;\">Заказ &lt;b&gt;A&amp;1&lt;/b&gt; отменён</h1>" in rendered.html
    assert "<title>Заказ &lt;b&gt;A&amp;1&lt;/b&gt; отменён</title>" in rendered.html
    assert 'href="https://a.example/&#34;onclick=&#34;x"' in rendered.html
    assert order["reason"] in rendered.text


@pytest.mark.parametrize("kind, language", EVERY)
def test_the_html_says_every_paragraph_of_the_text_and_nothing_more(kind, language):
    rendered = templates.render(kind, language, SAMPLES[kind])
    paragraphs = _paragraphs(rendered.text)
    assert len(paragraphs) >= 2
    for lines in paragraphs:
        assert "<p>" + "<br>".join(str(escape(line)) for line in lines) + "</p>" in rendered.html
    button = kind not in WITHOUT_BUTTON
    assert rendered.html.count("<p") == len(paragraphs) + 1 + button
    assert f'<html lang="{language}">' in rendered.html


@pytest.mark.parametrize("kind, language", EVERY)
def test_the_samples_button_links_to_their_action_url(kind, language):
    html = templates.render(kind, language, SAMPLES[kind]).html
    if kind in WITHOUT_BUTTON:
        assert "<a " not in html
    else:
        assert f'<a href="{escape(SAMPLES[kind]["action_url"])}"' in html


@pytest.mark.parametrize("kind, action_url, shown", [
    ("order_confirmed", "https://autosalon.example/orders/A-1024/pay", True),
    ("order_confirmed", "", False),
    ("order_confirmed", None, False),
    ("order_completed", "https://autosalon.example/orders/A-1024", False),
])
def test_the_button_appears_only_with_both_a_label_and_a_link(kind, action_url, shown):
    data = _sample(kind)
    del data["action_url"]
    if action_url is not None:
        data["action_url"] = action_url
    html = templates.render(kind, "ru", data).html
    assert ("<a " in html) is shown
    if shown:
        assert f'<a href="{action_url}"' in html and ">Оплатить заказ</a>" in html


@pytest.mark.parametrize("kind, change", [
    ("booking_created", lambda data: data["booking"].update(time_zone="Mars/Base")),
    ("booking_created", lambda data: data["booking"].update(start="2027-03-01T09:30:00")),
    ("order_confirmed", lambda data: data["order"].update(total="a lot")),
    ("order_confirmed", lambda data: data["order"].update(total=["1", "2"])),
])
def test_data_of_the_wrong_shape_is_refused_not_a_crash(kind, change):
    """A staff preview sends data of its own: a bad zone, a time without its offset, a text where
    an amount belongs are refused on `data`."""
    data = copy.deepcopy(SAMPLES[kind])
    change(data)
    with pytest.raises(InvalidArgument) as refused:
        templates.render(kind, "ru", data)
    assert [field for field, _ in refused.value.violations] == ["data"]
