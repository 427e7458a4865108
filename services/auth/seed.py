"""The initial admin, created by ./scripts/up from AUTOSALON_ADMIN_EMAIL/PASSWORD, once."""
import os
import uuid

import sqlalchemy as sa

from services.kit.db import now
from services.kit.errors import InvalidArgument

from . import domain
from .store import users

DEFAULT_ADMIN_EMAIL = "admin@autosalon.local"
DEFAULT_ADMIN_PASSWORD = "Showroom-Keys-2026"


def admin_credentials() -> tuple[str, str]:
    return (
        os.environ.get("AUTOSALON_ADMIN_EMAIL", DEFAULT_ADMIN_EMAIL),
        os.environ.get("AUTOSALON_ADMIN_PASSWORD", DEFAULT_ADMIN_PASSWORD),
    )


def ensure_admin(database_url: str) -> bool:
    """Creates the admin unless a user with that email exists; True when it created one."""
    email, password = admin_credentials()
    try:
        fields = domain.validate_registration(email, password, password, "Administrator", "")
    except InvalidArgument as error:
        problems = "; ".join(f"{field} {problem}" for field, problem in error.violations)
        raise SystemExit(f"AUTOSALON_ADMIN_EMAIL/PASSWORD rejected: {problems}") from None
    engine = sa.create_engine(database_url, poolclass=sa.NullPool)
    try:
        with engine.begin() as connection:
            email_lower = domain.normalize_email(fields.email)
            exists = connection.execute(
                sa.select(users.c.id).where(users.c.email_lower == email_lower)
            ).first()
            if exists:
                return False
            created = now()
            connection.execute(
                users.insert().values(
                    id=uuid.uuid4(), email=fields.email, email_lower=email_lower,
                    full_name="Administrator", phone="", role=domain.Role.ADMIN.value, active=True,
                    password_hash=domain.hash_password(password), created_at=created,
                    updated_at=created,
                )
            )
            return True
    finally:
        engine.dispose()
