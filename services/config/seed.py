"""What ./scripts/up writes into config's database before the mesh starts: every service's hot
settings as its manifest declares them now, and a first branch for a new installation."""
import sqlalchemy as sa

from services.kit.db import now
from services.kit.live_settings import declarations
from services.kit.manifest import every_service
from services.kit.settings import Settings

from .store import branches, declaring

# A new installation's showroom, until an admin describes the real ones.
FIRST_BRANCH = {
    "id": "moscow-central", "display_name": "Autosalon Moscow Central",
    "address": "Moscow, Leningradsky prospekt 39", "time_zone": "Europe/Moscow",
    "hours": [{"weekday": day, "opens": "09:00", "closes": "20:00"}
              for day in ("monday", "tuesday", "wednesday", "thursday", "friday")]
    + [{"weekday": "saturday", "opens": "10:00", "closes": "18:00"}],
    "days_off": ["2027-01-01", "2027-01-02", "2027-01-07"],
}


def declare_and_open(settings: Settings) -> str:
    """Says how many hot settings the services declare, and whether the first branch was made."""
    at = now()
    engine = sa.create_engine(settings.database_url("config"), poolclass=sa.NullPool)
    try:
        with engine.begin() as connection:
            declared = 0
            for name, manifest in every_service().items():
                hot = declarations(name, manifest.settings)
                declared += len(hot)
                for statement in declaring(name, hot, at):
                    connection.execute(statement)
            opened = ""
            if connection.execute(sa.select(sa.func.count()).select_from(branches)).scalar_one() == 0:
                connection.execute(branches.insert().values(
                    **FIRST_BRANCH, active=True, version=1, created_at=at, updated_at=at, created_by="",
                    updated_by=""))
                opened = f", branches/{FIRST_BRANCH['id']} opened"
        return f"{declared} hot settings declared{opened}"
    finally:
        engine.dispose()
