"""auth's composition root: wires the runtime, hashing and the API, then serves."""
import asyncio
from datetime import timedelta

from autosalon.auth.v1 import auth_pb2
from services.kit import runtime, server
from services.kit.protos import resource_id
from services.kit.workers import BoundedExecutor
from services.peers import auth

from . import SERVICE, domain, store, tokens
from .api import ACCESS, AuthApi
from .handlers import AuthHandlers


async def main() -> None:
    service = await runtime.start(SERVICE, store.outbox, store.AuthRepository, auth.TRUST)
    signer = tokens.TokenSigner.from_file(service.config.signing_key_path)
    hashing = BoundedExecutor(service.settings.hash_workers, service.settings.hash_queue, "password-hashing")
    handlers = AuthHandlers(
        service.database, signer, hashing,
        access_ttl=timedelta(seconds=service.config.access_token_ttl_seconds),
        refresh_ttl=timedelta(days=service.settings.refresh_token_days),
        link_ttl={domain.EMAIL_VERIFICATION: timedelta(hours=service.settings.verification_link_hours),
                  domain.PASSWORD_RESET: timedelta(minutes=service.settings.reset_link_minutes)},
    )

    async def own_jwks() -> dict:
        return signer.jwks()

    # auth verifies tokens with its own keys rather than asking itself over the network.
    service.verify_with(own_jwks)
    service.serve(AuthApi(handlers), auth_pb2.DESCRIPTOR.services_by_name["AuthService"], ACCESS)
    # Another instance changed a user: the one kept here is stale.
    service.hear("autosalon.auth.user.>", lambda envelope: handlers.users.evict(resource_id(envelope.subject, "users")))
    service.on_stop(lambda: asyncio.to_thread(hashing.shutdown))
    await service.run()


if __name__ == "__main__":
    server.run(main)
