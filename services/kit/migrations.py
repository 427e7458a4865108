"""Alembic migrations, one history per service: services/<service>/migrations/*.py.

The environment (alembic/env.py) is shared; each service keeps only its version files.
"""
import pathlib

from alembic import command
from alembic.config import Config

_KIT = pathlib.Path(__file__).parent
_SERVICES = _KIT.parent


def config(service: str, url: str) -> Config:
    alembic_config = Config()
    alembic_config.set_main_option("path_separator", "os")
    alembic_config.set_main_option("script_location", str(_KIT / "alembic"))
    alembic_config.set_main_option("version_locations", str(_SERVICES / service / "migrations"))
    alembic_config.set_main_option("sqlalchemy.url", url)
    return alembic_config


def upgrade(service: str, url: str) -> None:
    command.upgrade(config(service, url), "head")
