"""The initial admin, created by ./scripts/up from AUTOSALON_ADMIN_EMAIL/PASSWORD, once."""
import uuid

import sqlalchemy as sa

from services.kit.db import now
from services.kit.errors import InvalidArgument
from services.kit.settings import Settings

from . import domain
from .store import users


def ensure_admin(settings: Settings) -> str:
    """Creates the admin unless a user with that email exists; says which."""
    email, password = settings.admin_email, settings.admin_password
    try:
        fields = domain.validate_registration(email, password, password, "Administrator", "")
    except InvalidArgument as error:
        problems = "; ".join(f"{field} {problem}" for field, problem in error.violations)
        raise SystemExit(f"AUTOSALON_ADMIN_EMAIL/PASSWORD rejected: {problems}") from None
    engine = sa.create_engine(settings.database_url("auth"), poolclass=sa.NullPool)
    try:
        with engine.begin() as connection:
            email_lower = domain.normalize_email(fields.email)
            exists = connection.execute(
                sa.select(users.c.id).where(users.c.email_lower == email_lower)
            ).first()
            if exists:
                return "initial admin present"
            created = now()
            connection.execute(
                users.insert().values(
                    id=uuid.uuid4(), email=fields.email, email_lower=email_lower,
                    full_name="Administrator", phone="", role=domain.Role.ADMIN.value, active=True,
                    password_hash=domain.hash_password(password), created_at=created,
                    updated_at=created,
                )
            )
            return f"initial admin {fields.email} created"
    finally:
        engine.dispose()
