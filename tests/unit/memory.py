"""An in-memory stand-in for a service's Database, for fast tests of handlers with real
branching: its units of work hand out the repository a test gives them and keep the events
emitted, as kit.db's do, without PostgreSQL. What the statements do is tested against the
real PostgreSQL in tests/integration."""
import contextlib
from dataclasses import dataclass, field

from services.kit.db import now
from services.kit.outbox import outbox_row


@dataclass
class MemoryUnitOfWork:
    repository: object
    service: str
    read_only: bool
    emitted: list = field(default_factory=list)

    async def emit(self, entity_event: str, subject: str, data) -> None:
        self.emitted.append((entity_event, subject, data))

    def outbox_row(self, entity_event: str, subject: str, data) -> dict:
        if self.read_only:
            raise RuntimeError("a reading unit of work cannot emit events")
        return outbox_row(self.service, entity_event, subject, data, now())

    def written(self, row: dict, seq: int) -> None:
        self.emitted.append((row["subject"].removeprefix(f"autosalon.{self.service}."), seq))


class MemoryDatabase:
    """`committed` holds what each unit of work that ended without an error emitted."""

    def __init__(self, repository, service: str = "test"):
        self.repository = repository
        self.service = service
        self.committed: list = []

    @contextlib.asynccontextmanager
    async def _unit(self, read_only: bool):
        uow = MemoryUnitOfWork(self.repository, self.service, read_only)
        yield uow
        self.committed.extend(uow.emitted)

    def unit_of_work(self):
        return self._unit(read_only=False)

    def reading(self):
        return self._unit(read_only=True)
