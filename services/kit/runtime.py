"""A service's runtime: settings, database, bus, Consul, peers and the gRPC server, wired once
here so that a service's main.py says only what is its own.

    runtime = await start(SERVICE, store.outbox, store.Repository, auth.TRUST)
    handlers = Handlers(runtime.database, runtime.settings)
    runtime.serve(Api(handlers), descriptor, ACCESS)     # every RPC with its access rule
    runtime.consume("saga", events.routes(handlers))     # a durable consumer of declared routes
    runtime.hear("autosalon.catalog.>", forget)          # every instance hears every event
    runtime.every(5, handlers.release_expired, "the reservation sweep")
    runtime.every(5, handlers.check_waiting, "the credit checks", alone=True)  # one instance at a time
    await runtime.run()

Every service also gets, without asking: its outbox relayed, its event tables pruned, and the
account changes that revoke access tokens early (the `Trust` it is started with).
"""
import asyncio
import functools
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Awaitable, Callable, Generic

import sqlalchemy as sa
from google.protobuf.descriptor import ServiceDescriptor

from mesh.v1 import stats_pb2

from . import exclusive, followers, identity, live_settings, logs, metrics, relay, settings, tracing
from .bus import Bus
from .calls import Peers
from .consumers import Routes, consume
from .db import Database, R
from .failures import report_failure
from .live_settings import LiveSettings
from .log_shipping import LogShipper
from .manifest import Service
from .pool import Connection
from .registry import Consul, Discovery
from .server import Microservice
from .stats import StatsServicer

log = logging.getLogger(__name__)
# How often the metrics that are asked rather than counted (a backlog, a consumer's lag) are.
METRICS_EVERY_SECONDS = 5.0


@dataclass
class Runtime(Generic[R]):
    manifest: Service
    # The mesh's settings, and the service's own as they are now (None when it declares none):
    # its hot ones change while it runs (kit.live_settings), so read them where they are used.
    config: settings.Settings
    settings: LiveSettings | None
    database: Database[R]
    bus: Bus
    consul: Consul
    peers: Peers
    service: Microservice
    accounts: identity.AccountStates

    def serve(self, servicer: Any, descriptor: ServiceDescriptor, rules: identity.AccessRules) -> None:
        """Serves a gRPC API, every method under its access rule (kit.server)."""
        self.service.add_service(servicer, descriptor, rules)

    def consume(self, durable: str, routes: Routes, positions: sa.Table | None = None) -> None:
        """Applies every event on the routes once, as the durable consumer `durable` (keeping its
        position in its stream in `positions`, a kit.consumers.positions_table, when given)."""
        self.service.add_background(lambda: consume(self.database, self.bus, durable, routes, positions=positions))

    def hear(self, subject: str, callback: Callable[[Any], None]) -> None:
        """Calls `callback(envelope)` in this instance for every event on `subject` from now on."""
        self.service.add_background(lambda: followers.on_every_event(self.bus, subject, callback))

    def every(self, seconds: float | Callable[[], float], task: Callable[[], Awaitable[Any]], what: str,
              alone: bool = False) -> None:
        """Runs `task` every `seconds` for the life of the service (see `repeat`); a function
        for `seconds` is asked before each pause (a hot setting). Each instance runs its own
        passes, so a pass must claim the rows it works on; with `alone`, a pass runs in one
        instance at a time instead, and an instance finding another's running skips its turn
        (kit.exclusive, keyed by `what`)."""
        if alone:
            task = functools.partial(exclusive.alone, self.database, what, task)
        self.service.add_background(lambda: repeat(task, seconds, what))

    def verify_with(self, keys: Callable[[], Awaitable[dict]]) -> None:
        """Verifies access tokens against these keys instead of asking auth for them."""
        self.service.verifier = identity.TokenVerifier(keys, self.accounts)

    def on_stop(self, close: Callable[[], Awaitable[None]]) -> None:
        self.service.on_stop(close)

    async def run(self) -> None:
        await self.service.run()


async def repeat(task: Callable[[], Awaitable[Any]], every_seconds: float | Callable[[], float], what: str) -> None:
    """Runs `task` for the life of the service: again at once while it says more is waiting
    (returns something true, such as how many it handled of a full batch), otherwise after
    `every_seconds`; a pass that fails is reported and tried again after the pause."""
    while True:
        try:
            if await task():
                continue
        except asyncio.CancelledError:
            raise
        except Exception as error:
            report_failure(log, f"{what} failed; trying again", error)
        await asyncio.sleep(every_seconds() if callable(every_seconds) else every_seconds)


async def start(manifest: Service, outbox: sa.Table, repository: Callable[[Connection], R],
                trust: identity.Trust) -> Runtime[R]:
    """The runtime of `manifest`'s service, its settings read and its connections open."""
    logs.configure(manifest.name)
    shipper = LogShipper(manifest.name)
    logging.getLogger().addHandler(shipper)
    config = settings.load()
    tracing.install(shipper, config.trace_percent)
    metrics.enabled = config.metrics
    own = LiveSettings(manifest.name, settings.load(manifest.settings)) if manifest.settings is not None else None
    database = Database(config.database_url(manifest.name), manifest.name, outbox, repository)
    events = Bus(config.nats_url, config.event_retention_days, config.nats_login, config.nats_replicas)
    await events.connect()
    consul = Consul(config.consul_addr, config.consul_acl_token)
    discovery = Discovery(consul)
    peers = Peers(discovery)
    service = Microservice(manifest.name, consul, config.bind_host, config.advertised_host, config.port)
    accounts = identity.AccountStates()
    service.verifier = identity.TokenVerifier(trust.keys(peers), accounts)
    # Account changes as old as the oldest access token still out, then every new one.
    service.add_background(lambda: followers.follow_from(
        events, trust.account_changes, timedelta(seconds=config.access_token_ttl_seconds),
        lambda envelope: accounts.heard(*trust.account(envelope))))
    service.add_background(lambda: relay.relay_outbox(database, events))
    service.add_background(lambda: shipper.ship(events))
    if own is not None and own.hot:
        await live_settings.read_stored(events, own)
        service.add_background(lambda: live_settings.follow(events, own))
    stats = StatsServicer(manifest.name, database, service.calls)
    service.add_service(stats, stats_pb2.DESCRIPTOR.services_by_name["StatsService"], {"GetStats": identity.PUBLIC})
    if config.metrics:
        metrics.read_when_scraped("autosalon_db_connections", "The database pool's connections", ["state"],
                                  database.pool.usage)
        metrics.read_when_scraped("autosalon_log_records_dropped", "Log records dropped since the start", [],
                                  lambda: [([], shipper.dropped)])
        service.meta["metrics_port"] = str(metrics.serve(config.bind_host, config.metrics_port))
        service.add_background(lambda: repeat(lambda: metrics.refresh(stats.events_waiting), METRICS_EVERY_SECONDS,
                                               "refreshing the metrics"))
    retention = timedelta(days=config.event_retention_days)
    service.add_background(lambda: repeat(
        lambda: relay.prune_expired(database, retention), 3600, "pruning the event tables"))
    for close in (consul.close, discovery.close, peers.close, events.close, database.close):
        service.on_stop(close)
    return Runtime(manifest, config, own, database, events, consul, peers, service, accounts)
