"""overview's tables: only the event tables every service has (it keeps nothing of its own)."""
import sqlalchemy as sa

from services.kit.outbox import event_tables
from services.kit.pool import Connection

metadata = sa.MetaData()
outbox, consumed_events = event_tables(metadata)


class OverviewRepository:
    def __init__(self, connection: Connection):
        self.connection = connection
