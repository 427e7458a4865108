"""Which answers browsers and the edge may keep, and for how long."""
import asyncio

import pytest

from services.kit import cache_control, identity


class _Context:
    def __init__(self):
        self.sent = []

    async def send_initial_metadata(self, metadata):
        self.sent.append(tuple(metadata))


def _header(max_age: int, caller: identity.Identity | None) -> str:
    async def call():
        identity.identity_var.set(caller)
        context = _Context()
        await cache_control.allow_public_caching(context, max_age)
        [[(name, value)]] = context.sent
        assert name == "cache-control"
        return value
    return asyncio.run(call())


def test_anonymous_answers_are_kept_between_the_max_age_and_twice_it():
    ages = {int(_header(5, None).removeprefix("public, max-age=")) for _ in range(200)}
    assert ages <= set(range(5, 11)) and len(ages) > 1


@pytest.mark.parametrize("role", ["client", "manager", "admin"])
def test_a_signed_in_callers_answer_is_never_kept(role):
    caller = identity.Identity(user_id="u-1", role=role, email="a@b.ru", token="t")
    assert _header(5, caller) == cache_control.NOT_KEPT


def test_a_max_age_of_zero_keeps_nothing():
    assert _header(0, None) == cache_control.NOT_KEPT
