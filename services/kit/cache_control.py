"""How long browsers and the edge may keep an answer (the Cache-Control header over REST).

Public data read without a token may be kept for a few seconds: the edge then answers repeated
catalogue searches itself. Whatever a signed-in caller reads is never kept, so that staff see
their own changes at once and nobody's answer is served to another.
"""
import random

import grpc

from . import identity

NOT_KEPT = "private, no-cache"


async def allow_public_caching(context: grpc.aio.ServicerContext, max_age_seconds: int) -> None:
    """Call on success only, just before answering: an error must never be kept.

    The answer may be kept between max_age_seconds and twice that, at random: answers cached
    together (a burst of visitors) then expire at different moments, so the service refills
    them a few at a time instead of all at once while every visitor waits."""
    keep = identity.optional() is None and max_age_seconds > 0
    value = f"public, max-age={random.randint(max_age_seconds, 2 * max_age_seconds)}" if keep else NOT_KEPT
    await context.send_initial_metadata((("cache-control", value),))


async def never_keep(context: grpc.aio.ServicerContext) -> None:
    """For an answer holding secrets (tokens): no cache, shared or the browser's, may store it."""
    await context.send_initial_metadata((("cache-control", "no-store"),))
