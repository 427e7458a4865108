"""notification's rules: retries back off, scattered; a message goes only on the channels a
customer chose that have somewhere to go; transactional email stays on."""
import pytest
from hypothesis import given, strategies as st

from services.kit.errors import InvalidArgument
from services.notification import domain, templates


def test_each_retry_waits_twice_as_long_as_the_one_before_within_its_scatter():
    assert [domain.retry_wait(attempt, 2.0, 0.5) for attempt in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert domain.retry_wait(1, 2.0, 0.0) == 1.5 and domain.retry_wait(1, 2.0, 0.999) < 2.5


@given(st.integers(min_value=1, max_value=60), st.floats(min_value=0.1, max_value=60),
       st.floats(min_value=0, max_value=0.9999))
def test_a_wait_is_never_over_an_hour_and_a_quarter_nor_under_three_quarters_of_its_step(attempts, first, chance):
    wait = domain.retry_wait(attempts, first, chance)
    step = min(first * 2 ** (attempts - 1), domain.LONGEST_WAIT)
    assert 0.75 * step <= wait < 1.25 * step <= 1.25 * domain.LONGEST_WAIT


def test_only_chosen_channels_with_somewhere_to_go():
    chosen = {"email": True, "sms": True, "push": True}
    assert domain.channels_for(domain.TRANSACTIONAL, chosen, "ivan@example.ru", "+79161234567") == {
        "email": "ivan@example.ru", "sms": "+79161234567", "push": "account"}
    assert domain.channels_for(domain.TRANSACTIONAL, chosen, "ivan@example.ru", "") == {
        "email": "ivan@example.ru", "push": "account"}
    assert domain.channels_for(domain.MARKETING, domain.DEFAULTS[domain.MARKETING], "ivan@example.ru", "+7916") == {}


def test_transactional_email_cannot_be_turned_off_the_rest_can():
    with pytest.raises(InvalidArgument) as refused:
        domain.check_choices(domain.TRANSACTIONAL, {"email": False, "sms": True, "push": False})
    assert refused.value.violations[0][0] == "preferences.transactional.email"
    assert domain.check_choices(domain.REMINDERS, {"email": False, "sms": False, "push": False})["email"] is False


def test_reminders_are_the_templates_about_what_is_coming():
    assert {kind for kind, message_kind in domain.MESSAGE_KIND.items() if message_kind == domain.REMINDERS} == {
        "booking_reminder", "policy_expiring"}


def test_every_refusal_reason_of_a_loan_is_named_in_every_language():
    for language in templates.LANGUAGES:
        assert set(domain.REFUSAL_REASONS) <= set(templates.TERMS[language]["loan_reason"]), language


def test_account_messages_are_templates_and_those_with_links_among_them():
    assert set(domain.WITH_SECRETS) <= set(domain.ACCOUNT_KINDS) <= set(templates.KINDS)
    assert all(domain.MESSAGE_KIND[kind] == domain.TRANSACTIONAL for kind in domain.ACCOUNT_KINDS)


def test_a_loan_refusal_is_written_with_its_reasons_and_a_managers_note():
    data = {"customer_name": "Ivan", "action_url": "https://x.example/a",
            "application": {"number": "3F2A1B4C", "reasons": ["pti_above_limit"], "note": "income not confirmed"}}
    english = templates.render("loan_rejected", "en", data).text
    assert "Loan payments would exceed the allowed share of the income" in english
    assert "Comment: income not confirmed" in english
    russian = templates.render("loan_rejected", "ru", {**data, "application": {
        "number": "3F2A1B4C", "reasons": [], "note": ""}}).text
    assert "Причины" not in russian and "Комментарий" not in russian
