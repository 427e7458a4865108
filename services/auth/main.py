"""auth's composition root: wires the runtime, hashing and the API, then serves."""
import asyncio
import os
from datetime import timedelta

from autosalon.auth.v1 import auth_pb2
from services.kit import app, server
from services.kit.cpu import BoundedExecutor
from services.kit.identity import TokenVerifier

from . import store, tokens
from .api import ACCESS, AuthApi
from .events import evict_changed_users
from .handlers import AuthHandlers


async def main() -> None:
    runtime = await app.start("auth", store.outbox)
    signer = tokens.TokenSigner.from_file(runtime.config.signing_key_file)
    # Hashing is slow by design: two at a time per instance, a few more may wait, the rest
    # are refused at once (RESOURCE_EXHAUSTED) instead of queuing into time-outs.
    hashing = BoundedExecutor(
        workers=int(os.environ.get("AUTOSALON_AUTH_HASH_WORKERS", "2")),
        max_waiting=int(os.environ.get("AUTOSALON_AUTH_HASH_QUEUE", "16")),
        name="password-hashing",
    )
    handlers = AuthHandlers(
        runtime.database,
        signer,
        hashing,
        access_ttl=timedelta(seconds=runtime.config.access_token_ttl_seconds),
        refresh_ttl=timedelta(days=int(os.environ.get("AUTOSALON_REFRESH_TOKEN_DAYS", "30"))),
    )

    async def own_jwks() -> dict:
        return signer.jwks()

    service = runtime.service
    # auth verifies tokens with its own keys rather than asking itself over the network.
    service.verifier = TokenVerifier(own_jwks, runtime.accounts)
    service.add_service(
        AuthApi(handlers),
        auth_pb2.DESCRIPTOR.services_by_name["AuthService"],
        ACCESS,
    )
    service.add_background(lambda: evict_changed_users(runtime.bus, handlers.users))
    service.on_stop(lambda: asyncio.to_thread(hashing.shutdown))
    await service.run()


if __name__ == "__main__":
    server.run(main)
