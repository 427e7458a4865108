"""The connection to NATS JetStream that carries domain events, one stream per publishing
service (`autosalon.<service>.>`). The outbox (kit.outbox, kit.relay) publishes into it;
consumers (kit.consumers) and followers (kit.followers) read from it."""
import asyncio
import logging

import nats
import nats.errors
import nats.js.errors
from nats.js.api import StreamConfig

from autosalon.common.v1 import common_pb2

from .subjects import stream_name

log = logging.getLogger(__name__)


def payload(envelope: common_pb2.EventEnvelope, message_class):
    """The event's protobuf payload, as the given message class."""
    message = message_class()
    envelope.data.Unpack(message)
    return message


class Bus:
    """`url` names one server, or a cluster's separated by commas: they are tried in that
    order (the first is the one near this process), and the client fails over to the others.
    `login` is (user, password), empty for a server without users. A user's request replies
    come to inboxes of its own (`_INBOX.<user>.`), the only ones it may read. `replicas`: how
    many servers of the cluster keep each stream this process creates."""

    def __init__(self, url: str, retention_days: int = 30, login: tuple[str, str] = ("", ""),
                 replicas: int = 1):
        self._servers = [server.strip() for server in url.split(",") if server.strip()]
        self._login = login
        self._retention_days = retention_days
        self.replicas = replicas
        self.nc: nats.NATS | None = None
        self.js = None
        self._trouble_reported = False
        # Counted for the followers of a stream, whose server-side consumers may be gone.
        self.reconnects = 0

    async def connect(self) -> None:
        user, password = self._login
        identity = {"user": user, "password": password, "inbox_prefix": f"_INBOX.{user}"} if user else {}
        self.nc = await nats.connect(
            self._servers, name=user or "autosalon", **identity, dont_randomize=True,
            max_reconnect_attempts=-1, reconnect_time_wait=0.5,
            error_cb=self._on_error, disconnected_cb=self._on_disconnect,
            reconnected_cb=self._on_reconnect,
        )
        self.js = self.nc.jetstream()

    # While NATS is away the client retries twice a second: one line says so (nats-py's default
    # is a traceback a retry), and one says when it is back.
    def _report_trouble(self, what: str) -> None:
        if not self._trouble_reported:
            self._trouble_reported = True
            log.warning("nats: %s; reconnecting", what)

    async def _on_error(self, error: Exception) -> None:
        self._report_trouble(f"{type(error).__name__}: {error}")

    async def _on_disconnect(self) -> None:
        if self.nc is None or not self.nc.is_closed:  # closed: our own close, at shutdown
            self._report_trouble("disconnected")

    async def _on_reconnect(self) -> None:
        self._trouble_reported = False
        self.reconnects += 1
        log.info("nats: reconnected")

    async def ensure_stream(self, service: str) -> None:
        """The stream of one publishing service, created (or updated) by that service's relay:
        no other service may."""
        config = StreamConfig(
            name=stream_name(service),
            subjects=[f"autosalon.{service}.>"],
            duplicate_window=600.0,
            max_age=self._retention_days * 86400.0,
            num_replicas=self.replicas,
        )
        try:
            await self.js.add_stream(config)
        except nats.js.errors.BadRequestError:
            await self.js.update_stream(config)

    async def close(self) -> None:
        if self.nc is not None and not self.nc.is_closed:
            await self.nc.drain()


def stop_if_cancelled() -> None:
    """For the loops that wait for messages: nats-py waits in a task of its own, and a
    cancellation landing just as a message (or the server's end of a pull) arrives can be
    lost there (Python 3.11's wait_for returns the message instead). The request stays
    counted on the task, so the loop honours it here rather than run on forever."""
    if asyncio.current_task().cancelling():
        raise asyncio.CancelledError
